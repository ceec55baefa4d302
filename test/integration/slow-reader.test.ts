import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loudWorld, runLoud, type LoudRun, type LoudWorld } from '../../testkit/loud-build.js';

/**
 * A reader that takes build-quiche's output slowly (a slow terminal, a pipe into something slow) must
 * never hold the build up: the real CLI in a child process runs a stand-in ninja that prints LINES
 * lines as fast as it can (testkit/loud-build.ts) while this test reads the CLI's stdout at 4 KB/s.
 * The stand-in's own time must stay what it is with a fast reader, and the stage log must still get
 * every line; what the reader could not take is dropped and counted.
 */
const LINES = 30_000;
const SLOW = { bytesPerSecond: 4096 };
let dir: string;
let world: LoudWorld;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bq-slow-reader-'));
  world = await loudWorld(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * The stand-in's time with a slow reader may not stretch. Held up by the reader, it would take as long
 * as 4 KB/s takes to read its megabytes (minutes); on a machine shared with other tests its time
 * varies 2-3x between runs, hence the bound: 3x its time with a fast reader, or 3 s more.
 */
function expectNotHeldUp(fast: LoudRun, slow: LoudRun) {
  expect(slow.printerSeconds, `stand-in ${slow.printerSeconds.toFixed(2)} s, fast reader ${fast.printerSeconds.toFixed(2)} s`).toBeLessThan(
    Math.max(3 * fast.printerSeconds, fast.printerSeconds + 3),
  );
  expect(slow.cli.code).toBe(0);
  expect(slow.logLines).toBe(LINES);
}

describe('a slow reader of the output', () => {
  it('--json: lines it cannot take are dropped and counted, every other event arrives, the build is not held up', async () => {
    const fast = await runLoud({ world, args: ['--json'], lines: LINES, reader: 'fast' });
    const slow = await runLoud({ world, args: ['--json'], lines: LINES, reader: SLOW });
    expectNotHeldUp(fast, slow);
    const events = slow.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; stage?: string; count?: number });
    const lines = events.filter((e) => e.type === 'stage-line' && e.stage === 'compile').length;
    const dropped = events.filter((e) => e.type === 'stage-lines-dropped' && e.stage === 'compile').reduce((n, e) => n + e.count!, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(lines + dropped).toBe(LINES);
    expect(events.filter((e) => e.type === 'stage-done').map((e) => e.stage)).toContain('compile');
    expect(events.at(-1)!.type).toBe('run-end');
    // A fast reader gets every line.
    expect(fast.stdout.split('\n').filter((l) => l.includes('"stage-line","stage":"compile"')).length).toBe(LINES);
  });

  it('--plain -v: the same, with a line saying how many lines were not shown', async () => {
    const fast = await runLoud({ world, args: ['--plain', '-v'], lines: LINES, reader: 'fast' });
    const slow = await runLoud({ world, args: ['--plain', '-v'], lines: LINES, reader: SLOW });
    expectNotHeldUp(fast, slow);
    expect(slow.stdout).toMatch(/compile\| … \d+ line\(s\) not shown: the output was read too slowly \(all are in the stage log\)/);
    expect(slow.stdout).toMatch(/✔ compile: done in/);
  });

  it('the live view on a terminal that reads slowly: the build goes on, the view catches up', async () => {
    const fast = await runLoud({ world, args: [], tty: true, lines: LINES, reader: 'fast' });
    const slow = await runLoud({ world, args: [], tty: true, lines: LINES, reader: SLOW });
    expectNotHeldUp(fast, slow);
    // The view drew the compile's progress and its last lines, and ended with the summary.
    expect(fast.stdout).toMatch(/\[\d+\/30000\] CXX obj\//);
    expect(slow.stdout).toMatch(/finished in [\d.]+m?s: ran /);
  });
});
