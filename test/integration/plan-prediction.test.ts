import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plan } from '../../src/api/pipeline.js';
import type { ResolvedConfig } from '../../src/config/load.js';
import { offlineConfig, resolved, runBuild, startWorld, workspace, type World } from '../../testkit/world.js';

/** One finished build, then plan asked what re-running an early stage would do. */
let world: World;
let ws: { dir: string; remove(): Promise<void> };
let config: ResolvedConfig;
const BUILD_STAGES = ['depot-tools', 'checkout', 'patch', 'configure', 'compile', 'package'];

beforeAll(async () => {
  world = await startWorld();
  ws = await workspace('bq-plan-');
  const dir = path.join(ws.dir, 'build');
  config = await resolved(offlineConfig(world.server.baseUrl, dir, { smoke: { enabled: false } }), dir);
  const run = await runBuild(config);
  if (run.error) throw run.error;
}, 300_000);
afterAll(async () => {
  await ws?.remove();
  await world?.close();
});

const statusOf = async (force: string[]) => Object.fromEntries((await plan({ config, force })).map((entry) => [entry.stage, entry.status]));

describe('plan predicts what an early stage re-running does to the stages after it', () => {
  it('after a finished build, every stage but the host check is up to date', async () => {
    const status = await statusOf([]);
    for (const stage of ['resolve', 'patch-check', 'reuse', ...BUILD_STAGES, 'publish']) expect(status[stage], stage).toBe('skip');
  });

  it('when reuse will run again, the build stages it can switch off wait for it instead of showing skip', async () => {
    const status = await statusOf(['reuse']);
    expect(status.reuse).toBe('run');
    for (const stage of BUILD_STAGES) expect(status[stage], stage).toBe('waits');
    expect(status.publish).toBe('waits');
  });

  it('when resolve will run again, everything that reads the pin waits for it', async () => {
    const status = await statusOf(['resolve']);
    expect(status.resolve).toBe('run');
    for (const stage of ['patch-check', 'reuse', ...BUILD_STAGES, 'publish']) expect(status[stage], stage).toBe('waits');
  });
});
