import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { registerLabCommand } from '../../src/cli/lab-command.js';
import type { CliContext } from '../../src/cli/context.js';
import { isBuildQuicheError } from '../../src/errors.js';
import type { SweepResult } from '../../src/lab/sweep.js';
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
    run = await lab([
      '--artifact',
      artifact,
      '--scenario',
      'rotate-ips',
      '--sweep',
      'interval=200,800',
      '--duration',
      '1.6s',
      '--out',
      ws.dir,
    ]);
    if (run.code !== 0) throw new Error(`lab exited ${run.code}:\n${run.err.join('\n')}`);
    sweep = JSON.parse(await readFile(path.join(ws.dir, 'sweep.json'), 'utf8')) as SweepResult;
  });
  afterAll(async () => ws?.remove());

  test('prints progress while it runs and a table with one row per interval', () => {
    expect(run.code).toBe(0);
    expect(run.err.some((l) => /\[1\/2\] rotate-ips, interval 200 ms/.test(l))).toBe(true);
    expect(run.err.some((l) => /migration 1: 10\.213\.1\.11:\d+ -> 10\.213\.1\.12:\d+ ok/.test(l))).toBe(true);
    expect(run.out[0]).toMatch(/^scenario\s+interval\s+runs\s+migr\/s/);
    expect(run.out.filter((l) => /^rotate-ips\s+(200|800) ms/.test(l))).toHaveLength(2);
  });

  test('migrating more often gives a higher migration rate in the sweep', () => {
    const [fast, slow] = sweep.points;
    expect(fast!.intervalMs).toBe(200);
    expect(fast!.migrationsPerSecond).toBeGreaterThan(slow!.migrationsPerSecond);
    expect(fast!.migrationsOk).toBeGreaterThan(slow!.migrationsOk);
    expect(fast!.tookMs.median).not.toBeNull();
  });

  async function screenshot(page: string): Promise<string> {
    const png = `${page}.png`;
    await exec(
      'chromium',
      ['--headless', '--no-sandbox', '--disable-gpu', `--screenshot=${png}`, '--window-size=1200,1600', `file://${page}`],
      { timeoutMs: 60_000 },
    );
    return png;
  }

  test('report.html shows the plots in headless Chromium: the goodput bars in the path colours', async () => {
    const png = await screenshot(path.join(ws.dir, 'rotate-ips-200ms-run1', 'report.html'));
    const image = await readPng(png);
    expect([image.width, image.height]).toEqual([1200, 1600]);
    // Vega's first two category colours: one per address the connection used.
    expect(countNear(image, [0x4c, 0x78, 0xa8])).toBeGreaterThan(5000);
    expect(countNear(image, [0xf5, 0x85, 0x18])).toBeGreaterThan(2000);
    expect(countNear(image, [255, 255, 255])).toBeLessThan(image.width * image.height * 0.95);
  });

  test('sweep.html holds the table and both plots as inline SVG, one line point per interval', async () => {
    const html = await readFile(path.join(ws.dir, 'sweep.html'), 'utf8');
    expect(html).toMatch(/rotate-ips\s+200 ms/);
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs).toHaveLength(2);
    for (const svg of svgs) {
      const points = /class="mark-symbol role-mark[^"]*"[^>]*>([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
      expect(points.match(/<path/g)).toHaveLength(2);
    }
  });
});
