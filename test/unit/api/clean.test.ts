import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clean } from '../../../src/api/pipeline.js';
import { loadConfig } from '../../../src/config/load.js';
import type { UserConfig } from '../../../src/config/schema.js';
import { UsageError } from '../../../src/errors.js';
import { tempDir } from '../../support/artifacts.js';

const configIn = (dir: string, extra: UserConfig = {}) =>
  loadConfig({ inline: { cacheDir: path.join(dir, 'cache'), distDir: path.join(dir, 'dist'), ...extra }, cwd: dir, env: {} });

/** Directories (each with a file inside) under the cache, as a run would have left them. */
async function leave(cache: string, dirs: string[]): Promise<void> {
  await mkdir(cache, { recursive: true });
  for (const dir of dirs) {
    await mkdir(path.join(cache, dir), { recursive: true });
    await writeFile(path.join(cache, dir, 'x'), 'x');
  }
  await writeFile(path.join(cache, 'applied-patches.json'), '{}');
  await writeFile(
    path.join(cache, 'state.json'),
    JSON.stringify({
      schema: 1,
      stages: { checkout: { fingerprint: 'f', inputs: {}, outputs: {}, finishedAt: '', durationMs: 0, runId: 'r' } },
    }),
  );
}

describe('clean --checkout', () => {
  it('with the standalone backend removes its checkouts, CMake trees, prefixes and out dirs, and the patch ledger', async () => {
    const dir = await tempDir();
    const cache = path.join(dir, 'cache');
    await leave(cache, [
      'quiche/src/quiche-1ba0d99a5c2f',
      'quiche/build/boringssl-x',
      'quiche/prefix/boringssl-x',
      'quiche/out/abc',
      'resolve',
    ]);
    const result = await clean({ config: await configIn(dir, { backend: 'quiche' }), checkout: true });
    expect(result.removed).toEqual(['src', 'build', 'prefix', 'out'].map((sub) => path.join(cache, 'quiche', sub)));
    for (const sub of ['src', 'build', 'prefix', 'out']) expect(existsSync(path.join(cache, 'quiche', sub))).toBe(false);
    expect(existsSync(path.join(cache, 'applied-patches.json'))).toBe(false);
    expect(existsSync(path.join(cache, 'resolve', 'x'))).toBe(true); // pins read remotely stay: they are not a checkout
    expect(JSON.parse(await readFile(path.join(cache, 'state.json'), 'utf8')).stages).toEqual({});
  });

  it('with the chromium backend removes the gclient root, not depot_tools', async () => {
    const dir = await tempDir();
    const cache = path.join(dir, 'cache');
    await leave(cache, ['chromium/src', 'depot_tools']);
    const result = await clean({ config: await configIn(dir), checkout: true });
    expect(result.removed).toEqual([path.join(cache, 'chromium')]);
    expect(existsSync(path.join(cache, 'chromium'))).toBe(false);
    expect(existsSync(path.join(cache, 'depot_tools', 'x'))).toBe(true);
  });

  it('never deletes an adopted checkout, and then changes nothing', async () => {
    const dir = await tempDir();
    const cache = path.join(dir, 'cache');
    const adopted = path.join(dir, 'mine');
    await leave(cache, []);
    await mkdir(path.join(adopted, 'src'), { recursive: true });
    const error = await clean({ config: await configIn(dir, { checkout: { srcDir: adopted } }), checkout: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/was adopted; build-quiche never deletes it/);
    expect(existsSync(path.join(adopted, 'src'))).toBe(true);
    expect(existsSync(path.join(cache, 'applied-patches.json'))).toBe(true);
  });
});
