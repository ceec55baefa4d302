import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBuildQuicheError } from '../../src/errors.js';
import { offlineConfig, resolved, runBuild, startWorld, workspace, type World } from '../../testkit/world.js';

let world: World;
let ws: { dir: string; remove(): Promise<void> };
beforeAll(async () => {
  world = await startWorld();
  ws = await workspace('bq-missing-commit-');
});
afterAll(async () => {
  await ws?.remove();
  await world?.close();
});

describe('a commit pin that does not exist', () => {
  it('stops with exit 6 and a headline naming the commit and the repository, not a git command line', async () => {
    const commit = '0123456789abcdef0123456789abcdef01234567';
    const run = await runBuild(await resolved(offlineConfig(world.server.baseUrl, ws.dir, { chromium: { version: commit } }), ws.dir), {
      until: 'resolve',
    });
    expect(isBuildQuicheError(run.error) && run.error.exitCode).toBe(6);
    expect((run.error as Error).message).toBe(`Commit ${commit} does not exist at ${world.server.baseUrl}/chromium/src.git.`);
  }, 120_000);
});
