import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { UsageError } from '../errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { quantile } from '../util/stats.js';
import { formatInterval, medianInterval, type Interval } from './interval.js';
import { OBSERVER_MODELS, type ObserverModel } from './linking.js';
import { modelColorScale, renderSvg } from './plots.js';
import { LAB_DEFAULTS, runLab } from './run.js';
import { SCENARIOS, type LabOptions, type LabReport, type Scenario } from './types.js';

/**
 * The lab over a grid: "how often can I migrate, and what does it cost?" (the migration interval),
 * and "what can an observer link among how many users?" (the number of concurrent clients, and the
 * researcher's knobs: a quiet gap before each switch, jitter on the interval). Every point runs K
 * times; the table and the plots give each quantity as the median over the runs and a
 * distribution-free interval for it (src/lab/interval.ts).
 */

export const SWEEP_AXES = ['scenario', 'interval', 'clients', 'quiet', 'jitter'] as const;
export type SweepAxis = (typeof SWEEP_AXES)[number];

export interface SweepAxes {
  scenario?: Scenario[];
  interval?: number[];
  clients?: number[];
  quiet?: number[];
  jitter?: number[];
}

export interface ModelSpread {
  /** The observer that linked most in most runs (each run's headline observer). */
  observer: string | null;
  precision: Interval;
  recall: Interval;
  /** Timing models: candidate predecessors per flow, the set the observer picked from. */
  candidates: Interval;
}

export interface SweepPoint {
  scenario: Scenario;
  intervalMs: number;
  clients: number;
  quietMs: number;
  jitterMs: number;
  runs: number;
  completedRuns: number;
  /** Successful migrations per second of download, per client, over the runs. */
  migrationsPerSecond: Interval;
  /** Totals over the runs. */
  migrationsOk: number;
  migrationsFailed: number;
  goodputMbit: Interval;
  /** `median`: each run's median took_ms, over the runs; `p90`: all the point's successful migrations pooled. */
  tookMs: { median: Interval; p90: number | null };
  /** Each observer model's precision and recall at its best observer, over the runs. */
  models: Record<ObserverModel, ModelSpread>;
  /** Runs in which the host's CPUs were the limit (docs/lab.md), and how busy they were. */
  hostLimitedRuns: number;
  cpuBusy: Interval;
  reports: string[];
}

export interface SweepResult {
  schema: 2;
  mode: string;
  /** The axes as given (one value each for the ones not swept). */
  axes: Required<SweepAxes>;
  timingWindowMs: number;
  points: SweepPoint[];
  sweepDir: string;
}

