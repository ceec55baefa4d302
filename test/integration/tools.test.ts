import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSeries, rebaseSeries } from '../../src/api/patch-tools.js';
import { FIXTURE_SERIES, offlineConfig, resolved, runBuild, startWorld, TAG_150, workspace, type World } from '../../testkit/world.js';

let world: World;
let ws: { dir: string; remove(): Promise<void> };
beforeAll(async () => {
  world = await startWorld();
  ws = await workspace('bq-tools-');
});
afterAll(async () => {
  await ws?.remove();
  await world?.close();
});

describe('patch tools against pins (no checkout)', () => {
  it('patches check --pin dry-runs the series at another pin, reading files through gitiles', async () => {
    const dir = path.join(ws.dir, 'check');
    const config = await resolved(offlineConfig(world.server.baseUrl, dir), dir);
    const ok = await checkSeries({ config, pin: TAG_150 });
    expect(ok.ok).toBe(true);
    expect(ok.text).toMatch(/2 of 2 patches .* apply/);
    const conflict = await checkSeries({ config: { ...config, patches: { series: FIXTURE_SERIES('conflict') } } });
    expect(conflict.ok).toBe(false);
    expect(conflict.report?.problems[0]).toMatchObject({ reason: 'context-mismatch', file: 'quiche/quic/tools/quic_toy_client.cc' });
    expect(conflict.report?.problems[0]?.hunk).toMatch(/^@@ -\d+/);
  });

  it('patches rebase --to writes refreshed patches that apply at the new pin', async () => {
    const dir = path.join(ws.dir, 'rebase');
    const series = path.join(dir, 'patches', 'series');
    await cp(path.dirname(FIXTURE_SERIES('migration')), path.dirname(series), { recursive: true });
    const config = await resolved(offlineConfig(world.server.baseUrl, dir, { patches: { series } }), dir);
    const result = await rebaseSeries({ config, to: TAG_150 });
    expect(result.needsHand).toEqual([]);
    expect(result.refreshed.map((r) => r.patch)).toHaveLength(2);
    const after = await checkSeries({ config: { ...config, chromium: { ...config.chromium, version: TAG_150 } } });
    expect(after.ok).toBe(true);
    expect(await readFile(result.refreshed[0]!.file, 'utf8')).toMatch(/^From 0{40} /);
  });
});

describe('builder switch', () => {
  it('switching between autoninja (siso) and ninja runs gn clean for the user and builds', async () => {
    const dir = path.join(ws.dir, 'builders');
    const base = { smoke: { enabled: false }, publish: [] };
    const siso = await runBuild(await resolved(offlineConfig(world.server.baseUrl, dir, { ...base }), dir), { until: 'compile' });
    expect(siso.error).toBeUndefined();
    const ninja = await runBuild(await resolved(offlineConfig(world.server.baseUrl, dir, { ...base, build: { builder: 'ninja' } }), dir), {
      until: 'compile',
    });
    expect(ninja.error).toBeUndefined();
    expect(ninja.notes.join('\n')).toMatch(/last built with autoninja; running gn clean before switching to ninja/);
    const again = await runBuild(await resolved(offlineConfig(world.server.baseUrl, dir, { ...base, build: { builder: 'ninja' } }), dir), {
      until: 'compile',
    });
    expect(again.ran).toEqual([]);
  });
});
