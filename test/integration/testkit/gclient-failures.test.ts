/**
 * The real gclient's failure modes (CHROMIUM.md, "How the real gclient behaves"), each
 * reproduced by the fake so the pipeline can be tested against them.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { cachedUpstream, TAG_150, TAG_152, type UpstreamInfo } from '../../../testkit/build.js';
import {
  copyWorkspace,
  createWorkspace,
  head,
  removeTempDirs,
  run,
  syncArgs,
  waitForOutput,
  type Workspace,
} from '../../../testkit/helpers.js';
import { startUpstreamServer, type UpstreamServer } from '../../../testkit/server.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const QUICHE = 'src/net/third_party/quiche/src';
const MISSING = 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef';

let info: UpstreamInfo;
let server: UpstreamServer;
let at150: Workspace;
let at152: Workspace;

beforeAll(async () => {
  info = await cachedUpstream();
  server = await startUpstreamServer({ reposDir: info.reposDir });
  at150 = await createWorkspace({ baseUrl: server.baseUrl, info });
  at152 = await createWorkspace({ baseUrl: server.baseUrl, info });
  for (const [ws, tag] of [
    [at150, TAG_150],
    [at152, TAG_152],
  ] as const) {
    const result = await ws.gclient(syncArgs(tag));
    if (result.exitCode !== 0) throw new Error(`template sync failed:\n${result.all}`);
  }
});

afterEach(() => server.faults.reset());

afterAll(async () => {
  await server?.close();
  await removeTempDirs();
});

/** A copy of the 152 workspace whose quiche was never cloned. */
async function withoutQuiche(): Promise<Workspace> {
  const ws = await copyWorkspace(at152);
  await rm(ws.quiche, { recursive: true, force: true });
  return ws;
}

async function checkedOutFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name !== '.git');
}

describe('a first clone that did not finish', () => {
  test('killed during the first clone of quiche: the rerun exits 0 and leaves quiche empty, even with --reset --force', async () => {
    const ws = await withoutQuiche();
    const child = ws.spawnGclient(syncArgs(TAG_152), { env: { FAKE_GCLIENT_PAUSE_IN_CLONE: QUICHE } });
    await waitForOutput(child, `paused in first clone of ${QUICHE}`);
    child.kill('SIGKILL');
    await child;

    const rerun = await ws.gclient(syncArgs(TAG_152, '--reset', '--force'));
    expect(rerun.exitCode, rerun.all).toBe(0);
    expect(existsSync(join(ws.quiche, '.git'))).toBe(true);
    expect(await checkedOutFiles(ws.quiche)).toEqual([]);
    expect(await head(ws.src)).toBe(info.tags[TAG_152].srcCommit);
  });

  test('revinfo --actual and status exit 1 for the empty dep; deleting it and syncing again fixes it', async () => {
    const ws = await withoutQuiche();
    const child = ws.spawnGclient(syncArgs(TAG_152), { env: { FAKE_GCLIENT_PAUSE_IN_CLONE: QUICHE } });
    await waitForOutput(child, `paused in first clone of ${QUICHE}`);
    child.kill('SIGKILL');
    await child;
    expect((await ws.gclient(syncArgs(TAG_152))).exitCode).toBe(0);

    expect((await ws.gclient(['revinfo', '--actual'])).exitCode).toBe(1);
    expect((await ws.gclient(['status'])).exitCode).toBe(1);

    await rm(ws.quiche, { recursive: true, force: true });
    const fixed = await ws.gclient(syncArgs(TAG_152));
    expect(fixed.exitCode, fixed.all).toBe(0);
    expect(await head(ws.quiche)).toBe(info.tags[TAG_152].quicheRevision);
    expect((await ws.gclient(['revinfo', '--actual'])).exitCode).toBe(0);
  });

  test('killed during a full (history) first clone: the rerun exits 0 and leaves quiche at its default branch', async () => {
    const ws = await withoutQuiche();
    const args = ['sync', '--nohooks', '-D', '-r', `src@refs/tags/${TAG_152}`, '--ignore-dep-type=cipd'];
    const child = ws.spawnGclient(args, { env: { FAKE_GCLIENT_PAUSE_IN_CLONE: QUICHE } });
    await waitForOutput(child, `paused in first clone of ${QUICHE}`);
    child.kill('SIGKILL');
    await child;
    const rerun = await ws.gclient([...args, '--reset', '--force']);
    expect(rerun.exitCode, rerun.all).toBe(0);
    expect(await head(ws.quiche)).toBe(info.quicheCommits.at(-1));
    expect(await head(ws.quiche)).not.toBe(info.tags[TAG_152].quicheRevision);
  });

  test('a first clone of a missing revision fails with exit 1 after retries; the next sync exits 0 with the dep empty', async () => {
    const ws = await withoutQuiche();
    const spec = join(ws.root, '.gclient');
    await writeFile(
      spec,
      (await readFile(spec, 'utf8')).replace('"custom_vars": {', `"custom_vars": {\n    "quiche_revision": "${MISSING}",`),
    );
    const failed = await ws.gclient(syncArgs(TAG_152));
    expect(failed.exitCode).toBe(1);
    expect(failed.all).toContain('will retry after a short nap');
    expect(failed.all).toContain(`not our ref ${MISSING}`);

    const gclientFile = join(ws.root, '.gclient');
    await writeFile(gclientFile, (await readFile(gclientFile, 'utf8')).replace(`"quiche_revision": "${MISSING}",`, ''));
    const next = await ws.gclient(syncArgs(TAG_152));
    expect(next.exitCode, next.all).toBe(0);
    expect(await checkedOutFiles(ws.quiche)).toEqual([]);
  });
});

