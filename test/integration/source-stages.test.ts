import { existsSync } from 'node:fs';
import { readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headCommit } from '../../src/tools/git.js';
import { doctor } from '../../src/api/pipeline.js';
import { isBuildQuicheError } from '../../src/errors.js';
import { isRunning } from '../../src/process/liveness.js';
import { spawnCli, waitForLine, writeConfigFile } from '../support/cli.js';
import {
  offlineConfig,
  resolved,
  runBuild,
  type RecordedRun,
  startWorld,
  TAG_150,
  TAG_152,
  workspace,
  type World,
} from '../../testkit/world.js';

const QUICHE = 'src/net/third_party/quiche/src';
let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => world?.close());

async function withWorkspace(body: (dir: string) => Promise<void>) {
  const ws = await workspace();
  try {
    await body(ws.dir);
  } finally {
    await ws.remove();
  }
}

const root = (dir: string) => path.join(dir, 'cache', 'chromium');
const expectAtPin = async (dir: string, tag: typeof TAG_150 | typeof TAG_152) => {
  const pin = world.upstream.tags[tag];
  expect(await headCommit(path.join(root(dir), 'src'))).toBe(pin.srcCommit);
  expect(await headCommit(path.join(root(dir), QUICHE))).toBe(pin.quicheRevision);
  expect(await headCommit(path.join(root(dir), 'src/third_party/depot_tools'))).toBe(pin.depotToolsRevision);
};

