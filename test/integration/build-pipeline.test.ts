import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headCommit } from '../../src/tools/git.js';
import { installArtifact } from '../../src/artifacts/install.js';
import type { PipelineEvent } from '../../src/engine/events.js';
import { isBuildQuicheError } from '../../src/errors.js';
import { FIXTURE_SERIES, offlineConfig, resolved, runBuild, startWorld, TAG_150, workspace, type World } from '../../testkit/world.js';

/**
 * One workspace, built once, then changed step by step the way a user would: these tests run in order.
 */
const QUICHE = 'src/net/third_party/quiche/src';
const PATCHED = [
  'quiche/quic/tools/quic_toy_client.cc',
  'quiche/quic/tools/quic_simple_server_session.cc',
  'quiche/quic/tools/quic_simple_server_session.h',
];
let world: World;
let ws: { dir: string; remove(): Promise<void> };
let quicheDir: string;

const config = (extra: Parameters<typeof offlineConfig>[2] = {}) => resolved(offlineConfig(world.server.baseUrl, ws.dir, extra), ws.dir);
const logOf = async (events: PipelineEvent[], stage: string) => {
  const start = events.find((e) => e.type === 'run-start');
  return readFile(path.join(start?.type === 'run-start' ? start.logDir : '', `${stage}.log`), 'utf8');
};
const compiledObjects = (log: string) => [...log.matchAll(/^\[\d+\/\d+\] (?:[\d.]+s )?CXX (\S+)/gm)].map((m) => m[1]!);
const mtimes = async (files: string[]) => Promise.all(files.map(async (f) => (await stat(path.join(quicheDir, f))).mtimeMs));
async function treeHash(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (d: string) => {
    for (const entry of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === '.git') continue;
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else hash.update(`${path.relative(dir, full)}\0`).update(await readFile(full));
    }
  };
  await walk(dir);
  return hash.digest('hex');
}

beforeAll(async () => {
  world = await startWorld();
  ws = await workspace('bq-build-');
  quicheDir = path.join(ws.dir, 'cache', 'chromium', QUICHE);
});
afterAll(async () => {
  await ws?.remove();
  await world?.close();
});