describe('dirty trees', () => {
  test('refuses to move a dirty dep: exit 1, "You have uncommitted changes"', async () => {
    const ws = await copyWorkspace(at150);
    const file = join(ws.quiche, 'quiche/quic/tools/quic_toy_client.cc');
    await writeFile(file, `${await readFile(file, 'utf8')}// local edit\n`);
    const result = await ws.gclient(syncArgs(TAG_152));
    expect(result.exitCode).toBe(1);
    expect(result.all).toContain('You have uncommitted changes');
    expect(await head(ws.quiche)).toBe(info.tags[TAG_150].quicheRevision);
  });

  test('keeps edits in a dirty dep whose pin did not change, and exits 0', async () => {
    const ws = await copyWorkspace(at152);
    const file = join(ws.quiche, 'quiche/quic/tools/quic_toy_client.cc');
    const edited = `${await readFile(file, 'utf8')}// patched\n`;
    await writeFile(file, edited);
    const result = await ws.gclient(syncArgs(TAG_152));
    expect(result.exitCode, result.all).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(edited);
  });

  test('untracked files survive --reset --force; only --reset --force -D removes them', async () => {
    const ws = await copyWorkspace(at152);
    const untracked = join(ws.quiche, 'quiche/quic/tools/new_file.cc');
    await writeFile(untracked, '// untracked\n');
    const args = ['sync', '--no-history', '--nohooks', '-r', `src@refs/tags/${TAG_152}`, '--ignore-dep-type=cipd'];
    expect((await ws.gclient([...args, '--reset', '--force'])).exitCode).toBe(0);
    expect(existsSync(untracked)).toBe(true);
    expect((await ws.gclient([...args, '--reset', '--force', '-D'])).exitCode).toBe(0);
    expect(existsSync(untracked)).toBe(false);
  });

  test('a stale .git/index.lock stops the sync: exit 1, "Your repo is locked"', async () => {
    const ws = await copyWorkspace(at150);
    await writeFile(join(ws.quiche, '.git/index.lock'), '');
    const result = await ws.gclient(syncArgs(TAG_152));
    expect(result.exitCode).toBe(1);
    expect(result.all).toContain('Your repo is locked');
    expect(existsSync(join(ws.quiche, '.git/index.lock'))).toBe(true);
  });
});

describe('exit codes', () => {
  test("a missing tag exits 1 after gclient's own retries", async () => {
    const ws = await withoutQuiche();
    const result = await ws.gclient(syncArgs('999.0.0.0'));
    expect(result.exitCode).toBe(1);
    expect(result.all.match(/will retry after a short nap/g)?.length).toBe(3);
    expect(result.all).toContain("couldn't find remote ref refs/tags/999.0.0.0");
  });

  test('the missing-revision retries honour FAKE_GCLIENT_RETRIES and FAKE_GCLIENT_RETRY_SLEEP', async () => {
    const ws = await withoutQuiche();
    const started = Date.now();
    const result = await ws.gclient(syncArgs('999.0.0.0'), { env: { FAKE_GCLIENT_RETRIES: '1', FAKE_GCLIENT_RETRY_SLEEP: '0.5' } });
    expect(result.exitCode).toBe(1);
    expect(result.all.match(/will retry after a short nap/g)?.length).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
  });

  test('a failing hook exits 2', async () => {
    const ws = await copyWorkspace(at152);
    await rm(join(ws.src, 'build/util/lastchange.py'));
    const result = await ws.gclient(['runhooks']);
    expect(result.exitCode).toBe(2);
    expect(result.all).toContain('returned non-zero exit status');
  });

  test('SIGINT exits 130', async () => {
    const ws = await withoutQuiche();
    const child = ws.spawnGclient(syncArgs(TAG_152), { env: { FAKE_GCLIENT_PAUSE_IN_CLONE: QUICHE } });
    await waitForOutput(child, `paused in first clone of ${QUICHE}`);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
  });
});