const numbers = (axis: string, values: string[], min: number, unit: string) =>
  values.map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--sweep ${axis}: "${v}" is not a whole number${unit} >= ${min}.`);
    return n;
  });

/** `interval=100,250,500`, `scenario=rotate-ips,two-paths`, `clients=1,2,4,8,16`, `quiet=0,200`, `jitter=0,250`; repeatable. */
export function parseSweep(specs: string[]): SweepAxes {
  const axes: SweepAxes = {};
  for (const spec of specs) {
    const m = new RegExp(`^(${SWEEP_AXES.join('|')})=(.+)$`).exec(spec.trim());
    if (!m)
      throw new UsageError(`Cannot read --sweep ${spec}.`, {
        hint: 'Use --sweep interval=100,250,500, scenario=rotate-ips,two-paths, clients=1,2,4,8,16, quiet=0,200,400 or jitter=0,250 (repeatable).',
      });
    const values = m[2]!
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    const axis = m[1] as SweepAxis;
    if (axis === 'scenario') {
      for (const v of values)
        if (!SCENARIOS.includes(v as Scenario))
          throw new UsageError(`--sweep scenario: unknown scenario "${v}".`, { hint: `Use ${SCENARIOS.join(', ')}.` });
      axes.scenario = values as Scenario[];
    } else if (axis === 'interval') axes.interval = numbers(axis, values, 10, ' of milliseconds');
    else if (axis === 'clients') axes.clients = numbers(axis, values, 1, '');
    else axes[axis] = numbers(axis, values, 0, ' of milliseconds');
  }
  return axes;
}

interface RunOfPoint {
  report: LabReport;
  dir: string;
}

const mostCommon = (values: string[]) => {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
};

export function reducePoint(
  settings: Pick<SweepPoint, 'scenario' | 'intervalMs' | 'clients' | 'quietMs' | 'jitterMs'>,
  runs: RunOfPoint[],
): SweepPoint {
  const okOf = (r: LabReport) => r.migrations.filter((m) => m.result === 'ok');
  const took = runs.flatMap((r) => okOf(r.report).map((m) => m.tookMs)).sort((a, b) => a - b);
  const runMedianTook = runs.map((r) => medianInterval(okOf(r.report).map((m) => m.tookMs)).median);
  const models = Object.fromEntries(
    OBSERVER_MODELS.map((model) => {
      const best = runs.map((r) => r.report.linking.best[model]);
      return [
        model,
        {
          observer: mostCommon(best.flatMap((b) => (b ? [b.observer] : []))),
          precision: medianInterval(best.map((b) => b?.precision)),
          recall: medianInterval(best.map((b) => b?.recall)),
          candidates: medianInterval(best.map((b) => b?.candidates)),
        },
      ];
    }),
  ) as Record<ObserverModel, ModelSpread>;
  return {
    ...settings,
    runs: runs.length,
    completedRuns: runs.filter((r) => r.report.client.requestSucceeded).length,
    migrationsPerSecond: medianInterval(
      runs.map((r) => okOf(r.report).length / r.report.clients.length / Math.max(0.001, r.report.goodput.activeMs / 1000)),
    ),
    migrationsOk: runs.reduce((n, r) => n + okOf(r.report).length, 0),
    migrationsFailed: runs.reduce((n, r) => n + r.report.migrations.filter((m) => m.result !== 'ok').length, 0),
    goodputMbit: medianInterval(runs.map((r) => r.report.goodput.meanMbit)),
    tookMs: { median: medianInterval(runMedianTook), p90: quantile(took, 0.9) ?? null },
    models,
    hostLimitedRuns: runs.filter((r) => r.report.host.limited).length,
    cpuBusy: medianInterval(runs.map((r) => r.report.host.busy)),
    reports: runs.map((r) => path.join(r.dir, 'report.json')),
  };
}

/** A point's directory: the scenario and interval, and the other axes when they differ from a plain run. */
function pointDir(p: Pick<SweepPoint, 'scenario' | 'intervalMs' | 'clients' | 'quietMs' | 'jitterMs'>, run: number): string {
  return [
    p.scenario,
    `${p.intervalMs}ms`,
    ...(p.clients > 1 ? [`${p.clients}clients`] : []),
    ...(p.quietMs > 0 ? [`quiet${p.quietMs}ms`] : []),
    ...(p.jitterMs > 0 ? [`jitter${p.jitterMs}ms`] : []),
    `run${run}`,
  ].join('-');
}

/** Every point of the grid `runs` times (no axis: one point, the options' own, K times). */
export async function runSweep(options: LabOptions & { axes: SweepAxes; runs?: number }): Promise<SweepResult> {
  const runs = options.runs ?? 1;
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a whole number >= 1 (got ${runs}).`);
  const axes: Required<SweepAxes> = {
    scenario: options.axes.scenario ?? [options.scenario],
    interval: options.axes.interval ?? [options.intervalMs ?? LAB_DEFAULTS.intervalMs],
    clients: options.axes.clients ?? [options.clients ?? LAB_DEFAULTS.clients],
    quiet: options.axes.quiet ?? [options.quietMs ?? LAB_DEFAULTS.quietMs],
    jitter: options.axes.jitter ?? [options.jitterMs ?? LAB_DEFAULTS.jitterMs],
  };
  const sweepDir = path.resolve(options.out);
  await mkdir(sweepDir, { recursive: true });
  const grid = axes.scenario.flatMap((scenario) =>
    axes.interval.flatMap((intervalMs) =>
      axes.clients.flatMap((clients) =>
        axes.quiet.flatMap((quietMs) => axes.jitter.map((jitterMs) => ({ scenario, intervalMs, clients, quietMs, jitterMs }))),
      ),
    ),
  );
  const points: SweepPoint[] = [];
  const total = grid.length * runs;
  let done = 0;
  for (const settings of grid) {
    const reports: RunOfPoint[] = [];
    for (let run = 1; run <= runs; run++) {
      const dir = path.join(sweepDir, pointDir(settings, run));
      const what = [
        settings.scenario,
        `interval ${settings.intervalMs} ms`,
        ...(settings.clients > 1 ? [`${settings.clients} clients`] : []),
        ...(settings.quietMs ? [`quiet ${settings.quietMs} ms`] : []),
        ...(settings.jitterMs ? [`jitter ${settings.jitterMs} ms`] : []),
      ].join(', ');
      options.onEvent?.({ kind: 'run', message: `[${++done}/${total}] ${what}, run ${run}` });
      const { report } = await runLab({
        ...options,
        ...settings,
        // Each run its own phases: the spread over runs includes where the clients' schedules fell.
        seed: options.seed === undefined ? undefined : options.seed + run - 1,
        out: dir,
        installDir: options.installDir ?? path.join(sweepDir, 'artifact'),
      });
      reports.push({ report, dir });
    }
    points.push(reducePoint(settings, reports));
  }
  const result: SweepResult = {
    schema: 2,
    mode: options.mode ?? LAB_DEFAULTS.mode,
    axes,
    timingWindowMs: options.timingWindowMs ?? LAB_DEFAULTS.timingWindowMs,
    points,
    sweepDir,
  };
  await writeJsonAtomic(path.join(sweepDir, 'sweep.json'), result);
  await writeFileAtomic(path.join(sweepDir, 'sweep.html'), await sweepHtml(result));
  return result;
}