describe('checkout', () => {
  it('checks out 152 with every pin verified, and a rerun starts no gclient sync', () =>
    withWorkspace(async (dir) => {
      const config = await resolved(offlineConfig(world.server.baseUrl, dir), dir);
      const first = await runBuild(config, { until: 'checkout' });
      expect(first.error).toBeUndefined();
      expect(first.ran).toEqual(['resolve', 'patch-check', 'reuse', 'depot-tools', 'checkout']);
      await expectAtPin(dir, TAG_152);

      const before = world.server.requests.length;
      const second = await runBuild(config, { until: 'checkout' });
      expect(second.error).toBeUndefined();
      expect(second.ran).toEqual([]);
      expect(world.server.requests.length).toBe(before);
    }));

  it('moves between pins 152 -> 150 -> 152, verifying each', () =>
    withWorkspace(async (dir) => {
      const at = async (tag: typeof TAG_150 | typeof TAG_152) => {
        const run = await runBuild(await resolved(offlineConfig(world.server.baseUrl, dir, { chromium: { version: tag } }), dir), {
          until: 'checkout',
        });
        expect(run.error).toBeUndefined();
        expect(run.ran).toContain('checkout');
        await expectAtPin(dir, tag);
      };
      await at(TAG_152);
      await at(TAG_150);
      await at(TAG_152);
    }));

  it('completes when the server cuts the connection during the clone', () =>
    withWorkspace(async (dir) => {
      world.server.faults.cutNext(2000, { count: 2, pathContains: 'quiche.git/git-upload-pack' });
      try {
        const run = await runBuild(await resolved(offlineConfig(world.server.baseUrl, dir), dir), { until: 'checkout' });
        expect(run.error).toBeUndefined();
        await expectAtPin(dir, TAG_152);
      } finally {
        world.server.faults.reset();
      }
    }));

  it('repairs a stale index.lock and an empty dep left by an interrupted clone', () =>
    withWorkspace(async (dir) => {
      const config = await resolved(offlineConfig(world.server.baseUrl, dir), dir);
      expect((await runBuild(config, { until: 'checkout' })).error).toBeUndefined();
      // What a killed run leaves: a lock in src, and quiche reduced to an empty clone.
      await writeFile(path.join(root(dir), 'src', '.git', 'index.lock'), '');
      await rm(path.join(root(dir), QUICHE), { recursive: true, force: true });
      await mkdir(path.join(root(dir), QUICHE, '.git'), { recursive: true });
      const run = await runBuild(config, { until: 'checkout' });
      expect(run.error).toBeUndefined();
      expect(run.ran).toContain('checkout');
      expect(run.notes.join('\n')).toMatch(/removed stale .*index\.lock/);
      expect(run.notes.join('\n')).toMatch(/quiche\/src: (empty|wrong-commit).*removing it and syncing again/);
      await expectAtPin(dir, TAG_152);
    }));

  it('repairs a dep whose `git init` was killed half way (HEAD and refs/, no objects/), not taking it for src', () =>
    withWorkspace(async (dir) => {
      const config = await resolved(offlineConfig(world.server.baseUrl, dir), dir);
      expect((await runBuild(config, { until: 'checkout' })).error).toBeUndefined();
      // What a successor's kill of an orphaned gclient inside `git init` leaves (seen in npm run bench's
      // resume scenario): git does not take this .git for a repo and answers for src instead.
      const git = path.join(root(dir), QUICHE, '.git');
      await rm(path.join(root(dir), QUICHE), { recursive: true, force: true });
      await mkdir(path.join(git, 'refs', 'heads'), { recursive: true });
      await writeFile(path.join(git, 'HEAD'), 'ref: refs/heads/main\n');
      await writeFile(path.join(git, 'config'), '[core]\n\trepositoryformatversion = 0\n');
      const run = await runBuild(config, { until: 'checkout' });
      expect(run.error).toBeUndefined();
      expect(run.notes.join('\n')).toMatch(/quiche\/src: empty.*did not finish; removing it/);
      await expectAtPin(dir, TAG_152);
    }));

  it("repairs the cache's own checkout that a kill -9 left as an empty src clone", () =>
    withWorkspace(async (dir) => {
      const config = await resolved(offlineConfig(world.server.baseUrl, dir), dir);
      expect((await runBuild(config, { until: 'depot-tools' })).error).toBeUndefined();
      // What a kill -9 in the first clone of src leaves: gclient's `git init` and nothing fetched.
      await mkdir(path.join(root(dir), 'src'), { recursive: true });
      await execa('git', ['init', '-q'], { cwd: path.join(root(dir), 'src') });
      const run = await runBuild(config, { until: 'checkout' });
      expect(run.error).toBeUndefined();
      expect(run.notes.join('\n')).toMatch(/src: empty.*did not finish; removing it/);
      await expectAtPin(dir, TAG_152);
    }));

  it.each(['src', 'quiche'])(
    'a network failure in the first clone of %s is a network error, and the next run repairs the empty clone',
    (repo) =>
      withWorkspace(async (dir) => {
        const config = await resolved(offlineConfig(world.server.baseUrl, dir), dir);
        expect((await runBuild(config, { until: 'depot-tools' })).error).toBeUndefined();
        world.server.faults.failNext(10_000, { status: 503, pathContains: `${repo}.git/git-upload-pack` });
        let failed: RecordedRun;
        try {
          failed = await runBuild(config, { until: 'checkout' });
        } finally {
          world.server.faults.reset();
        }
        expect(isBuildQuicheError(failed.error) && failed.error.exitCode, String(failed.error)).toBe(7);
        const rerun = await runBuild(config, { until: 'checkout' });
        expect(rerun.error).toBeUndefined();
        await expectAtPin(dir, TAG_152);
      }),
  );

  it('stops on a foreign change in a dep that must move, naming the file and changing nothing', () =>
    withWorkspace(async (dir) => {
      expect((await runBuild(await resolved(offlineConfig(world.server.baseUrl, dir), dir), { until: 'patch' })).error).toBeUndefined();
      const patched = path.join(root(dir), QUICHE, 'quiche/quic/tools/quic_toy_client.cc');
      const patchedBefore = await readFile(patched, 'utf8');
      const edited = path.join(root(dir), QUICHE, 'quiche/quic/tools/quic_toy_server.cc');
      await writeFile(edited, `${await readFile(edited, 'utf8')}\n// my experiment\n`);
      const run = await runBuild(await resolved(offlineConfig(world.server.baseUrl, dir, { chromium: { version: TAG_150 } }), dir), {
        until: 'checkout',
      });
      expect(isBuildQuicheError(run.error) && run.error.failureClass).toBe('dirty-tree');
      expect((run.error as Error).message).toContain('src/net/third_party/quiche/src/quiche/quic/tools/quic_toy_server.cc');
      expect(await readFile(edited, 'utf8')).toMatch(/my experiment/);
      expect(await readFile(patched, 'utf8')).toBe(patchedBefore); // our patches were not reverted either
      await expectAtPin(dir, TAG_152);
    }));

  it("stops before compile on a hand edit in the cache's checkout that no patch touches, naming it and changing nothing", () =>
    withWorkspace(async (dir) => {
      const config = await resolved(offlineConfig(world.server.baseUrl, dir), dir);
      expect((await runBuild(config, { until: 'patch' })).error).toBeUndefined();
      const patched = path.join(root(dir), QUICHE, 'quiche/quic/tools/quic_toy_client.cc');
      const patchedBefore = await readFile(patched, 'utf8');
      const edited = path.join(root(dir), QUICHE, 'quiche/quic/tools/quic_toy_server.cc');
      await writeFile(edited, `${await readFile(edited, 'utf8')}\n// my experiment\n`);
      const run = await runBuild(config, { until: 'compile' });
      expect(isBuildQuicheError(run.error) && run.error.exitCode, String(run.error)).toBe(5);
      expect((run.error as Error).message).toContain('src/net/third_party/quiche/src/quiche/quic/tools/quic_toy_server.cc');
      expect(run.ran).toEqual([]);
      expect(await readFile(edited, 'utf8')).toMatch(/my experiment/);
      expect(await readFile(patched, 'utf8')).toBe(patchedBefore);
    }));

  it('stops on a local commit in quiche instead of moving away from it, naming the commit', () =>
    withWorkspace(async (dir) => {
      const config = await resolved(offlineConfig(world.server.baseUrl, dir), dir);
      expect((await runBuild(config, { until: 'checkout' })).error).toBeUndefined();
      const quiche = path.join(root(dir), QUICHE);
      const edited = path.join(quiche, 'quiche/quic/tools/quic_toy_server.cc');
      await writeFile(edited, `${await readFile(edited, 'utf8')}\n// my experiment\n`);
      await execa('git', ['-c', 'user.name=Dev', '-c', 'user.email=dev@example.org', 'commit', '-qam', 'My experiment'], { cwd: quiche });
      const local = await headCommit(quiche);
      const run = await runBuild(config, { until: 'checkout' });
      expect(isBuildQuicheError(run.error) && run.error.exitCode, String(run.error)).toBe(5);
      expect((run.error as Error).message).toMatch(/src\/net\/third_party\/quiche\/src: 1 local commit .*\n\s+[0-9a-f]+ My experiment/);
      expect(await headCommit(quiche)).toBe(local);
      expect(await readFile(edited, 'utf8')).toMatch(/my experiment/);
    }));

  it('fails fast on a missing tag with a clear error and exit code, state untouched', () =>
    withWorkspace(async (dir) => {
      const good = await resolved(offlineConfig(world.server.baseUrl, dir), dir);
      expect((await runBuild(good, { until: 'resolve' })).error).toBeUndefined();
      const stateBefore = await readFile(path.join(dir, 'cache', 'state.json'), 'utf8');
      const started = Date.now();
      const run = await runBuild(await resolved(offlineConfig(world.server.baseUrl, dir, { chromium: { version: '999.0.0.1' } }), dir));
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(isBuildQuicheError(run.error) && run.error.exitCode).toBe(6);
      expect((run.error as Error).message).toContain(`refs/tags/999.0.0.1 does not exist at ${world.server.baseUrl}/chromium/src.git`);
      expect(await readFile(path.join(dir, 'cache', 'state.json'), 'utf8')).toBe(stateBefore);
      expect(existsSync(path.join(dir, 'cache', 'guards', 'resolve.json'))).toBe(false);
    }));
});

