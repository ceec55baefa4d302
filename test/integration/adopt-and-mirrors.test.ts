import { execFileSync } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headCommit } from '../../src/tools/git.js';
import { isBuildQuicheError } from '../../src/errors.js';
import { startUpstreamServer, type UpstreamServer } from '../../testkit/server.js';
import { offlineConfig, resolved, runBuild, startWorld, TAG_150, TAG_152, workspace, type World } from '../../testkit/world.js';

const QUICHE = 'src/net/third_party/quiche/src';
let world: World;
let ws: { dir: string; remove(): Promise<void> };
/** A user's existing gclient root, made once by a normal checkout in another cache. */
let existing: string;

beforeAll(async () => {
  world = await startWorld();
  ws = await workspace('bq-adopt-');
  const setup = path.join(ws.dir, 'setup');
  const run = await runBuild(await resolved(offlineConfig(world.server.baseUrl, setup), setup), { until: 'checkout' });
  if (run.error) throw run.error;
  existing = path.join(setup, 'cache', 'chromium');
});
afterAll(async () => {
  await ws?.remove();
  await world?.close();
});

const adoptConfig = (name: string, extra: Parameters<typeof offlineConfig>[2] = {}) =>
  offlineConfig(world.server.baseUrl, path.join(ws.dir, name), { checkout: { srcDir: existing }, ...extra });

describe('adopting an existing checkout (checkout.srcDir / --src-dir)', () => {
  it('uses a checkout already at the pin without syncing or rewriting .gclient', async () => {
    const gclientBefore = await stat(path.join(existing, '.gclient'));
    const run = await runBuild(await resolved(adoptConfig('a1'), path.join(ws.dir, 'a1')), { until: 'checkout' });
    expect(run.error).toBeUndefined();
    expect(run.notes.join('\n')).toMatch(/already at 152\.0\.7977\.83; no sync needed/);
    const start = run.events.find((e) => e.type === 'run-start');
    const log = await readFile(path.join(start?.type === 'run-start' ? start.logDir : '', 'checkout.log'), 'utf8');
    expect(log).toContain('$ gclient runhooks');
    expect(log).not.toContain('gclient sync');
    expect((await stat(path.join(existing, '.gclient'))).mtimeMs).toBe(gclientBefore.mtimeMs);
  });

  it('refuses to move a checkout at another pin unless allowed, touching nothing', async () => {
    const run = await runBuild(await resolved(adoptConfig('a2', { chromium: { version: TAG_150 } }), path.join(ws.dir, 'a2')), {
      until: 'checkout',
    });
    expect(isBuildQuicheError(run.error) && run.error.exitCode).toBe(2);
    expect((run.error as Error).message).toMatch(/is not at 150\.0\.7871\.114/);
    expect((run.error as { hint?: string }).hint).toMatch(/allowMoveExisting|--move-existing/);
    expect(await headCommit(path.join(existing, 'src'))).toBe(world.upstream.tags[TAG_152].srcCommit);
  });

  it("moves it when allowed, keeping the user's untracked work", async () => {
    const notes = path.join(existing, 'src', 'my-notes.txt');
    await writeFile(notes, 'mine');
    const config = adoptConfig('a3', { chromium: { version: TAG_150 }, checkout: { srcDir: existing, allowMoveExisting: true } });
    const run = await runBuild(await resolved(config, path.join(ws.dir, 'a3')), { until: 'checkout' });
    expect(run.error).toBeUndefined();
    expect(await headCommit(path.join(existing, QUICHE))).toBe(world.upstream.tags[TAG_150].quicheRevision);
    expect(await readFile(notes, 'utf8')).toBe('mine');
  });
});

describe('mirrors', () => {
  let mirror: UpstreamServer;
  beforeAll(async () => {
    // Another set of repositories at other URL paths, as a mirror would have them.
    const root = path.join(ws.dir, 'mirror-repos');
    const copy = (from: string, to: string) => {
      execFileSync('git', ['clone', '--quiet', '--mirror', from, path.join(root, to)]);
      execFileSync('git', ['-C', path.join(root, to), 'config', 'uploadpack.allowAnySHA1InWant', 'true']);
      execFileSync('git', ['-C', path.join(root, to), 'config', 'http.receivepack', 'false']);
    };
    await mkdir(root, { recursive: true });
    copy(world.upstream.repos.src, 'cr/chromium/src.git');
    copy(world.upstream.repos.depotTools, 'cr/chromium/tools/depot_tools.git');
    copy(world.upstream.repos.quiche, 'qm/quiche.git');
    mirror = await startUpstreamServer({ reposDir: root });
  });
  afterAll(async () => mirror?.close());

  it('runs the source stages unchanged against other repositories, reading DEPS through git when gitiles is off', async () => {
    const dir = path.join(ws.dir, 'm1');
    const base = mirror.baseUrl;
    const config = offlineConfig(base, dir, {
      chromium: { srcUrl: `${base}/cr/chromium/src.git`, gitiles: 'off' },
      depotTools: { url: `${base}/cr/chromium/tools/depot_tools.git` },
      gclient: { customVars: { chromium_git: `${base}/cr`, quiche_git: `${base}/qm` } },
    });
    const run = await runBuild(await resolved(config, dir), { until: 'checkout' });
    expect(run.error).toBeUndefined();
    expect(mirror.requests.some((r) => r.path.includes('/+/'))).toBe(false);
    expect(await headCommit(path.join(dir, 'cache', 'chromium', QUICHE))).toBe(world.upstream.tags[TAG_152].quicheRevision);
    const gclient = await readFile(path.join(dir, 'cache', 'chromium', '.gclient'), 'utf8');
    expect(gclient).toContain(`"quiche_git": "${base}/qm"`);
  });
});