describe('network failures', () => {
  test('a transient HTTP 500 is retried after a short nap and the sync succeeds', async () => {
    const ws = await copyWorkspace(at150);
    server.faults.failNext(1, { pathContains: '/quiche.git/' });
    const result = await ws.gclient(syncArgs(TAG_152));
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain('The requested URL returned error: 500');
    expect(result.all).toContain('will retry after a short nap');
    expect(await head(ws.quiche)).toBe(info.tags[TAG_152].quicheRevision);
  });

  test("a lasting HTTP 503 exits 1 after the retries, with git's message", async () => {
    const ws = await copyWorkspace(at150);
    server.faults.failNext(1000, { status: 503, pathContains: '/quiche.git/' });
    const result = await ws.gclient(syncArgs(TAG_152));
    expect(result.exitCode).toBe(1);
    expect(result.all).toContain('The requested URL returned error: 503');
    expect(result.all.match(/will retry after a short nap/g)?.length).toBe(3);
  });

  test("a connection reset mid-pack shows git's RPC failed / early EOF messages and is retried", async () => {
    const ws = await withoutQuiche();
    server.faults.cutNext(100, { pathContains: '/quiche.git/git-upload-pack', count: 1000 });
    const result = await ws.gclient(syncArgs(TAG_152));
    expect(result.exitCode).toBe(1);
    expect(result.all).toMatch(/RPC failed|early EOF|unexpected disconnect/);
    expect(result.all).toContain('curl 56');
    expect(result.all).toContain('will retry after a short nap');
  });
});

describe('depot_tools environment', () => {
  test('without VPYTHON_BYPASS every gclient call fails bootstrapping CIPD', async () => {
    const env = { ...at152.env, VPYTHON_BYPASS: undefined };
    const result = await run(join(at152.depotTools, 'gclient'), ['revinfo'], { cwd: at152.root, env });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('Bootstrapping cipd client');
    expect(result.stderr).toContain('chrome-infra-packages.appspot.com');
  });

  test('a CIPD dep whose condition is true fails the sync without --ignore-dep-type=cipd', async () => {
    const ws = await copyWorkspace(at152);
    const result = await ws.gclient(['sync', '--no-history', '--nohooks', '-r', `src@refs/tags/${TAG_152}`]);
    expect(result.exitCode).toBe(1);
    expect(result.all).toContain('cipd ensure');
    expect(result.all).toContain('gn/gn/linux-${arch}@git_revision:');
  });

  test('the CIPD and GCS deps switched off by their conditions are skipped', async () => {
    const result = await at152.gclient(['revinfo']);
    expect(result.stdout).not.toContain('aapt2');
    expect(result.stdout).not.toContain('arm64-sysroot');
    expect(result.stdout).toContain('src/buildtools/linux64:gn/gn/linux-${arch}');
  });

  test('self-update moves depot_tools to origin/main unless DEPOT_TOOLS_UPDATE=0 or .disable_auto_update', async () => {
    const pinned = info.tags[TAG_152].depotToolsRevision;
    const ws = await createWorkspace({ baseUrl: server.baseUrl, info, depotToolsRevision: pinned });
    const gclient = join(ws.depotTools, 'gclient');

    await run(gclient, ['revinfo'], { cwd: ws.dir, env: { ...ws.env, DEPOT_TOOLS_UPDATE: '0' } });
    expect(await head(ws.depotTools)).toBe(pinned);

    await writeFile(join(ws.depotTools, '.disable_auto_update'), '');
    await run(gclient, ['revinfo'], { cwd: ws.dir, env: { ...ws.env, DEPOT_TOOLS_UPDATE: undefined } });
    expect(await head(ws.depotTools)).toBe(pinned);

    await rm(join(ws.depotTools, '.disable_auto_update'));
    await run(gclient, ['revinfo'], { cwd: ws.dir, env: { ...ws.env, DEPOT_TOOLS_UPDATE: undefined } });
    expect(await head(ws.depotTools)).toBe(info.depotToolsCommits.at(-1));
    expect(info.depotToolsCommits.at(-1)).not.toBe(pinned);
  });
});
