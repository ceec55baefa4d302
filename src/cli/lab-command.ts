import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import {
  LAB_DEFAULTS,
  MAX_CLIENTS,
  MIGRATE_MODES,
  parseSweep,
  runLab,
  runSweep,
  SCENARIOS,
  summaryLines,
  sweepTable,
  type LabEvent,
  type MigrateMode,
  type Scenario,
} from '../api/lab.js';
import type { CliContext } from './context.js';

interface LabFlags {
  artifact: string;
  scenario?: Scenario;
  mode: MigrateMode;
  intervalMs?: number;
  duration?: number;
  rateMbit?: { all?: number; links: Record<string, number> };
  addresses?: number;
  delayMs?: number;
  clients?: number;
  quietMs?: number;
  jitterMs?: number;
  timingWindowMs?: number;
  seed?: number;
  sweep: string[];
  runs?: number;
  out: string;
}

const integer = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number (got "${value}").`);
  return n;
};

/** `40` (every link) or `direct=40,tunnel=10` (some links; the others keep the default), Mbit/s. */
export function parseRates(value: string): { all?: number; links: Record<string, number> } {
  const rates: { all?: number; links: Record<string, number> } = { links: {} };
  for (const part of value.split(',').map((p) => p.trim())) {
    const m = /^(?:([a-z-]+)=)?(\d+(?:\.\d+)?)$/.exec(part);
    if (!m)
      throw new UsageError(`--rate-mbit "${value}" is not a rate.`, {
        hint: 'Write --rate-mbit 40, or per link: --rate-mbit direct=40,tunnel=10.',
      });
    if (m[1]) rates.links[m[1]] = Number(m[2]);
    else rates.all = Number(m[2]);
  }
  return rates;
}

/** `3s`, `2.5s`, `2500ms` or a plain number of milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s)?$/.exec(value.trim());
  if (!m) throw new UsageError(`--duration "${value}" is not a duration.`, { hint: 'Write it like 3s, 2.5s or 2500ms.' });
  return Math.round(Number(m[1]) * (m[2] === 's' ? 1000 : 1));
}

/** `build-quiche lab`: the migration lab (src/lab), with plain progress lines and a short summary. */
export function registerLabCommand(program: Command, ctx: CliContext): void {
  program
    .command('lab')
    .description(
      "run an artifact's client and server in network namespaces, migrate the connection between paths, capture every link and report what an observer sees (needs root)",
    )
    .requiredOption('--artifact <source>', 'the artifact: a tarball, dist dir, store, URL, or an installed artifact dir')
    .addOption(new Option('--scenario <name>', 'the topology').choices([...SCENARIOS]))
    .addOption(new Option('--mode <mode>', "the client's --migrate_mode").choices([...MIGRATE_MODES]).default(LAB_DEFAULTS.mode))
    .option('--interval-ms <n>', `migrate every n ms during the download (default ${LAB_DEFAULTS.intervalMs})`, integer('interval-ms'))
    .option(
      '--duration <time>',
      `how long the download lasts at the link rate, e.g. 3s (default ${LAB_DEFAULTS.durationMs / 1000}s)`,
      parseDuration,
    )
    .option(
      '--rate-mbit <rates>',
      `tbf rate in Mbit/s on every link (default ${LAB_DEFAULTS.rateMbit}), or per link: direct=40,tunnel=10`,
      parseRates,
    )
    .option('--addresses <n>', `rotate-ips: addresses in each client's pool (default ${LAB_DEFAULTS.addresses})`, integer('addresses'))
    .option('--delay-ms <n>', 'one-way delay per path (needs the netem qdisc; reported when missing)', integer('delay-ms'))
    .option(
      '--clients <n>',
      `concurrent clients against the one server, each its own process, addresses and random phase (default 1, at most ${MAX_CLIENTS})`,
      integer('clients'),
    )
    .option(
      '--quiet-ms <n>',
      "the client's --migrate_quiet_ms: it stops reading and sending n ms before each migration",
      integer('quiet-ms'),
    )
    .option('--jitter-ms <n>', "the client's --migrate_jitter_ms: a uniform 0..n ms added to each interval", integer('jitter-ms'))
    .option(
      '--timing-window-ms <n>',
      `the timing observer's window: flows this close are candidates (default ${LAB_DEFAULTS.timingWindowMs})`,
      integer('timing-window-ms'),
    )
    .option('--seed <n>', "seeds the clients' phases (default: random, recorded in the report)", integer('seed'))
    .option(
      '--sweep <axis=values>',
      'sweep, e.g. interval=100,250,500,1000,5000, scenario=rotate-ips,two-paths, clients=1,2,4,8,16, quiet=0,200,400 or jitter=0,250 (repeatable)',
      (v: string, all: string[]) => [...all, v],
      [] as string[],
    )
    .option(
      '--runs <n>',
      'runs per sweep point, or of the scenario alone: medians and intervals in sweep.json/sweep.html (default 1)',
      integer('runs'),
    )
    .requiredOption('--out <dir>', 'where report.json, report.html, the pcaps and logs go')
    .action(async (flags: LabFlags) => {
      const json = ctx.mode().json;
      const started = Date.now();
      const onEvent = (e: LabEvent) => {
        if (!json)
          ctx.io.stderr(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s ${e.kind === 'note' ? 'note: ' : ''}${e.message}`);
      };
      const axes = parseSweep(flags.sweep);
      const scenario = flags.scenario ?? axes.scenario?.[0];
      if (!scenario)
        throw new UsageError('Which scenario? --scenario is required.', {
          hint: `Use --scenario ${SCENARIOS.join('|')} (or --sweep scenario=...).`,
        });
      const options = {
        artifact: flags.artifact,
        scenario,
        mode: flags.mode,
        intervalMs: flags.intervalMs,
        durationMs: flags.duration,
        rateMbit: flags.rateMbit?.all,
        linkRates: flags.rateMbit?.links,
        addresses: flags.addresses,
        delayMs: flags.delayMs,
        clients: flags.clients,
        quietMs: flags.quietMs,
        jitterMs: flags.jitterMs,
        timingWindowMs: flags.timingWindowMs,
        seed: flags.seed,
        out: flags.out,
        signal: ctx.signal,
        onEvent,
      };
      // A sweep, or one scenario run K times: either way medians and intervals over the runs.
      if (flags.sweep.length || flags.runs !== undefined) {
        const result = await runSweep({ ...options, axes, runs: flags.runs });
        if (json) return ctx.io.stdout(JSON.stringify(result, null, 2));
        for (const line of sweepTable(result)) ctx.io.stdout(line);
        ctx.io.stdout(`sweep: ${result.sweepDir}/sweep.json, ${result.sweepDir}/sweep.html`);
        return;
      }
      const { report, reportDir } = await runLab(options);
      if (json) return ctx.io.stdout(JSON.stringify(report, null, 2));
      for (const line of summaryLines(report)) ctx.io.stdout(line);
      ctx.io.stdout(`report: ${reportDir}/report.json, ${reportDir}/report.html`);
    });
}
