import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../src/api/pipeline.js';
import { installArtifact } from '../../src/artifacts/install.js';
import type { PipelineEvent } from '../../src/engine/events.js';
import { isBuildQuicheError } from '../../src/errors.js';
import { spawnCli, writeConfigFile } from '../support/cli.js';
import { offlineConfig, resolved, runBuild, startWorld, workspace, type World } from '../../testkit/world.js';

let world: World;
let ws: { dir: string; remove(): Promise<void> };
beforeAll(async () => {
  world = await startWorld();
  ws = await workspace('bq-finished-');
  const run = await runBuild(await resolved(offlineConfig(world.server.baseUrl, ws.dir), ws.dir));
  expect(run.error).toBeUndefined();
}, 240_000);
afterAll(async () => {
  await ws?.remove();
  await world?.close();
});

describe('Ctrl-C during smoke', () => {
  it('is reported as an interruption (exit 130), not as a smoke failure, and the next run completes', async () => {
    const config = await resolved(offlineConfig(world.server.baseUrl, ws.dir), ws.dir);

    // The abort lands while the first server starts (the stage's first subprocess).
    const controller = new AbortController();
    const events: PipelineEvent[] = [];
    const error = await build({
      config,
      force: ['smoke'],
      until: 'smoke',
      signal: controller.signal,
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'stage-start' && event.stage === 'smoke') controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(isBuildQuicheError(error) && error.failureClass, (error as Error).message).toBe('interrupted');
    expect((error as Error).message).not.toMatch(/exited at start/);

    const rerun = await runBuild(config, { until: 'smoke' });
    expect(rerun.error).toBeUndefined();
    expect(rerun.ran).toContain('smoke');
  }, 240_000);
});

describe('--dist-dir on a finished cache', () => {
  it('puts the tarball in the new dist dir, where install finds it', async () => {
    const fresh = path.join(ws.dir, 'dist-new');
    const run = await runBuild(await resolved(offlineConfig(world.server.baseUrl, ws.dir, { distDir: fresh }), ws.dir));
    expect(run.error).toBeUndefined();
    expect(run.ran).toContain('package');
    expect(run.ran).not.toContain('compile');
    expect((await readdir(fresh)).filter((f) => f.endsWith('.tar.gz'))).toHaveLength(1);
    const installed = await installArtifact(fresh, { to: path.join(ws.dir, 'installed') });
    expect(existsSync(installed.binaries.quic_client!)).toBe(true);
  }, 120_000);
});

describe('a closed output pipe (build --json | head -1)', () => {
  it('does not interrupt the run nor mark any stage failed: the next run has nothing to do', async () => {
    await writeConfigFile(ws.dir, offlineConfig(world.server.baseUrl, ws.dir));
    const child = spawnCli(['build', '--json', '--force', 'compile'], { cwd: ws.dir });
    // Like head: read the first line, then close the pipe.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const result = await child;
    expect(result.exitCode, result.stderr?.toString()).toBe(0);
    const next = await runBuild(await resolved(offlineConfig(world.server.baseUrl, ws.dir), ws.dir));
    expect(next.error).toBeUndefined();
    expect(next.ran).toEqual([]);
  }, 180_000);
});
