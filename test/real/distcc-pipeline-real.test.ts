/**
 * The real binaries through distcc, end to end: `build-quiche --backend quiche` with two distccd daemons
 * in network namespaces (fallback off, ccache off, so every unit is compiled, none silently here), in a
 * work dir of its own, against the real tier's main build (local, same code): every quiche unit and
 * nearly every dependency unit remote (counted), and the same tarball sha256.
 *
 * Opt-in, because it is a second cold build (about 30-40 minutes on 2 cores): BQ_REAL_DISTCC=1, after
 * `npm run test:real` has finished the main build with this version:
 *   BQ_REAL_DISTCC=1 npx vitest run --project real test/real/distcc-pipeline-real.test.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDistccLines, remoteTotal, type DistccCounts } from '../../src/distributed/log.js';
import { REPRODUCIBLE_DEBUG_FLAGS } from '../../src/standalone/cmake-recipes.js';
import { startUpstreamServer, type UpstreamServer } from '../../testkit/server.js';
import { runBuild } from '../../testkit/world.js';
import { finishedRealBuild } from '../../testkit/real-build.js';
import { distccSkipReason, startDistccHosts, type DistccHosts } from '../support/distcc-hosts.js';
import { CCACHE_DIR, loadRealConfig, realConfig, VIEWS_DIR, workDir } from '../../testkit/real-config.js';
import { ensureViews } from '../../testkit/real-views.js';

interface PackageOutputs {
  tarball: string;
  sha256: string;
}
const stageOutputs = <T>(cacheDir: string, stage: string) =>
  (JSON.parse(readFileSync(path.join(cacheDir, 'state.json'), 'utf8')) as { stages: Record<string, { outputs: T }> }).stages[stage]
    ?.outputs;

function skipReason(): string | undefined {
  if (process.env.BQ_REAL_DISTCC !== '1') return 'opt-in (a second cold real build, 30-40 min): BQ_REAL_DISTCC=1';
  const reason = distccSkipReason();
  if (reason) return reason;
  const main = finishedRealBuild();
  if (typeof main === 'string') return main;
  if (!REPRODUCIBLE_DEBUG_FLAGS.every((f) => main.toolchain.flags.includes(f))) {
    return 'the main real build was made by a version without the debug flags: run npm run test:real with this version first';
  }
  if (!stageOutputs<PackageOutputs>(main.cacheDir, 'package')) return 'the main real build has not packaged';
  return undefined;
}
const SKIP = skipReason();
if (SKIP) console.warn(`real distcc pipeline test skipped: ${SKIP}`);

let server: UpstreamServer;
let hosts: DistccHosts;
const dir = workDir('distcc');

beforeAll(async () => {
  if (SKIP) return;
  await ensureViews(VIEWS_DIR);
  await mkdir(CCACHE_DIR, { recursive: true });
  server = await startUpstreamServer({ reposDir: VIEWS_DIR });
  hosts = await startDistccHosts({ prefix: 'bqdp', net: 93, count: 2 });
  await rm(dir, { recursive: true, force: true });
});
afterAll(async () => {
  hosts?.close();
  await server?.close();
});

describe.skipIf(!!SKIP)('real tier: the standalone build through distcc', () => {
  it('builds the real binaries with the compiles remote, and the tarball of the local build', async () => {
    const main = finishedRealBuild() as Exclude<ReturnType<typeof finishedRealBuild>, string>;
    const user = await realConfig({ baseUrl: server.baseUrl, views: VIEWS_DIR, dir }, { reuse: false, publish: [] });
    const quiche = user.quiche as Record<string, unknown>;
    user.quiche = { ...quiche, ccache: 'off' };
    user.distributed = { engine: 'distcc', hosts: hosts.daemons.map((d) => d.spec), fallback: false };
    const { config, unavailable } = await loadRealConfig(user, dir);
    if (!config) throw new Error(unavailable);
    const started = Date.now();
    const run = await runBuild(config);
    if (run.error) throw run.error;
    const minutes = (Date.now() - started) / 60_000;

    const start = run.events.find((e) => e.type === 'run-start');
    const logDir = start?.type === 'run-start' ? start.logDir : '';
    const counted = (stage: string): DistccCounts => {
      const file = path.join(logDir, `${stage}.distcc.log`);
      return countDistccLines(existsSync(file) ? readFileSync(file, 'utf8') : '');
    };
    const deps = counted('dependency-builds');
    const quicheCounts = counted('compile');
    const configure = stageOutputs<{ translationUnits: number }>(path.join(dir, 'cache'), 'configure')!;
    console.log(
      `distcc real build: ${minutes.toFixed(1)} min; dependencies remote ${remoteTotal(deps)} ${JSON.stringify(deps.remote)}, quiche remote ${remoteTotal(quicheCounts)} of ${configure.translationUnits} ${JSON.stringify(quicheCounts.remote)}`,
    );
    // Fallback off: nothing compiled here through distcc; BoringSSL's assembly is the only local compile.
    expect(deps.local + quicheCounts.local).toBe(0);
    expect(remoteTotal(quicheCounts)).toBe(configure.translationUnits);
    // Every C/C++ unit of the dependencies' CMake builds (their .ninja_log), all through distcc.
    const built = finishedRealBuild(dir) as Exclude<ReturnType<typeof finishedRealBuild>, string>;
    const depUnits = Object.values(built.trees)
      .map(
        (tree) =>
          new Set(
            readFileSync(path.join(tree, '.ninja_log'), 'utf8')
              .split('\n')
              .map((l) => l.split('\t')[3] ?? '')
              .filter((o) => /\.(c|cc|cpp)\.o$/.test(o)),
          ).size,
      )
      .reduce((a, b) => a + b, 0);
    expect(remoteTotal(deps)).toBe(depUnits);
    for (const daemon of hosts.daemons) expect(deps.remote[daemon.spec] ?? 0, daemon.spec).toBeGreaterThan(0);

    const ours = stageOutputs<PackageOutputs>(path.join(dir, 'cache'), 'package')!;
    const theirs = stageOutputs<PackageOutputs>(main.cacheDir, 'package')!;
    expect(path.basename(ours.tarball)).toBe(path.basename(theirs.tarball));
    expect(ours.sha256).toBe(theirs.sha256);
    expect(await readFile(ours.tarball)).toEqual(await readFile(theirs.tarball));
  });
});