/** The axes with more than one value: the table shows them, the plots put them on the x axis. */
const swept = (result: SweepResult) => SWEEP_AXES.filter((axis) => result.axes[axis].length > 1);

export function sweepTable(result: SweepResult): string[] {
  const showQuiet = result.points.some((p) => p.quietMs > 0);
  const showJitter = result.points.some((p) => p.jitterMs > 0);
  const head = [
    'scenario',
    'interval',
    'clients',
    ...(showQuiet ? ['quiet'] : []),
    ...(showJitter ? ['jitter'] : []),
    'runs',
    'migr/s',
    'ok',
    'failed',
    'goodput Mbit/s',
    'took_ms median',
    'took_ms p90',
    'identifiers recall',
    'timing precision',
    'timing recall',
    'timing candidates',
    'timing+volume precision',
    'timing+volume recall',
    'host',
  ];
  const rows = result.points.map((p) => [
    p.scenario,
    `${p.intervalMs} ms`,
    String(p.clients),
    ...(showQuiet ? [`${p.quietMs} ms`] : []),
    ...(showJitter ? [`${p.jitterMs} ms`] : []),
    String(p.runs),
    formatInterval(p.migrationsPerSecond),
    String(p.migrationsOk),
    String(p.migrationsFailed),
    formatInterval(p.goodputMbit),
    formatInterval(p.tookMs.median, 1),
    String(p.tookMs.p90 ?? '-'),
    formatInterval(p.models.identifiers.recall),
    formatInterval(p.models.timing.precision),
    formatInterval(p.models.timing.recall),
    formatInterval(p.models.timing.candidates),
    formatInterval(p.models['timing+volume'].precision),
    formatInterval(p.models['timing+volume'].recall),
    p.hostLimitedRuns ? `limit in ${p.hostLimitedRuns}/${p.runs}` : 'ok',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const coverage = Math.min(...result.points.map((p) => p.goodputMbit.coverage));
  const runs = Math.min(...result.points.map((p) => p.runs));
  return [
    line(head),
    ...rows.map(line),
    runs > 1
      ? `median [interval] over the runs; the interval holds the median with probability >= ${Math.round(coverage * 1000) / 10}% (order statistics, ${runs} runs); precision and recall at each run's best observer, timing window ${result.timingWindowMs} ms`
      : `one run per point: no interval; precision and recall at the best observer, timing window ${result.timingWindowMs} ms`,
  ];
}

/** The line a point belongs to in the plots: what varies besides the x axis. */
function seriesOf(result: SweepResult, p: SweepPoint, x: SweepAxis | 'rate'): string {
  const parts: string[] = [];
  for (const axis of swept(result)) {
    if (axis === x) continue;
    if (axis === 'scenario') parts.push(p.scenario);
    if (axis === 'interval' && x !== 'rate') parts.push(`${p.intervalMs} ms`);
    if (axis === 'clients') parts.push(`${p.clients} client${p.clients > 1 ? 's' : ''}`);
    if (axis === 'quiet') parts.push(`quiet ${p.quietMs} ms`);
    if (axis === 'jitter') parts.push(`jitter ${p.jitterMs} ms`);
  }
  return parts.join(', ') || p.scenario;
}

const hostShape = {
  field: 'host',
  type: 'nominal' as const,
  title: 'host',
  scale: { domain: ['ok', 'limit'], range: ['circle', 'cross'] },
};

/** A median with its interval as a vertical rule (and a horizontal one for an x that is itself a median). */
function costSpec(result: SweepResult, field: 'goodput' | 'took'): TopLevelSpec {
  const values = result.points.map((p) => {
    const y = field === 'goodput' ? p.goodputMbit : p.tookMs.median;
    return {
      series: seriesOf(result, p, 'rate'),
      interval: p.intervalMs,
      x: p.migrationsPerSecond.median,
      xLow: p.migrationsPerSecond.low,
      xHigh: p.migrationsPerSecond.high,
      y: y.median,
      low: y.low,
      high: y.high,
      host: p.hostLimitedRuns ? 'limit' : 'ok',
    };
  });
  const title = field === 'goodput' ? 'goodput of all clients, median (Mbit/s)' : 'took_ms, median of the runs';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: field === 'goodput' ? 'Goodput against the migration rate' : 'Migration latency against the migration rate',
    width: 640,
    height: 240,
    data: { values },
    encoding: { color: { field: 'series', type: 'nominal', title: null } },
    layer: [
      {
        mark: { type: 'line', point: false },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: 'migrations per second per client (median)' },
          y: { field: 'y', type: 'quantitative', title },
        },
      },
      {
        mark: { type: 'rule' },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
      },
      {
        mark: { type: 'rule' },
        encoding: { y: { field: 'y', type: 'quantitative' }, x: { field: 'xLow', type: 'quantitative' }, x2: { field: 'xHigh' } },
      },
      {
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x: { field: 'x', type: 'quantitative' },
          y: { field: 'y', type: 'quantitative' },
          shape: hostShape,
          tooltip: [{ field: 'interval' }, { field: 'series' }],
        },
      },
    ],
  };
}

