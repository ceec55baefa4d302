import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { registerLabCommand } from '../../src/cli/lab-command.js';
import type { CliContext } from '../../src/cli/context.js';
import { isBuildQuicheError } from '../../src/errors.js';
import type { SweepResult } from '../../src/lab/sweep.js';
import type { LabReport } from '../../src/lab/types.js';
import { exec } from '../../src/process/exec.js';
import { workspace } from '../../testkit/world.js';
import { fixtureArtifact, labUnavailable } from '../support/fixture-artifact.js';
import { countNear, readPng } from '../support/png.js';

/** The lab command on its own program (the lead wires it into the real CLI): output lines and exit code. */
async function lab(args: string[], json = false): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('build-quiche').exitOverride();
  program.configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  const ctx = {
    io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l), isTTY: false, env: {} },
    mode: () => ({ json, verbose: false, plain: true }),
    signal: new AbortController().signal,
  } as unknown as CliContext;
  registerLabCommand(program, ctx);
  try {
    await program.parseAsync(['lab', ...args], { from: 'user' });
    return { code: 0, out, err };
  } catch (error) {
    if (isBuildQuicheError(error)) return { code: error.exitCode, out, err: [...err, error.message] };
    return { code: 2, out, err: [...err, String(error)] };
  }
}

describe('lab command: bad input', () => {
  test('an unknown scenario is a usage error naming the choices', async () => {
    const r = await lab(['--artifact', 'x', '--scenario', 'three-paths', '--out', '/tmp/x']);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/two-paths, rotate-ips, rebind-port/);
  });

  test('a duration that is not one is refused with the accepted forms', async () => {
    const r = await lab(['--artifact', 'x', '--scenario', 'rotate-ips', '--duration', 'soon', '--out', '/tmp/x']);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/--duration "soon" is not a duration/);
  });

  test('a rate for a link the scenario does not have is refused, naming its links', async () => {
    const r = await lab(['--artifact', 'x', '--scenario', 'rotate-ips', '--rate-mbit', 'tunnel=10', '--out', '/tmp/x']);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/rotate-ips has no link "tunnel" to rate-limit/);
  });

  test('more clients than the lab holds, or a sweep over zero clients, is refused before anything runs', async () => {
    const many = await lab(['--artifact', 'x', '--scenario', 'rotate-ips', '--clients', '40', '--out', '/tmp/x']);
    expect(many.code).toBe(2);
    expect(many.err.join('\n')).toMatch(/--clients must be a whole number from 1 to 32 \(got 40\)/);
    const pool = await lab(['--artifact', 'x', '--scenario', 'rotate-ips', '--clients', '32', '--addresses', '8', '--out', '/tmp/x']);
    expect(pool.err.join('\n')).toMatch(/32 clients with 8 addresses each need more than the lab's 200 client addresses/);
    const zero = await lab(['--artifact', 'x', '--scenario', 'rotate-ips', '--sweep', 'clients=0,2', '--out', '/tmp/x']);
    expect(zero.code).toBe(2);
    expect(zero.err.join('\n')).toMatch(/--sweep clients: "0" is not a whole number >= 1/);
  });

  test('a sweep axis it does not know is refused', async () => {
    const r = await lab(['--artifact', 'x', '--scenario', 'rotate-ips', '--sweep', 'rate=1,2', '--out', '/tmp/x']);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/Cannot read --sweep rate=1,2/);
  });
});

const skip = labUnavailable();
if (skip) console.log(`skipping the lab sweep and report page: ${skip}`);

