// A work dir that has built everything once, for timing the no-op rerun on its own (paired A/B
// against another commit's CLI, or with any timer):
//
//   BENCH_SCALE=1 npx tsx bench/noop-dir.ts <dir> [<cli>]
//   /usr/bin/time -v node <cli> -c <dir>/pipeline.config.ts build --plain
//
// Builds (or reuses) the scaled upstream of testkit/scale.ts (full scale unless BENCH_SCALE /
// BENCH_DEPS / BENCH_TUS / BENCH_STEPS say otherwise), writes the same config as `npm run bench`
// (smoke and publish off) into <dir>, serves the upstream only while a cold build runs with <cli>
// (default: this checkout's bin/build-quiche.js), then runs the no-op once to check it ran nothing.
// A no-op reads no network, so later runs need no server. Each CLI under comparison gets its own
// dir (a stage whose version changed between the two would otherwise run again in turn). Use a new
// dir each time: the server's port is in the config, so a second setup of one dir syncs again.
import { execa } from 'execa';
import path from 'node:path';
import { FIXTURE_SERIES, offlineConfig, startWorld, writeConfigFile } from '../testkit/world.js';
import { scaleFromEnv } from '../testkit/scale.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const [dirArg, cliArg] = process.argv.slice(2);
if (!dirArg) {
  process.stderr.write('usage: tsx bench/noop-dir.ts <dir> [<path to bin/build-quiche.js>]\n');
  process.exit(2);
}
const dir = path.resolve(dirArg);
const cli = path.resolve(cliArg ?? path.join(ROOT, 'bin/build-quiche.js'));
const scale = scaleFromEnv();
const world = await startWorld(undefined, scale);
const config = await writeConfigFile(
  dir,
  offlineConfig(world.server.baseUrl, dir, {
    patches: { series: FIXTURE_SERIES('migration') },
    smoke: { enabled: false },
    publish: [],
  }),
);
const run = () =>
  execa(process.execPath, [cli, '-c', config, 'build', '--plain'], { cwd: dir, env: { CI: '1' }, all: true, reject: false });
try {
  const started = performance.now();
  const cold = await run();
  process.stderr.write(
    `cold build (${scale.deps} deps, ${scale.tus} TUs, ~${scale.steps} steps): ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );
  if (cold.exitCode !== 0) throw new Error(String(cold.all).slice(-3000));
} finally {
  await world.close();
}
const noop = await run();
// preflight's host checks run every time; any other stage that ran means the dir is not ready.
const ran = [...String(noop.all).matchAll(/✔ ([\w-]+): done in/g)].map((m) => m[1]!).filter((id) => id !== 'preflight');
process.stdout.write(String(noop.all) + '\n');
process.stderr.write(`stages that ran in the no-op: ${ran.length ? ran.join(', ') : 'none'}\n`);
process.stderr.write(`ready: node ${cli} -c ${config} build --plain\n`);
