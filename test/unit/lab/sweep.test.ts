import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyseRun } from '../../../src/lab/analyse.js';
import { renderSvg } from '../../../src/lab/plots.js';
import { modelsAgainstSpec, parseSweep, reducePoint, sweepTable, type SweepResult } from '../../../src/lab/sweep.js';
import { readRawRunFixture } from '../../support/raw-run-fixture.js';

/** The sweep's reduction, table and plots on recorded runs (no root: runSweep itself is in test/lab). */

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const report = async (name: string, windowMs?: number) =>
  analyseRun(await readRawRunFixture(path.join(FIXTURES, `${name}.raw.json`)), windowMs ? { windowMs } : {});

describe('parseSweep', () => {
  it('reads every axis, repeatable', () => {
    expect(parseSweep(['clients=1,2,4', 'quiet=0,200', 'jitter=0,100', 'interval=250', 'scenario=two-paths'])).toEqual({
      clients: [1, 2, 4],
      quiet: [0, 200],
      jitter: [0, 100],
      interval: [250],
      scenario: ['two-paths'],
    });
  });

  it('refuses what it cannot read, saying what it takes', () => {
    expect(() => parseSweep(['rate=1,2'])).toThrow(/Cannot read --sweep rate=1,2/);
    expect(() => parseSweep(['clients=0,2'])).toThrow(/--sweep clients: "0" is not a whole number >= 1/);
    expect(() => parseSweep(['quiet=-5'])).toThrow(/--sweep quiet: "-5"/);
  });
});

describe('a sweep point over its runs', () => {
  it('medians and intervals of goodput, migration rate, took_ms and each model at its best observer', async () => {
    const runs = await Promise.all(
      [undefined, 50, 400].map(async (windowMs, i) => ({ report: await report('rotate-ips-4-clients', windowMs), dir: `out/run${i + 1}` })),
    );
    const point = reducePoint({ scenario: 'rotate-ips', intervalMs: 250, clients: 4, quietMs: 0, jitterMs: 0 }, runs);
    expect(point).toMatchObject({
      runs: 3,
      completedRuns: 3,
      migrationsOk: 36,
      migrationsFailed: 0,
      goodputMbit: { n: 3, median: 2.91, coverage: 0.75 },
      hostLimitedRuns: 3,
      reports: ['out/run1/report.json', 'out/run2/report.json', 'out/run3/report.json'],
    });
    expect(point.models.timing.observer).toBe('server');
    expect(point.models.timing.recall.n).toBe(3);
    expect(point.models.identifiers.recall).toMatchObject({ median: 0, low: 0, high: 0 });
  });
});

async function twoPointSweep(): Promise<SweepResult> {
  const one = await report('rotate-ips');
  const four = await report('rotate-ips-4-clients');
  const point = (clients: number, r: typeof one) =>
    reducePoint({ scenario: 'rotate-ips', intervalMs: 250, clients, quietMs: 0, jitterMs: 0 }, [
      { report: r, dir: 'a' },
      { report: r, dir: 'b' },
    ]);
  return {
    schema: 2,
    mode: 'hard',
    axes: { scenario: ['rotate-ips'], interval: [250], clients: [1, 4], quiet: [0], jitter: [0] },
    timingWindowMs: 100,
    points: [point(1, one), point(4, four)],
    sweepDir: 'out',
  };
}

describe('the sweep table and plots', () => {
  it('one row per point with medians [intervals], the models and whether the host was the limit, and a line on the intervals', async () => {
    const lines = sweepTable(await twoPointSweep());
    expect(lines[0]).toMatch(
      /^scenario\s+interval\s+clients\s+runs\s+migr\/s\s+ok\s+failed\s+goodput Mbit\/s\s+took_ms median\s+took_ms p90\s+identifiers recall\s+timing precision\s+timing recall/,
    );
    expect(lines[1]).toMatch(/^rotate-ips\s+250 ms\s+1\s+2\s+\S+ \[\S+, \S+\]\s+6\s+0\s+0\.93 \[0\.93, 0\.93\]/);
    expect(lines[2]).toMatch(/^rotate-ips\s+250 ms\s+4\s+2\s.*limit in 2\/2$/);
    expect(lines.at(-1)).toMatch(
      /^median \[interval\] over the runs; the interval holds the median with probability >= 50% \(order statistics, 2 runs\)/,
    );
  });

  it('precision and recall against the number of clients: one line and one error bar per model and metric', async () => {
    const svg = await renderSvg(modelsAgainstSpec(await twoPointSweep(), 'clients'));
    expect(svg).toContain('concurrent clients');
    // Two facets (precision, recall), each with a line per model and one layer of error bars; ticks at the points.
    expect((svg.match(/class="mark-line role-mark/g) ?? []).length).toBe(6);
    expect((svg.match(/class="mark-rule role-mark/g) ?? []).length).toBe(2);
    expect(svg).toContain('#d62728');
    expect(svg).not.toMatch(/>1\.2</);
  });
});
