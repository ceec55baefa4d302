/**
 * The standalone backend's build stages under faults, on the real sources of the shared upstream: a
 * build of the real binaries in a fresh cache dir is hit, at a random moment of `dependency-builds`
 * (BoringSSL, abseil, protobuf through CMake) or of `compile` (quiche's generated build.ninja), by
 * kill -9 of build-quiche alone or of its whole group, or by a full disk (the cache on a tmpfs too
 * small for the build; then the tmpfs is grown, as a user frees space).
 *
 * Judged like every class: a clear stop (killed, or exit 8 naming the filesystem), nothing lost, the
 * next run completes, its artifact verifies, no process is left; and, since the standalone build is
 * reproducible, its tarball has the same sha256 as the real tier's own build when that exists.
 *
 * What keeps it affordable: the real tier's ccache (`BQ_REAL_CACHE/ccache`) and views. With ccache warm a
 * trial is a checkout, three CMake configures and builds from the cache, and the quiche compile from
 * the cache: minutes. With ccache cold a trial is a full build (30-40 min on 2 cores), so CI runs the
 * real tier before the fault suite.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { installArtifact } from '../../src/artifacts/install.js';
import { filesystemOf } from '../../src/process/disk-full.js';
import { sha256 } from '../../src/util/fs.js';
import { writeConfigFile } from '../support/cli.js';
import { SKIP_REASON } from '../../testkit/shared-upstream.js';
import { CCACHE_DIR, packagedTarball, realConfig, VIEWS_DIR, workDir } from '../../testkit/real-config.js';
import { ensureViews } from '../../testkit/real-views.js';
import { startUpstreamServer } from '../../testkit/server.js';
import { killCli, pick, startCli, strays, tail } from './harness.js';

interface BuildTrialContext {
  rand: () => number;
  log(line: string): void;
}

export type StandaloneBuildStage = 'dependency-builds' | 'compile';

/**
 * How long each stage runs with ccache warm, so a kill lands inside it, and how much disk the work dir
 * holds when the stage starts and when it ends, so a tmpfs between the two fills up during the stage.
 * Measured at the 152 pin (2026-12-07, the real tier's second cache dir, ccache warm): checkout leaves
 * 209 MB of sources; dependency-builds runs ~12 s and adds build trees and prefixes (73 + 37 MB);
 * compile runs ~4 s and adds the out dir (32 MB); package then writes 15 MB. With ccache cold the stages
 * run minutes longer and a kill lands early in them, still inside.
 */
const PROFILE: Record<StandaloneBuildStage, { spanMs: number; diskAtStartMb: number; diskAtEndMb: number }> = {
  'dependency-builds': { spanMs: 12_000, diskAtStartMb: 225, diskAtEndMb: 320 },
  compile: { spanMs: 4_000, diskAtStartMb: 330, diskAtEndMb: 352 },
};

const KINDS = ['kill9-process', 'kill9-group', 'disk-full'] as const;

/** The real tier's own finished tarball (its reproducible build), if it has one. */
async function goldenTarballSha(): Promise<string | undefined> {
  const tarball = await packagedTarball(workDir('main'));
  return tarball && existsSync(tarball) ? sha256(await readFile(tarball)) : undefined;
}

const env = () => ({ CCACHE_DIR });