describe('a build, step by step', () => {
  it('patch-check stops a conflicting series before depot_tools or any gclient call', async () => {
    const run = await runBuild(await config({ patches: { series: FIXTURE_SERIES('conflict') } }));
    expect(isBuildQuicheError(run.error) && run.error.exitCode).toBe(4);
    expect((run.error as Error).message).toMatch(/0002-quic_toy_client-hint.*\n?.*quic_toy_client\.cc/s);
    expect((run.error as Error).message).toMatch(/@@ -\d+/);
    expect((run.error as Error).message).toContain('patches rebase');
    expect(existsSync(path.join(ws.dir, 'cache', 'depot_tools'))).toBe(false);
    expect(existsSync(path.join(ws.dir, 'cache', 'chromium'))).toBe(false);
  });

  it('goes from an empty cache to an installed, smoke-tested artifact', async () => {
    const run = await runBuild(await config());
    expect(run.error).toBeUndefined();
    // resolve completed in the run above (it is pure): only the rest runs now.
    expect(run.ran).toEqual([
      'patch-check',
      'reuse',
      'depot-tools',
      'checkout',
      'patch',
      'configure',
      'compile',
      'smoke',
      'package',
      'publish',
    ]);
    expect(run.notes.join('\n')).toMatch(/migration ok: \d+ migration\(s\) across 127\.0\.0\.1, 127\.0\.0\.2, 127\.0\.0\.3/);
    const installed = await installArtifact(path.join(ws.dir, 'dist'), { to: path.join(ws.dir, 'installed') });
    expect(Object.keys(installed.binaries).sort()).toEqual(['epoll_quic_client', 'epoll_quic_server', 'quic_client', 'quic_server']);
    expect(installed.manifest.patches.series.map((p) => p.file)).toHaveLength(2);
    expect(installed.manifest.inputs.quiche).toBe(world.upstream.tags['152.0.7977.83'].quicheRevision);
    expect(installed.manifest.smoke).toMatchObject({ migration: { checked: true } });
  });

  it('a second run does nothing, touches no patched file, and says so', async () => {
    const before = await mtimes(PATCHED);
    const run = await runBuild(await config());
    expect(run.error).toBeUndefined();
    expect(run.ran).toEqual([]);
    expect(await mtimes(PATCHED)).toEqual(before);
  });

  it('editing one patch rewrites only its file and recompiles only what depends on it', async () => {
    const before = await mtimes(PATCHED);
    const run = await runBuild(await config({ patches: { series: FIXTURE_SERIES('edited') } }));
    expect(run.error).toBeUndefined();
    const after = await mtimes(PATCHED);
    expect(after[0]).toBe(before[0]); // the client: same content, untouched
    expect(after[2]).toBe(before[2]); // the header: same content, untouched
    expect(after[1]).not.toBe(before[1]);
    const objects = compiledObjects(await logOf(run.events, 'compile'));
    expect(objects).toEqual(['obj/net/third_party/quiche/src/quiche/quic/tools/libquiche.quic_simple_server_session.o']);
  });

  it('a changed gn arg re-runs configure, compile, smoke and package, not the checkout', async () => {
    const run = await runBuild(await config({ patches: { series: FIXTURE_SERIES('edited') }, build: { args: { symbol_level: 1 } } }));
    expect(run.error).toBeUndefined();
    expect(run.ran).toEqual(expect.arrayContaining(['configure', 'compile', 'smoke', 'package']));
    for (const stage of ['resolve', 'patch-check', 'depot-tools', 'checkout', 'patch']) expect(run.skipped).toContain(stage);
  });

  it('a migration download that ends before the first migration is tried again, larger, and then passes', async () => {
    // 20 kB at the fixture server's 10 MB/s take 2 ms: over before the first 200 ms interval, the way
    // 20 MB are on loopback with the real binaries on an idle machine.
    const run = await runBuild(
      await config({
        patches: { series: FIXTURE_SERIES('edited') },
        build: { args: { symbol_level: 1 } },
        smoke: { responseBytes: 20_000 },
      }),
      { only: ['smoke'] },
    );
    expect(run.error).toBeUndefined();
    const notes = run.notes.join('\n');
    expect(notes).toMatch(/migration hard: the 0\.0 MB download ended after \d+ ms with 0 migration\(s\); trying again with/);
    const final = /migration hard: (\d+) of (\d+) migration\(s\) matched .* \(([\d.]+) MB\)/.exec(notes);
    expect(final, notes).not.toBeNull();
    expect(Number(final![1])).toBeGreaterThan(0);
    expect(Number(final![3]) * 1e6).toBeGreaterThan(20_000);
  });

  it("with smoke.responseBytes 'auto' the first timed download is sized from a throughput probe, and counts", async () => {
    const run = await runBuild(
      await config({
        patches: { series: FIXTURE_SERIES('edited') },
        build: { args: { symbol_level: 1 } },
        smoke: { responseBytes: 'auto' },
      }),
      { only: ['smoke'] },
    );
    expect(run.error).toBeUndefined();
    const notes = run.notes.join('\n');
    // The fixture server sends 10 MB/s: 1 MB takes 100 ms, so one probe; 2 x 200 ms x 1.5 want 6 MB.
    expect(notes).toMatch(/migration: loopback throughput \d+ MB\/s \(1\.0 MB in \d+ ms beyond start-up\); timed runs download [\d.]+ MB/);
    expect(notes).not.toMatch(/trying again/);
    expect(notes).toMatch(/migration hard: [1-9]\d* of [1-9]\d* migration\(s\) matched/);
  });

  it('a conflict in the patch stage leaves every file byte-identical', async () => {
    const before = await treeHash(quicheDir);
    const run = await runBuild(await config({ patches: { series: FIXTURE_SERIES('conflict') } }), { only: ['patch'] });
    expect(isBuildQuicheError(run.error) && run.error.exitCode).toBe(4);
    expect(await treeHash(quicheDir)).toBe(before);
    // The failed stage's guard makes the next run repair (restore to base) and re-apply.
    const next = await runBuild(await config({ patches: { series: FIXTURE_SERIES('edited') }, reuse: false }), { until: 'patch' });
    expect(next.error).toBeUndefined();
    expect(next.ran).toEqual(['patch']);
    expect(next.events.some((e) => e.type === 'stage-repair' && e.stage === 'patch')).toBe(true);
  });

  it('inputs that were built before are downloaded from the store instead of rebuilt', async () => {
    // Back to the gn args of the 'edited' build above (published to dist/store then).
    const run = await runBuild(await config({ patches: { series: FIXTURE_SERIES('edited') } }));
    expect(run.error).toBeUndefined();
    expect(run.ran).toEqual(['reuse', 'publish']);
    expect(run.notes.join('\n')).toMatch(/is in dir:.*: downloading instead of building/);
    expect(run.notes.join('\n')).toMatch(/publish: dir:.*: already there/);
    const skips = run.events.flatMap((e) => (e.type === 'stage-skip' ? [[e.stage, e.reason]] : []));
    expect(skips).toContainEqual(['compile', expect.stringMatching(/^artifact quiche-152\.0\.7977\.83-\w+-linux-x64 reused from dir:/)]);
  });

  it('switching the pin reverts our patches, moves the checkout and re-applies them', async () => {
    const run = await runBuild(await config({ chromium: { version: TAG_150 } }), { until: 'patch' });
    expect(run.error).toBeUndefined();
    expect(run.notes.join('\n')).toMatch(/reverted our patches in 3 file\(s\)/);
    expect(await headCommit(quicheDir)).toBe(world.upstream.tags[TAG_150].quicheRevision);
    expect(await readFile(path.join(quicheDir, PATCHED[0]!), 'utf8')).toContain('migrate_local_addresses');
  });
});

describe('reproducibility', () => {
  it('two clean builds in different directories give byte-identical tarballs', async () => {
    const other = await workspace('bq-repro-');
    try {
      const build = async (dir: string) => {
        const run = await runBuild(await resolved(offlineConfig(world.server.baseUrl, dir, { smoke: { enabled: false } }), dir));
        if (run.error) throw run.error;
        const dist = path.join(dir, 'dist');
        const tarball = (await readdir(dist)).find((f) => f.endsWith('.tar.gz'))!;
        return { name: tarball, bytes: await readFile(path.join(dist, tarball)) };
      };
      const a = await build(path.join(other.dir, 'a'));
      const b = await build(path.join(other.dir, 'b'));
      expect(a.name).toBe(b.name);
      expect(createHash('sha256').update(a.bytes).digest('hex')).toBe(createHash('sha256').update(b.bytes).digest('hex'));
    } finally {
      await other.remove();
    }
  });
});
