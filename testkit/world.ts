import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { build, type BuildOptions } from '../src/api/pipeline.js';
import { loadConfig, type ResolvedConfig } from '../src/config/load.js';
import type { UserConfig } from '../src/config/schema.js';
import type { PipelineEvent } from '../src/engine/events.js';
import { cachedUpstream, FIXTURE_PATCHES_DIR, TAG_150, TAG_152, type UpstreamInfo } from './build.js';
import type { ScaleOptions } from './scale.js';
import { startUpstreamServer, type UpstreamServer } from './server.js';

/**
 * The product's view of the local upstream: one loopback server over the cached fixture repos, and a
 * config that points the whole pipeline at it (mirrors via custom_vars, depot_tools' offline env, the
 * system gn standing in for the CIPD one). Shared by the integration tests, the offline demo and bench.
 */

export { TAG_150, TAG_152 };
export const FIXTURE_SERIES = (name: 'migration' | 'conflict' | 'edited' | 'adds-file') => path.join(FIXTURE_PATCHES_DIR, name, 'series');

export interface World {
  upstream: UpstreamInfo;
  server: UpstreamServer;
  close(): Promise<void>;
}

/** The default (small) world; with a scale, the scaled one of testkit/scale.ts (for npm run bench). */
export async function startWorld(port?: number, scale?: ScaleOptions): Promise<World> {
  const upstream = await cachedUpstream(scale);
  const server = await startUpstreamServer({ reposDir: upstream.reposDir, port });
  return { upstream, server, close: () => server.close() };
}

const systemGn = () => execFileSync('sh', ['-c', 'command -v gn'], { encoding: 'utf8' }).trim();

/** A config for the local upstream; `dir` holds cache/ and dist/. */
export function offlineConfig(baseUrl: string, dir: string, overrides: UserConfig = {}): UserConfig {
  const base: UserConfig = {
    chromium: { version: TAG_152, srcUrl: `${baseUrl}/chromium/src.git` },
    depotTools: {
      url: `${baseUrl}/chromium/tools/depot_tools.git`,
      offline: true,
      env: { FAKE_GCLIENT_RETRY_SLEEP: '0.01', GIT_TERMINAL_PROMPT: '0' },
    },
    gclient: { customVars: { chromium_git: baseUrl, quiche_git: baseUrl } },
    patches: { series: FIXTURE_SERIES('migration') },
    build: { gn: systemGn(), jobs: 2 },
    smoke: { migrateIntervalMs: 200, responseBytes: 2_000_000, timeoutMs: 60_000 },
    preflight: { minFreeDiskGb: 0.5, minMemoryGb: 1 },
    retry: { retries: 3, minTimeoutMs: 50, maxTimeoutMs: 400 },
    cacheDir: path.join(dir, 'cache'),
    distDir: path.join(dir, 'dist'),
    lockWaitMs: 0,
  };
  return merge(base, overrides) as UserConfig;
}

function merge(a: unknown, b: unknown): unknown {
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) || Array.isArray(b)) return b === undefined ? a : b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
  return out;
}

export async function workspace(prefix = 'bq-it-'): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export async function resolved(config: UserConfig, dir: string): Promise<ResolvedConfig> {
  return loadConfig({ inline: config, cwd: dir, env: {} });
}

export interface RecordedRun {
  events: PipelineEvent[];
  ran: string[];
  skipped: string[];
  error?: Error;
  notes: string[];
}

/** Runs the pipeline and keeps its events; never throws (the error is in the result). */
export async function runBuild(config: ResolvedConfig, options: Omit<BuildOptions, 'config' | 'onEvent'> = {}): Promise<RecordedRun> {
  const events: PipelineEvent[] = [];
  try {
    const summary = await build({ ...options, config, onEvent: (e) => events.push(e) });
    return { events, ran: summary.ran, skipped: summary.skipped, notes: notesOf(events) };
  } catch (error) {
    const end = events.find((e) => e.type === 'run-end');
    return {
      events,
      ran: end?.type === 'run-end' ? end.ran : [],
      skipped: end?.type === 'run-end' ? end.skipped : [],
      error: error instanceof Error ? error : new Error(String(error)),
      notes: notesOf(events),
    };
  }
}

const notesOf = (events: PipelineEvent[]) => events.flatMap((e) => (e.type === 'stage-note' ? [`${e.stage}: ${e.message}`] : []));

/** Writes a pipeline.config.ts holding this config (JSON is valid TS) into dir. */
export async function writeConfigFile(dir: string, config: UserConfig): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'pipeline.config.ts');
  await writeFile(file, `// written by the build-quiche testkit\nexport default ${JSON.stringify(config, null, 2)};\n`);
  return file;
}
