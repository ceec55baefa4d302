import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headCommit } from '../../src/adapters/git.js';
import path from 'node:path';
import { offlineConfig, resolved, runBuild, startWorld, TAG_150, TAG_152, workspace, type World } from '../support/world.js';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => world?.close());

describe('cold checkout', () => {
  it('checks out 152 with every pin verified, and a rerun starts no gclient sync', async () => {
    const ws = await workspace();
    try {
      const config = await resolved(offlineConfig(world.server.baseUrl, ws.dir), ws.dir);
      const first = await runBuild(config, { until: 'checkout' });
      expect(first.error).toBeUndefined();
      expect(first.ran).toEqual(['preflight', 'resolve', 'patch-check', 'reuse', 'depot-tools', 'checkout']);
      const root = path.join(ws.dir, 'cache', 'chromium');
      const pin = world.upstream.tags[TAG_152];
      expect(await headCommit(path.join(root, 'src'))).toBe(pin.srcCommit);
      expect(await headCommit(path.join(root, 'src/net/third_party/quiche/src'))).toBe(pin.quicheRevision);

      const before = world.server.requests.length;
      const second = await runBuild(config, { until: 'checkout' });
      expect(second.error).toBeUndefined();
      expect(second.ran).toEqual(['preflight']);
      expect(world.server.requests.length).toBe(before);
    } finally {
      await ws.remove();
    }
  });
});