describe.skipIf(skip)('lab sweep through the command, and the report pages in headless Chromium', () => {
  let ws: { dir: string; remove(): Promise<void> };
  let run: { code: number; out: string[]; err: string[] };
  let sweep: SweepResult;
  beforeAll(async () => {
    const artifact = await fixtureArtifact();
    ws = await workspace('bq-lab-cli-');
    // 2 intervals x 2 client counts x 2 runs: eight short runs.
    run = await lab([
      '--artifact',
      artifact,
      '--scenario',
      'rotate-ips',
      '--sweep',
      'interval=200,800',
      '--sweep',
      'clients=1,3',
      '--runs',
      '2',
      '--addresses',
      '3',
      '--duration',
      '1.6s',
      '--out',
      ws.dir,
    ]);
    if (run.code !== 0) throw new Error(`lab exited ${run.code}:\n${run.err.join('\n')}`);
    sweep = JSON.parse(await readFile(path.join(ws.dir, 'sweep.json'), 'utf8')) as SweepResult;
  }, 600_000);
  afterAll(async () => ws?.remove());

  test('prints progress while it runs and a table with one row per point, medians with intervals', () => {
    expect(run.code).toBe(0);
    expect(run.err.some((l) => /\[1\/8\] rotate-ips, interval 200 ms, run 1/.test(l))).toBe(true);
    expect(run.err.some((l) => /\[4\/8\] rotate-ips, interval 200 ms, 3 clients, run 2/.test(l))).toBe(true);
    expect(run.err.some((l) => /client 2 migration 1: 10\.213\.1\.17:\d+ -> 10\.213\.1\.18:\d+ ok/.test(l))).toBe(true);
    expect(run.out[0]).toMatch(/^scenario\s+interval\s+clients\s+runs\s+migr\/s/);
    expect(run.out.filter((l) => /^rotate-ips\s+(200|800) ms\s+[13]\s+2\s+\S+ \[/.test(l))).toHaveLength(4);
    expect(run.out.at(-2)).toMatch(/^median \[interval\] over the runs/);
  });

  test('migrating more often gives a higher migration rate in the sweep', () => {
    const at = (intervalMs: number, clients: number) => sweep.points.find((p) => p.intervalMs === intervalMs && p.clients === clients)!;
    const [fast, slow] = [at(200, 1), at(800, 1)];
    expect(fast.migrationsPerSecond.median).toBeGreaterThan(slow.migrationsPerSecond.median!);
    expect(fast.migrationsOk).toBeGreaterThan(slow.migrationsOk);
    expect(fast.tookMs.median.median).not.toBeNull();
    expect(fast.goodputMbit).toMatchObject({ n: 2 });
  });

  test('with three clients the timing observer still links, choosing among several candidates', async () => {
    const point = sweep.points.find((p) => p.intervalMs === 200 && p.clients === 3)!;
    expect(point.models.timing.recall.median).toBeGreaterThan(0.5);
    const report = JSON.parse(await readFile(point.reports[0]!, 'utf8')) as LabReport;
    expect(report.clients.map((c) => c.requestSucceeded)).toEqual([true, true, true]);
    expect(report.linking.best.timing!.candidates).toBeGreaterThan(1);
  });

  async function screenshot(page: string, height: number): Promise<string> {
    const png = `${page}.png`;
    await exec(
      'chromium',
      ['--headless', '--no-sandbox', '--disable-gpu', `--screenshot=${png}`, `--window-size=1200,${height}`, `file://${page}`],
      { timeoutMs: 60_000 },
    );
    return png;
  }

  test('report.html shows the plots in headless Chromium: precision and recall per model, the goodput bars in the client colours', async () => {
    const report = sweep.points.find((p) => p.intervalMs === 200 && p.clients === 3)!.reports[0]!;
    const png = await screenshot(path.join(path.dirname(report), 'report.html'), 3000);
    const image = await readPng(png);
    expect([image.width, image.height]).toEqual([1200, 3000]);
    // The models' bars: timing (red) and timing + volume (purple) linked most migrations at both observers.
    expect(countNear(image, [0xd6, 0x27, 0x28])).toBeGreaterThan(3000);
    expect(countNear(image, [0x94, 0x67, 0xbd])).toBeGreaterThan(1000);
    // Vega's first two category colours: the goodput of clients 0 and 1.
    expect(countNear(image, [0x4c, 0x78, 0xa8])).toBeGreaterThan(2000);
    expect(countNear(image, [0xf5, 0x85, 0x18])).toBeGreaterThan(2000);
    expect(countNear(image, [255, 255, 255])).toBeLessThan(image.width * image.height * 0.95);
  });

  test('sweep.html shows what an observer links against the number of clients, with error bars, and the cost plots', async () => {
    const html = await readFile(path.join(ws.dir, 'sweep.html'), 'utf8');
    expect(html).toMatch(/rotate-ips\s+200 ms\s+3/);
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    // Against clients, against the interval, goodput and took_ms against the migration rate.
    expect(svgs).toHaveLength(4);
    expect(svgs[0]!.includes('concurrent clients')).toBe(true);
    expect(/class="mark-rule role-mark/.test(svgs[0]!)).toBe(true);
    const png = await screenshot(path.join(ws.dir, 'sweep.html'), 1600);
    const image = await readPng(png);
    expect(countNear(image, [0xd6, 0x27, 0x28])).toBeGreaterThan(150);
    expect(countNear(image, [0x2c, 0xa0, 0x2c])).toBeGreaterThan(150);
  });
});
