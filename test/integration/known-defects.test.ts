import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, waitForLine, writeConfigFile } from '../support/cli.js';
import { offlineConfig, startWorld, workspace, type World } from '../../testkit/world.js';
import { strays } from '../faults/harness.js';

/**
 * Defects the fault suite found whose fix lay in files being restructured at the time (the engine,
 * the CLI's main module, the source stages). Each test states the expected behaviour; it was marked
 * `it.fails` until the fix landed, and stays to keep it fixed.
 */
let world: World;
let ws: { dir: string; remove(): Promise<void> };
beforeAll(async () => {
  world = await startWorld();
  ws = await workspace('bq-defects-');
  await writeConfigFile(ws.dir, offlineConfig(world.server.baseUrl, ws.dir));
});
afterAll(async () => {
  await ws?.remove();
  await world?.close();
});

describe('defects found by the fault suite', () => {
  // Was a defect: preflight is an `always` stage without a record, so `status` printed "never run".
  it('status shows when preflight last checked the host, not "never run"', async () => {
    const run = await spawnCli(['build', '--until', 'resolve'], { cwd: ws.dir });
    expect(run.exitCode, run.all).toBe(0);
    const status = await spawnCli(['status'], { cwd: ws.dir });
    expect(status.all).toMatch(/^preflight\s/m);
    expect(status.all).not.toMatch(/^preflight\s+never run/m);
    expect(status.all).toMatch(/^preflight\s+checked on every run; last \d{4}-\d\d-\d\dT/m);
  }, 120_000);

  // Was a defect: kill -9 of build-quiche alone left ninja and the compilers running (their process
  // groups are their own); src/process/reaper.ts now takes them down with it.
  it('kill -9 of build-quiche during compile leaves none of its subprocesses running', async () => {
    const child = spawnCli(['build', '--plain'], { cwd: ws.dir });
    await waitForLine(child, '▶ compile:', 180_000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.kill('SIGKILL');
    await child;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const left = await strays(ws.dir);
    // Clean up what the defect leaves, so later tests start clean.
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    expect(existsSync(path.join(ws.dir, 'cache'))).toBe(true);
    expect(left).toEqual([]);
  }, 240_000);
});
