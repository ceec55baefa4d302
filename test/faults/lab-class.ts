/**
 * The lab's fault class: kill -9 of a `build-quiche lab` run (the CLI alone or its whole group) at a
 * random moment, on the golden build's artifact. Judged by: the next lab run completes with a report;
 * afterwards nothing of the killed run is left (namespaces, WireGuard control sockets, state file,
 * processes).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabState } from '../../src/lab/state.js';
import { exec } from '../../src/process/exec.js';
import { labUnavailable } from '../support/fixture-artifact.js';
import { killCli, pick, runCli, startCli, strays, tail } from './harness.js';

interface LabTrialContext {
  rand: () => number;
  golden: string;
  log(line: string): void;
}

const SCENARIOS = ['two-paths', 'rotate-ips', 'rebind-port'] as const;
/** About how long a 3 s lab run on the fixture artifact lasts here, set-up and clean-up included (4.5-5.5 s). */
const LAB_SPAN_MS = 5000;

const namespaces = async () => (await exec('ip', ['netns', 'list'])).stdout;

async function statesIn(dir: string): Promise<LabState[]> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
  return Promise.all(files.map(async (f) => JSON.parse(await readFile(path.join(dir, f), 'utf8')) as LabState));
}

export function labKillTrial(group: boolean) {
  return async (ctx: LabTrialContext): Promise<string | undefined> => {
    const why = labUnavailable();
    if (why) return `skip: ${why}`;
    const ws = await mkdtemp(path.join(os.tmpdir(), 'bq-fault-lab-'));
    // A state dir of the trial's own: it sees exactly the killed run's records, and no other lab run's.
    const env = { BUILD_QUICHE_LAB_STATE_DIR: path.join(ws, 'state') };
    const scenario = pick(ctx.rand, SCENARIOS);
    const args = (out: string) => [
      'lab',
      '--artifact',
      path.join(ctx.golden, 'dist'),
      '--scenario',
      scenario,
      '--duration',
      '3s',
      '--out',
      out,
    ];
    try {
      const at = Math.round(ctx.rand() * LAB_SPAN_MS);
      const cli = startCli(ws, args(path.join(ws, 'killed')), env);
      await Promise.race([sleep(at), cli.child]);
      const finished = cli.child.exitCode !== null;
      const lastLine = cli.output().trimEnd().split('\n').at(-1)?.trim() ?? '';
      await killCli(cli, group);
      const left = await statesIn(env.BUILD_QUICHE_LAB_STATE_DIR);
      ctx.log(
        `kill -9 ${group ? 'group' : 'process'} of lab ${scenario} at ${(at / 1000).toFixed(1)}s${finished ? ' (it had finished)' : ''}, after "${lastLine.slice(0, 60)}": ${left.length} run record(s) left`,
      );

      const next = await runCli(ws, args(path.join(ws, 'next')), env);
      if (next.code !== 0) return `after kill -9 of lab ${scenario}: the next lab run exited ${next.code}: ${tail(next.output)}`;
      if (!existsSync(path.join(ws, 'next', 'report.json'))) return `the next lab run wrote no report.json: ${tail(next.output)}`;
      const ns = await namespaces();
      for (const state of left) {
        const kept = state.namespaces.filter((n) => ns.includes(n));
        if (kept.length) return `after the next lab run, the killed run's namespaces remain: ${kept.join(', ')}`;
        const sockets = state.wgSockets.filter((s) => existsSync(s));
        if (sockets.length) return `after the next lab run, the killed run's WireGuard sockets remain: ${sockets.join(', ')}`;
      }
      const records = await readdir(env.BUILD_QUICHE_LAB_STATE_DIR).catch(() => [] as string[]);
      if (records.length) return `run records left in the state dir: ${records.join(', ')}`;
      const procs = await strays(ws);
      if (procs.length) return `processes of the killed lab run still run: ${procs.join(', ')}`;
      return undefined;
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  };
}