export function standaloneBuildTrial(stage: StandaloneBuildStage) {
  return async (ctx: BuildTrialContext): Promise<string | undefined> => {
    if (SKIP_REASON) return `skip: ${SKIP_REASON}`;
    const kind = pick(ctx.rand, KINDS);
    if (kind === 'disk-full' && process.getuid?.() !== 0) return 'skip: needs root to mount a tmpfs';
    await ensureViews(VIEWS_DIR);
    await mkdir(CCACHE_DIR, { recursive: true });
    const server = await startUpstreamServer({ reposDir: VIEWS_DIR });
    const ws = await mkdtemp(path.join(os.tmpdir(), 'bq-fault-standalone-'));
    const mnt = path.join(ws, 'fs');
    let mounted = false;
    try {
      const profile = PROFILE[stage];
      let where = ws;
      if (kind === 'disk-full') {
        await mkdir(mnt);
        const sizeMb = Math.round(profile.diskAtStartMb + ctx.rand() * (profile.diskAtEndMb - profile.diskAtStartMb));
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', mnt]);
        mounted = true;
        where = mnt;
        ctx.log(`disk of ${sizeMb} MB for ${stage}`);
      }
      // publish off and reuse off: the trial judges the build, not a store.
      await writeConfigFile(
        ws,
        await realConfig(
          { baseUrl: server.baseUrl, views: VIEWS_DIR, dir: where },
          { publish: [], reuse: false, preflight: { minFreeDiskGb: 0, minMemoryGb: 1 } },
        ),
      );
      const cli = startCli(ws, ['build', '--plain'], env());
      let what: string;
      if (kind === 'disk-full') {
        const result = await cli.child;
        const code = result.exitCode ?? 128;
        what = `disk full in ${stage}: exit ${code}`;
        if (code === 0) what += ' (the build fit)';
        else if (code !== 8) return `${what}, expected 8: ${tail(cli.output())}`;
        else if (!cli.output().includes(`${mnt} (tmpfs`)) return `${what}, but the message does not name ${mnt}: ${tail(cli.output())}`;
        execFileSync('mount', ['-o', 'remount,size=4g', mnt]);
      } else {
        // Wait for the stage to start, then kill at a random moment of its expected span.
        const startedAt = await stageStart(cli, stage);
        if (startedAt === undefined) return `the build never reached ${stage}: ${tail(cli.output())}`;
        const at = Math.round(ctx.rand() * profile.spanMs);
        await Promise.race([sleep(at), cli.child]);
        const inStage = [...cli.output().matchAll(/▶ ([\w-]+):/g)].at(-1)?.[1];
        await killCli(cli, kind === 'kill9-group');
        const result = await cli.child;
        what = `${kind} ${(at / 1000).toFixed(0)} s into ${stage} (in ${inStage})${result.signal ? '' : ` (it had finished: exit ${result.exitCode})`}`;
      }
      ctx.log(what);
      const next = startCli(ws, ['build', '--plain'], env());
      const done = await next.child;
      if (done.exitCode !== 0) return `after ${what}: the next run exited ${done.exitCode}: ${tail(next.output())}`;
      const dist = path.join(where, 'dist');
      const to = await mkdtemp(path.join(os.tmpdir(), 'bq-fault-install-'));
      try {
        await installArtifact(dist, { to });
      } catch (error) {
        return `after ${what}: the artifact does not verify: ${(error as Error).message}`;
      } finally {
        await rm(to, { recursive: true, force: true });
      }
      const golden = await goldenTarballSha();
      const tarball = (await readdir(dist)).find((f) => f.endsWith('.tar.gz'))!;
      const sha = sha256(await readFile(path.join(dist, tarball)));
      if (golden && sha !== golden)
        return `after ${what}: the tarball ${sha.slice(0, 12)} differs from the real tier's ${golden.slice(0, 12)}`;
      const left = await strays(ws);
      if (left.length) return `after ${what} and a rerun, processes still run: ${left.join(', ')}`;
      if (mounted) ctx.log(`free after the rerun: ${Math.round(filesystemOf(mnt)!.freeBytes / 2 ** 20)} MB`);
      return undefined;
    } finally {
      await server.close();
      if (mounted) execFileSync('umount', ['-l', mnt]);
      await rm(ws, { recursive: true, force: true });
    }
  };
}

/** Resolves when the run prints the stage's start line ("▶ <stage>:"), or undefined if it ends first. */
async function stageStart(cli: ReturnType<typeof startCli>, stage: string): Promise<number | undefined> {
  let ended = false;
  void cli.child.then(() => (ended = true));
  while (!ended) {
    if (cli.output().includes(`▶ ${stage}:`)) return Date.now();
    await sleep(200);
  }
  return undefined;
}