describe('depot-tools', () => {
  const depotTools = (dir: string) => path.join(dir, 'cache', 'depot_tools');

  it('repairs a depot_tools that a kill -9 left after `git init` (no origin, a stale config.lock)', () =>
    withWorkspace(async (dir) => {
      const config = await resolved(offlineConfig(world.server.baseUrl, dir), dir);
      expect((await runBuild(config, { until: 'resolve' })).error).toBeUndefined();
      await mkdir(depotTools(dir), { recursive: true });
      await execa('git', ['init', '-q'], { cwd: depotTools(dir) });
      await writeFile(path.join(depotTools(dir), '.git', 'config.lock'), '');
      const run = await runBuild(config, { until: 'depot-tools' });
      expect(run.error).toBeUndefined();
      expect(run.notes.join('\n')).toMatch(/removed stale .*config\.lock/);
      expect(await headCommit(depotTools(dir))).toBe(world.upstream.tags[TAG_152].depotToolsRevision);
    }));

  it('clones depot_tools afresh when its objects are broken (a disk that filled up mid-write)', () =>
    withWorkspace(async (dir) => {
      const config = await resolved(offlineConfig(world.server.baseUrl, dir), dir);
      expect((await runBuild(config, { until: 'depot-tools' })).error).toBeUndefined();
      const objects = path.join(depotTools(dir), '.git', 'objects');
      for (const sub of await readdir(objects, { recursive: true, withFileTypes: true })) {
        if (sub.isFile()) await writeFile(path.join(sub.parentPath, sub.name), '');
      }
      const run = await runBuild(config, { until: 'depot-tools', force: ['depot-tools'] });
      expect(run.error).toBeUndefined();
      expect(run.notes.join('\n')).toMatch(/depot_tools is broken .*cloning it afresh/);
      expect(await headCommit(depotTools(dir))).toBe(world.upstream.tags[TAG_152].depotToolsRevision);
    }));
});

