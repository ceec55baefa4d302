// npm run bench: build-quiche against the naive script (bench/naive-build.sh) on the local upstream.
// Scenarios: cold (empty cache), no-op rerun, rerun after a gn arg change. Prints wall seconds, the
// ratio naive/build-quiche, and build-quiche's peak RSS. Results go to docs/performance.md by hand.
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { renderArgsGn, effectiveGnArgs } from '../src/chromium/gn-args.js';
import { writeConfigFile } from '../test/support/cli.js';
import { FIXTURE_SERIES, offlineConfig, startWorld, TAG_152 } from '../test/support/world.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
// Measure what users run: the compiled CLI.
await execa('npm', ['run', '--silent', 'build'], { cwd: ROOT });
const world = await startWorld();
const base = world.server.baseUrl;
const gn = (await execa('sh', ['-c', 'command -v gn'])).stdout.trim();

interface Sample {
  seconds: number;
  maxRssMb?: number;
}

async function timed(command: string, args: string[], env: Record<string, string>, cwd: string): Promise<Sample> {
  const started = process.hrtime.bigint();
  const result = await execa('/usr/bin/time', ['-f', '%M', command, ...args], { env, cwd, reject: false, all: true });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.exitCode !== 0) throw new Error(`${command} failed:\n${result.all?.slice(-3000)}`);
  const rssKb = Number(result.stderr.trim().split('\n').pop());
  return { seconds, maxRssMb: Number.isFinite(rssKb) ? rssKb / 1024 : undefined };
}

async function ours(dir: string, gnArgs: Record<string, number | boolean>): Promise<Sample> {
  await writeConfigFile(dir, offlineConfig(base, dir, { build: { args: gnArgs }, smoke: { enabled: false }, publish: [] }));
  return timed(process.execPath, [path.join(ROOT, 'bin/build-quiche.js'), 'build', '--plain'], { CI: '1' }, dir);
}

async function naive(dir: string, gnArgs: Record<string, number | boolean>): Promise<Sample> {
  const env = {
    BASE_URL: base,
    WORK: dir,
    TAG: TAG_152,
    SERIES_DIR: path.dirname(FIXTURE_SERIES('migration')),
    GN: gn,
    GN_ARGS: renderArgsGn(effectiveGnArgs(gnArgs, 'autoninja')),
  };
  return timed(path.join(ROOT, 'bench/naive-build.sh'), [], env, dir);
}

const scenarios = ['cold', 'no-op rerun', 'gn arg change'] as const;
const results: Record<string, { ours: Sample[]; naive: Sample[] }> = Object.fromEntries(scenarios.map((s) => [s, { ours: [], naive: [] }]));
for (let round = 1; round <= rounds; round++) {
  for (const [name, run] of [
    ['ours', ours],
    ['naive', naive],
  ] as const) {
    const dir = await mkdtemp(path.join(os.tmpdir(), `bq-bench-${name}-`));
    try {
      results.cold![name].push(await run(dir, {}));
      results['no-op rerun']![name].push(await run(dir, {}));
      results['gn arg change']![name].push(await run(dir, { symbol_level: 1 }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  process.stderr.write(`round ${round}/${rounds} done\n`);
}
await world.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`build-quiche vs naive script, local upstream, ${os.cpus().length} cores, median of ${rounds}`);
console.log('scenario        build-quiche   naive    naive/build-quiche   build-quiche peak RSS');
for (const name of scenarios) {
  const o = median(results[name]!.ours.map((s) => s.seconds));
  const n = median(results[name]!.naive.map((s) => s.seconds));
  const rss = median(results[name]!.ours.map((s) => s.maxRssMb ?? 0));
  console.log(
    `${name.padEnd(15)} ${o.toFixed(2).padStart(9)} s ${n.toFixed(2).padStart(7)} s ${(n / o).toFixed(2).padStart(12)}x ${rss.toFixed(0).padStart(16)} MB`,
  );
}
