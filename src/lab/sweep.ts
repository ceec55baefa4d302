import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { UsageError } from '../errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { median, quantile } from '../util/stats.js';
import { renderSvg } from './plots.js';
import { runLab } from './run.js';
import { SCENARIOS, type LabOptions, type LabReport, type Scenario } from './types.js';

/**
 * "How often can I migrate, and what does it cost?": the lab run over a grid of migration intervals
 * (and scenarios), each point N times, reduced to goodput and migration latency against the rate.
 */

export interface SweepAxes {
  interval?: number[];
  scenario?: Scenario[];
}

export interface SweepPoint {
  scenario: Scenario;
  intervalMs: number;
  runs: number;
  /** Successful migrations per second of download, median over the runs. */
  migrationsPerSecond: number;
  migrationsOk: number;
  migrationsFailed: number;
  goodputMbit: { median: number; min: number; max: number };
  tookMs: { median: number | null; p90: number | null };
  completedRuns: number;
  reports: string[];
}

export interface SweepResult {
  schema: 1;
  mode: string;
  points: SweepPoint[];
  sweepDir: string;
}

/** `interval=100,250,500` or `scenario=rotate-ips,two-paths`; repeatable. */
export function parseSweep(specs: string[]): SweepAxes {
  const axes: SweepAxes = {};
  for (const spec of specs) {
    const m = /^(interval|scenario)=(.+)$/.exec(spec.trim());
    if (!m)
      throw new UsageError(`Cannot read --sweep ${spec}.`, {
        hint: 'Use --sweep interval=100,250,500 and/or --sweep scenario=rotate-ips,two-paths.',
      });
    const values = m[2]!
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    if (m[1] === 'interval') {
      axes.interval = values.map((v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 10) throw new UsageError(`--sweep interval: "${v}" is not a whole number of milliseconds >= 10.`);
        return n;
      });
    } else {
      for (const v of values)
        if (!SCENARIOS.includes(v as Scenario))
          throw new UsageError(`--sweep scenario: unknown scenario "${v}".`, { hint: `Use ${SCENARIOS.join(', ')}.` });
      axes.scenario = values as Scenario[];
    }
  }
  return axes;
}

function reduce(scenario: Scenario, intervalMs: number, reports: Array<{ report: LabReport; dir: string }>): SweepPoint {
  const goodputs = reports.map((r) => r.report.goodput.meanMbit).sort((a, b) => a - b);
  const rates = reports
    .map((r) => r.report.migrations.filter((m) => m.result === 'ok').length / Math.max(0.001, r.report.goodput.activeMs / 1000))
    .sort((a, b) => a - b);
  const took = reports.flatMap((r) => r.report.migrations.filter((m) => m.result === 'ok').map((m) => m.tookMs)).sort((a, b) => a - b);
  return {
    scenario,
    intervalMs,
    runs: reports.length,
    migrationsPerSecond: Math.round((median(rates) ?? 0) * 100) / 100,
    migrationsOk: reports.reduce((n, r) => n + r.report.migrations.filter((m) => m.result === 'ok').length, 0),
    migrationsFailed: reports.reduce((n, r) => n + r.report.migrations.filter((m) => m.result !== 'ok').length, 0),
    goodputMbit: { median: median(goodputs) ?? 0, min: goodputs[0] ?? 0, max: goodputs[goodputs.length - 1] ?? 0 },
    tookMs: { median: median(took) ?? null, p90: quantile(took, 0.9) ?? null },
    completedRuns: reports.filter((r) => r.report.client.requestSucceeded).length,
    reports: reports.map((r) => path.join(r.dir, 'report.json')),
  };
}

export async function runSweep(options: LabOptions & { axes: SweepAxes; runs?: number }): Promise<SweepResult> {
  const runs = options.runs ?? 1;
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a whole number >= 1 (got ${runs}).`);
  const scenarios = options.axes.scenario ?? [options.scenario];
  const intervals = options.axes.interval ?? [options.intervalMs ?? 500];
  const sweepDir = path.resolve(options.out);
  await mkdir(sweepDir, { recursive: true });
  const points: SweepPoint[] = [];
  const total = scenarios.length * intervals.length * runs;
  let done = 0;
  for (const scenario of scenarios) {
    for (const intervalMs of intervals) {
      const reports: Array<{ report: LabReport; dir: string }> = [];
      for (let run = 1; run <= runs; run++) {
        const dir = path.join(sweepDir, `${scenario}-${intervalMs}ms-run${run}`);
        options.onEvent?.({ kind: 'run', message: `[${++done}/${total}] ${scenario}, interval ${intervalMs} ms, run ${run}` });
        const { report } = await runLab({
          ...options,
          scenario,
          intervalMs,
          out: dir,
          onEvent: options.onEvent,
          installDir: options.installDir ?? path.join(sweepDir, 'artifact'),
        });
        reports.push({ report, dir });
      }
      points.push(reduce(scenario, intervalMs, reports));
    }
  }
  const result: SweepResult = { schema: 1, mode: options.mode ?? 'hard', points, sweepDir };
  await writeJsonAtomic(path.join(sweepDir, 'sweep.json'), result);
  await writeFileAtomic(path.join(sweepDir, 'sweep.html'), await sweepHtml(result));
  return result;
}

export function sweepTable(result: SweepResult): string[] {
  const head = ['scenario', 'interval', 'runs', 'migr/s', 'ok', 'failed', 'goodput Mbit/s (median)', 'took_ms median', 'took_ms p90'];
  const rows = result.points.map((p) => [
    p.scenario,
    `${p.intervalMs} ms`,
    String(p.runs),
    String(p.migrationsPerSecond),
    String(p.migrationsOk),
    String(p.migrationsFailed),
    String(p.goodputMbit.median),
    String(p.tookMs.median ?? '-'),
    String(p.tookMs.p90 ?? '-'),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

function sweepSpec(result: SweepResult, field: 'goodput' | 'took'): TopLevelSpec {
  const values = result.points.map((p) => ({
    scenario: p.scenario,
    rate: p.migrationsPerSecond,
    interval: p.intervalMs,
    goodput: p.goodputMbit.median,
    took: p.tookMs.median,
    p90: p.tookMs.p90,
  }));
  const y =
    field === 'goodput'
      ? { field: 'goodput', type: 'quantitative' as const, title: 'goodput, median (Mbit/s)' }
      : { field: 'took', type: 'quantitative' as const, title: 'took_ms, median' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: field === 'goodput' ? 'Goodput against the migration rate' : 'Migration latency against the migration rate',
    width: 640,
    height: 240,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'rate', type: 'quantitative', title: 'migrations per second' },
      y,
      color: { field: 'scenario', type: 'nominal' },
      tooltip: [{ field: 'interval' }],
    },
  };
}

async function sweepHtml(result: SweepResult): Promise<string> {
  const [goodput, took] = await Promise.all([renderSvg(sweepSpec(result, 'goodput')), renderSvg(sweepSpec(result, 'took'))]);
  const esc = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Migration lab sweep</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px;max-width:1100px}pre{background:#f6f6f6;padding:8px}</style></head><body>
<h1>Migration lab sweep (${esc(result.mode)})</h1><pre>${sweepTable(result).map(esc).join('\n')}</pre>
<div>${goodput}</div><div>${took}</div></body></html>
`;
}