const AXIS_TITLES: Record<Exclude<SweepAxis, 'scenario'>, string> = {
  clients: 'concurrent clients',
  interval: 'migration interval (ms)',
  quiet: 'quiet gap before each migration (ms)',
  jitter: 'jitter on the interval (ms)',
};
const axisValue = (p: SweepPoint, axis: Exclude<SweepAxis, 'scenario'>) =>
  ({ clients: p.clients, interval: p.intervalMs, quiet: p.quietMs, jitter: p.jitterMs })[axis];

/** Precision and recall of each observer model against one swept axis, with the runs' intervals. */
export function modelsAgainstSpec(result: SweepResult, axis: Exclude<SweepAxis, 'scenario'>): TopLevelSpec {
  const values = result.points.flatMap((p) =>
    OBSERVER_MODELS.flatMap((model) =>
      (['precision', 'recall'] as const).flatMap((metric) => {
        const i = p.models[model][metric];
        return i.median === null
          ? []
          : [
              {
                x: axisValue(p, axis),
                model,
                metric,
                series: `${model} ${seriesOf(result, p, axis)}`,
                other: seriesOf(result, p, axis),
                median: i.median,
                low: i.low,
                high: i.high,
                host: p.hostLimitedRuns ? 'limit' : 'ok',
              },
            ];
      }),
    ),
  );
  const ticks = [...new Set(result.points.map((p) => axisValue(p, axis)))].sort((a, b) => a - b);
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title: AXIS_TITLES[axis],
    axis: { values: ticks, format: 'd' },
    // Clients double from point to point (1, 2, 4, 8, 16): a log scale spaces them evenly.
    ...(axis === 'clients' ? { scale: { type: 'log' as const, base: 2 } } : {}),
  };
  const others = new Set(values.map((v) => v.other)).size > 1;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `What an observer links against ${AXIS_TITLES[axis]}: median and interval over the runs (timing window ${result.timingWindowMs} ms)`,
    data: { values },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: ['precision', 'recall'] } },
    spec: {
      width: 320,
      height: 220,
      encoding: {
        color: { field: 'model', type: 'nominal', title: 'model', scale: modelColorScale },
        ...(others ? { strokeDash: { field: 'other', type: 'nominal' as const, title: null } } : {}),
      },
      layer: [
        // One line layer per model, timing first and widest: timing and timing + volume often agree, and
        // the narrower line drawn over it leaves it visible.
        ...(['timing', 'timing+volume', 'identifiers'] as const).map((model) => ({
          transform: [{ filter: { field: 'model', equal: model } }],
          mark: { type: 'line' as const, strokeWidth: model === 'timing' ? 5 : 2 },
          encoding: {
            x,
            y: { field: 'median', type: 'quantitative' as const, title: null, scale: { domain: [0, 1] } },
            detail: { field: 'series' },
          },
        })),
        { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } } },
        {
          mark: { type: 'point', filled: true, size: 60 },
          encoding: {
            x,
            y: { field: 'median', type: 'quantitative' },
            shape: hostShape,
            tooltip: [{ field: 'series' }, { field: 'median' }],
          },
        },
      ],
    },
  };
}

async function sweepHtml(result: SweepResult): Promise<string> {
  // Against each swept axis, the number of clients first; with none but the scenario (or none at all),
  // against the interval.
  const order = ['clients', 'quiet', 'jitter', 'interval'] as const;
  const varying = order.filter((axis) => result.axes[axis].length > 1);
  const against: Array<Exclude<SweepAxis, 'scenario'>> = varying.length ? [...varying] : ['interval'];
  const svgs = await Promise.all([
    ...against.map((axis) => renderSvg(modelsAgainstSpec(result, axis))),
    renderSvg(costSpec(result, 'goodput')),
    renderSvg(costSpec(result, 'took')),
  ]);
  const esc = (s: string) => s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Migration lab sweep</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:24px;max-width:1400px}pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:12px}</style></head><body>
<h1>Migration lab sweep (${esc(result.mode)})</h1><pre>${sweepTable(result).map(esc).join('\n')}</pre>
<p>Crosses mark points where the host's CPUs were the limit in at least one run (docs/lab.md). Precision and recall are
each run's best observer's (the one that linked most migrations under the model).</p>
${svgs.map((svg) => `<div>${svg}</div>`).join('\n')}</body></html>
`;
}
