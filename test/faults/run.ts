/**
 * The fault-injection suite: `npm run faults`.
 *
 *   SEED=<n>           reproduce a run (the seed is printed first)
 *   FAULTS_SCALE=<k>   trials per class = default x k (default 1: 18 trials; 10: 180 trials)
 *   FAULTS_CLASSES=a,b only these classes
 *   FAULTS_STAGES=a,b  kill and Ctrl-C only in these stages (to reproduce a stage's defect)
 *
 * Builds one finished workspace against the local upstream (the golden build), then runs each
 * class's trials one after another and prints `class tried=N survived=M` and a total. Exit 0 only
 * when every trial survived.
 */
import { rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeConfigFile } from '../support/cli.js';
import { offlineConfig, startWorld } from '../../testkit/world.js';
import { CLASSES, type TrialContext } from './classes.js';
import { emptyWorkspace, rng, runCli, tail } from './harness.js';
import { removeViews } from '../../testkit/shared-upstream.js';

const seed = process.env.SEED ? Number(process.env.SEED) : Math.floor(Math.random() * 2 ** 31);
const scale = Number(process.env.FAULTS_SCALE ?? 1);
const only = process.env.FAULTS_CLASSES?.split(',').filter(Boolean);
const say = (line: string) => process.stdout.write(`${line}\n`);
say(`fault suite: SEED=${seed} FAULTS_SCALE=${scale}${only ? ` FAULTS_CLASSES=${only.join(',')}` : ''}`);

const world = await startWorld();
const trialDir = path.join(os.tmpdir(), `bq-faults-${process.pid}`);
const golden = `${trialDir}.golden`;
let exitCode: number;
try {
  const started = Date.now();
  const ws = await emptyWorkspace(world.server.baseUrl);
  await rename(ws.dir, trialDir).catch(async () => {
    await rm(trialDir, { recursive: true, force: true });
    await rename(ws.dir, trialDir);
  });
  await writeConfigFile(trialDir, offlineConfig(world.server.baseUrl, trialDir));
  const cold = await runCli(trialDir, ['build', '--plain']);
  if (cold.code !== 0) throw new Error(`the golden build failed (exit ${cold.code}): ${tail(cold.output, 20)}`);
  const coldMs = Date.now() - started;
  await rename(trialDir, golden);
  say(`golden build: ${(coldMs / 1000).toFixed(1)} s`);

  const rows: Array<{ name: string; tried: number; survived: number; skipped: number }> = [];
  for (const [index, faultClass] of CLASSES.entries()) {
    if (only && !only.includes(faultClass.name)) continue;
    // One random stream per class: adding trials to one class does not change another's.
    const ctx: TrialContext = {
      world,
      rand: rng(seed + index * 7919),
      golden,
      trialDir,
      log: (line) => say(`  ${faultClass.name}: ${line}`),
    };
    const row = { name: faultClass.name, tried: 0, survived: 0, skipped: 0 };
    for (let i = 0; i < Math.max(1, Math.round(faultClass.defaultTrials * scale)); i++) {
      world.server.faults.reset();
      const problem = await faultClass
        .trial(ctx)
        .catch((error: unknown) => `the trial crashed: ${(error as Error).stack ?? String(error)}`);
      if (problem?.startsWith('skip:')) {
        row.skipped++;
        say(`  ${faultClass.name}: ${problem}`);
        continue;
      }
      row.tried++;
      if (problem) say(`  ${faultClass.name}: NOT SURVIVED: ${problem}`);
      else row.survived++;
    }
    rows.push(row);
    say(`${row.name} tried=${row.tried} survived=${row.survived}${row.skipped ? ` skipped=${row.skipped}` : ''}`);
  }
  const tried = rows.reduce((n, r) => n + r.tried, 0);
  const survived = rows.reduce((n, r) => n + r.survived, 0);
  say(`total tried=${tried} survived=${survived} classes=${rows.length} seed=${seed} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  exitCode = tried === survived ? 0 : 1;
} finally {
  await rm(golden, { recursive: true, force: true });
  await rm(trialDir, { recursive: true, force: true });
  await removeViews(); // the quiche-checkout class's views of ../shared/upstream
  await world.close();
}
process.exit(exitCode);
