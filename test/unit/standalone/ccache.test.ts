import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../../src/stages/context.js';
import { compilerCacheEnv } from '../../../src/stages/backends/standalone/layout.js';
import { workspace } from '../../../testkit/world.js';

const hasCcache = (() => {
  try {
    execFileSync('ccache', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * Two cache dirs (the main build and CI's kill-and-resume runs) share one CCACHE_DIR: the second must
 * hit what the first compiled, also for a dependency that compiles with debug info (BoringSSL: -ggdb).
 */
describe.skipIf(!hasCcache)('ccache across two build-quiche cache dirs', () => {
  let ws: Awaited<ReturnType<typeof workspace>>;
  beforeAll(async () => {
    ws = await workspace('bq-ccache-');
  });
  afterAll(async () => {
    await ws.remove();
  });

  /** Compiles the same file in <cacheDir>/quiche/build/dep with -ggdb; returns ccache's hit count after. */
  async function compileIn(cacheDir: string, ccacheDir: string): Promise<number> {
    const app = { env: {}, paths: { cacheDir } } as unknown as AppContext;
    const src = path.join(cacheDir, 'quiche', 'src', 'dep');
    const build = path.join(cacheDir, 'quiche', 'build', 'dep');
    await mkdir(src, { recursive: true });
    await mkdir(build, { recursive: true });
    await writeFile(path.join(src, 'a.c'), 'int answer(void) { return 42; }\n');
    const env = { ...process.env, ...compilerCacheEnv(app), CCACHE_DIR: ccacheDir };
    execFileSync('ccache', ['gcc', '-ggdb', '-O1', '-c', path.join(src, 'a.c'), '-o', 'a.o'], { cwd: build, env });
    const stats = execFileSync('ccache', ['--print-stats'], { env }).toString();
    const counter = (name: string) => Number(new RegExp(`^${name}\t(\\d+)$`, 'm').exec(stats)?.[1] ?? 0);
    return counter('direct_cache_hit') + counter('preprocessed_cache_hit');
  }

  it('a second cache dir hits the objects the first one compiled, debug info included', async () => {
    const ccacheDir = path.join(ws.dir, 'ccache');
    expect(await compileIn(path.join(ws.dir, 'one'), ccacheDir)).toBe(0);
    expect(await compileIn(path.join(ws.dir, 'two'), ccacheDir)).toBe(1);
  });
});