describe('killed runs', () => {
  it('kill -9 during the first clone takes gclient down with it, and a rerun repairs and completes', () =>
    withWorkspace(async (dir) => {
      const pause = offlineConfig(world.server.baseUrl, dir, { depotTools: { env: { FAKE_GCLIENT_PAUSE_IN_CLONE: QUICHE } } });
      await writeConfigFile(dir, pause);
      const child = spawnCli(['build', '--until', 'checkout', '--verbose'], { cwd: dir });
      const line = await waitForLine(child, 'paused in first clone of');
      const gclientPid = Number(/\(pid (\d+)\)/.exec(line)?.[1]);
      child.kill('SIGKILL');
      await child;
      // No orphan: its process group dies with the run (gone, or a zombie pid 1 has not reaped yet).
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && isRunning(gclientPid)) await new Promise((r) => setTimeout(r, 50));
      expect(isRunning(gclientPid)).toBe(false);

      await writeConfigFile(dir, offlineConfig(world.server.baseUrl, dir));
      const rerun = await spawnCli(['build', '--until', 'checkout'], { cwd: dir });
      expect(rerun.exitCode, rerun.all).toBe(0);
      expect(rerun.all).toMatch(/took over a stale lock from pid \d+/);
      expect(rerun.all).toMatch(/checkout: repairing/);
      await expectAtPin(dir, TAG_152);
    }));
});

describe('doctor', () => {
  it('reports the numbers and fails when free disk is below the configured need', () =>
    withWorkspace(async (dir) => {
      const small = await doctor({
        config: await resolved(offlineConfig(world.server.baseUrl, dir, { preflight: { minFreeDiskGb: 0.001 } }), dir),
      });
      expect(small.disk.ok).toBe(true);
      expect(small.disk.freeGb).toBeGreaterThan(0);
      expect(small.suggestedJobs).toBeGreaterThanOrEqual(1);
      expect(small.tools.find((t) => t.name === 'git')?.version).toMatch(/git version/);

      await writeConfigFile(dir, offlineConfig(world.server.baseUrl, dir, { preflight: { minFreeDiskGb: 1_000_000 } }));
      const cli = await spawnCli(['doctor'], { cwd: dir });
      expect(cli.exitCode).toBe(8);
      expect(cli.all).toMatch(/FAIL disk +[\d.]+ GB free at .* \(need 1000000 GB\)/);
      expect(cli.all).toMatch(/problem: Only [\d.]+ GB free/);
      expect(await readdir(dir)).toEqual(['pipeline.config.ts']);
    }));
});
