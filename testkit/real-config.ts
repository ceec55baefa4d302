/**
 * The config of the real tier: the standalone quiche backend at the 152 pin, every URL mirrored to the
 * local test upstream that serves the views of ../shared/upstream, and a work dir (cache/, dist/) in
 * the persistent real-tier cache so reruns reuse finished stages; ccache lives next to it (CCACHE_DIR).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig, type ResolvedConfig } from '../src/config/load.js';
import { ConfigError } from '../src/errors.js';
import { backendFor } from '../src/stages/backends/index.js';
import { GOOGLEURL_URL, googleurlPin, mirrorsFor, quiche152, REAL_CACHE } from './real-views.js';

export const VIEWS_DIR = path.join(REAL_CACHE, 'upstream-views');
export const CCACHE_DIR = path.join(REAL_CACHE, 'ccache');
export const workDir = (name: string) => path.join(REAL_CACHE, 'work', name);

/**
 * The tarball a work dir's last build packaged (its package stage's output), or undefined. Not "the"
 * tarball in its dist dir: the persistent cache keeps earlier versions' artifacts beside it.
 */
export async function packagedTarball(dir: string): Promise<string | undefined> {
  const state = await readFile(path.join(dir, 'cache', 'state.json'), 'utf8').catch(() => undefined);
  if (!state) return undefined;
  return (JSON.parse(state) as { stages?: { package?: { outputs?: { tarball?: string } } } }).stages?.package?.outputs?.tarball;
}

/**
 * The user config (as a pipeline.config.ts would hold it). Typed loosely on purpose: it names the
 * quiche backend's settings (`quiche.*`), which the schema validates when the config is loaded.
 */
export async function realConfig(
  where: { baseUrl: string; views: string; dir: string },
  overrides: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const { baseUrl, views, dir } = where;
  return {
    backend: 'quiche',
    quiche: {
      revision: await quiche152(views),
      // quiche's MODULE.bazel pins a googleurl commit that is not provided; this one compiles and links.
      dependencies: { googleurl: { url: GOOGLEURL_URL, ref: await googleurlPin(views) } },
      mirrors: mirrorsFor(baseUrl),
    },
    build: { jobs: 2 },
    // 100 MB take the real client 1.5-3 s on loopback: about 5-10 migrations per timer mode at 300 ms,
    // enough for a socket kept per migration to show. Every 100 ms (test/real/smoke-real.test.ts) the
    // server reverted a validated migration once while the machine was busy (patches/README.md,
    // "Limit: reverse path validation under load"); the pipeline's tier stays below that pace.
    smoke: { migration: 'require', migrateIntervalMs: 300, responseBytes: 100_000_000, timeoutMs: 180_000 },
    preflight: { minFreeDiskGb: 2, minMemoryGb: 2 },
    retry: { retries: 3, minTimeoutMs: 200, maxTimeoutMs: 2000 },
    cacheDir: path.join(dir, 'cache'),
    distDir: path.join(dir, 'dist'),
    lockWaitMs: 0,
    ...overrides,
  };
}

/** The environment of every real-tier build: ccache in the persistent cache. */
export const realEnv = (): Record<string, string> => ({ CCACHE_DIR });

/**
 * Loads the config and selects its backend; a ConfigError here (the schema has no `quiche` settings, or
 * backendFor says the quiche backend is not available in this version) becomes the reason to skip.
 */
export async function loadRealConfig(
  config: Record<string, unknown>,
  cwd: string,
): Promise<{ config?: ResolvedConfig; unavailable?: string }> {
  try {
    const resolved = await loadConfig({ inline: config, cwd, env: {} });
    backendFor(resolved);
    return { config: resolved };
  } catch (error) {
    if (error instanceof ConfigError) return { unavailable: `the quiche backend is not available in this tree: ${error.message}` };
    throw error;
  }
}
