import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { envOverrides, mergeConfig, setOverrides } from './overrides.js';
import { resolveRemoteExecutionPaths } from './remote-execution.js';
import { configSchema, type Config, type StoreConfig } from './schema.js';

/** The package root (src/config or lib/config sit two levels below it). */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BUNDLED_SERIES = path.join(PACKAGE_ROOT, 'patches', 'series');

export const CONFIG_FILE_NAMES = ['pipeline.config.ts', 'pipeline.config.mts', 'pipeline.config.js', 'pipeline.config.mjs'];

export type ResolvedStore = (StoreConfig & { type: 'dir'; path: string }) | Extract<StoreConfig, { type: 'github' }>;

/** Config after defaults, overrides and path resolution: every path is absolute. */
export interface ResolvedConfig extends Omit<Config, 'publish' | 'patches'> {
  /** The config file that was loaded, if any. */
  configFile: string | undefined;
  /** Directory relative paths in the config are resolved against. */
  baseDir: string;
  patches: { series: string };
  publish: ResolvedStore[];
}

export interface LoadConfigOptions {
  cwd?: string;
  /** --config FILE; BUILD_QUICHE_CONFIG in the env works the same. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
  /** Partial config from dedicated CLI flags (--cache-dir, --jobs, ...). */
  flags?: Record<string, unknown>;
  /** `--set a.b=value` assignments. */
  set?: string[];
  /** Use this object instead of reading a file (library callers, tests). */
  inline?: unknown;
}

export function findConfigFile(cwd: string): string | undefined {
  return CONFIG_FILE_NAMES.map((name) => path.join(cwd, name)).find((file) => existsSync(file));
}

/**
 * Where jiti keeps the config file transpiled to JavaScript: per user, like the test certs. Transpiling
 * costs 0.3-0.7 s (it loads a TypeScript transform) on every run, most of a no-op rerun; a cached
 * entry is used only when the file's content is byte-for-byte the one it was made from (jiti checks a
 * hash of the source). false (no cache) when the directory cannot be made.
 */
function transpileCacheDir(): string | false {
  const dir = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'build-quiche', 'jiti');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  } catch {
    return false;
  }
}

async function importConfigFile(file: string): Promise<unknown> {
  // `import { defineConfig } from 'build-quiche'` must work in any directory, installed there or not.
  const self = import.meta.url.endsWith('.ts') ? path.join(PACKAGE_ROOT, 'src', 'index.ts') : path.join(PACKAGE_ROOT, 'lib', 'index.js');
  const jiti = createJiti(import.meta.url, { moduleCache: false, fsCache: transpileCacheDir(), alias: { 'build-quiche': self } });
  try {
    const loaded = await jiti.import<unknown>(file, { default: true });
    return loaded ?? {};
  } catch (error) {
    throw new ConfigError(`Could not load ${file}: ${(error as Error).message}`, {
      hint: 'Fix the file so it evaluates, and `export default defineConfig({...})`.',
      cause: error,
    });
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length ? issue.path.join('.') : '(top level)';
  const given = 'input' in issue && issue.input !== undefined ? `; given ${JSON.stringify(issue.input)?.slice(0, 80)}` : '';
  if (issue.code === 'unrecognized_keys') {
    return `${field}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  return `${field}: ${issue.message}${given}`;
}

/** Validate a raw config object; errors name every bad field, what was expected and what was given. */
export function validateConfig(raw: unknown, source: string): Config {
  const result = configSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.map(describeIssue);
    throw new ConfigError(`Invalid configuration (${source}):\n  ${lines.join('\n  ')}`, {
      hint: 'Fix the fields named above. The JSON Schema is schema/pipeline.config.schema.json.',
      data: { issues: result.error.issues.map((i) => ({ path: i.path, message: i.message, code: i.code })) },
    });
  }
  return result.data;
}

export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const explicit = options.configFile ?? env.BUILD_QUICHE_CONFIG;
  let configFile: string | undefined;
  let fromFile: unknown = {};
  if (options.inline !== undefined) {
    fromFile = options.inline;
  } else if (explicit) {
    configFile = path.resolve(cwd, explicit);
    if (!existsSync(configFile)) {
      throw new ConfigError(`Config file ${configFile} does not exist.`, { hint: 'Check the --config path.' });
    }
    fromFile = await importConfigFile(configFile);
  } else {
    configFile = findConfigFile(cwd);
    if (configFile) fromFile = await importConfigFile(configFile);
  }
  const source = configFile ?? (options.inline !== undefined ? 'inline config' : 'built-in defaults');
  let merged = mergeConfig(fromFile, envOverrides(env));
  merged = mergeConfig(merged, options.flags ?? {});
  merged = mergeConfig(merged, setOverrides(options.set ?? []));
  const config = validateConfig(merged, source);
  return resolvePaths(config, configFile ? path.dirname(configFile) : cwd, configFile);
}

function resolvePaths(config: Config, baseDir: string, configFile: string | undefined): ResolvedConfig {
  const abs = (p: string) => path.resolve(baseDir, p);
  const distDir = abs(config.distDir);
  return {
    ...config,
    configFile,
    baseDir,
    cacheDir: abs(config.cacheDir),
    distDir,
    patches: { series: config.patches.series ? abs(config.patches.series) : BUNDLED_SERIES },
    checkout: { ...config.checkout, srcDir: config.checkout.srcDir ? abs(config.checkout.srcDir) : undefined },
    gclient: { ...config.gclient, cacheDir: config.gclient.cacheDir ? abs(config.gclient.cacheDir) : undefined },
    build: {
      ...config.build,
      gn: config.build.gn ? abs(config.build.gn) : undefined,
      ninja: config.build.ninja ? abs(config.build.ninja) : undefined,
    },
    remoteExecution: resolveRemoteExecutionPaths(config.remoteExecution, abs),
    publish: config.publish.map((store) =>
      store.type === 'dir' ? { ...store, path: store.path ? abs(store.path) : path.join(distDir, 'store') } : store,
    ),
  };
}
