import path from 'node:path';
import type { ResolvedConfig } from '../config/load.js';

/**
 * Everything Chromium-specific stages share: the resolved config and where things live on disk.
 * The engine treats this as an opaque application context.
 */
export interface AppContext {
  config: ResolvedConfig;
  paths: AppPaths;
  /** The host environment the run started with (never mutated; stages derive child envs from it). */
  env: NodeJS.ProcessEnv;
}

export interface AppPaths {
  cacheDir: string;
  depotTools: string;
  /** The gclient root: holds .gclient and src/. The cache's own, or an adopted one. */
  gclientRoot: string;
  src: string;
  /** Single-file and DEPS reads cached per ref. */
  resolveCache: string;
  /** Bare repos used to read files at a revision when gitiles is not available. */
  gitObjects: string;
  /** What the patch stage changed, per repo and file (read by checkout to revert before a move). */
  appliedPatches: string;
  smoke: string;
  distDir: string;
  /** Whether gclientRoot was adopted from the user (then we never delete or reset their work). */
  adopted: boolean;
}

export function appPaths(config: ResolvedConfig): AppPaths {
  const cacheDir = config.cacheDir;
  const gclientRoot = config.checkout.srcDir ?? path.join(cacheDir, 'chromium');
  return {
    cacheDir,
    depotTools: path.join(cacheDir, 'depot_tools'),
    gclientRoot,
    src: path.join(gclientRoot, 'src'),
    resolveCache: path.join(cacheDir, 'resolve'),
    gitObjects: path.join(cacheDir, 'git-objects'),
    appliedPatches: path.join(cacheDir, 'applied-patches.json'),
    smoke: path.join(cacheDir, 'smoke'),
    distDir: config.distDir,
    adopted: config.checkout.srcDir !== undefined,
  };
}

export function createAppContext(config: ResolvedConfig, env: NodeJS.ProcessEnv = process.env): AppContext {
  return { config, paths: appPaths(config), env };
}

export const VPYTHON_BYPASS = 'manually managed python not supported by chrome operations';

/**
 * The one place that builds the environment for depot_tools commands: depot_tools first on PATH,
 * self-update and metrics off (a self-update would move the pinned revision under us), the
 * offline switches when there is no CIPD, then the user's extra env.
 */
export function depotToolsEnv(app: AppContext): Record<string, string> {
  const { config, paths, env } = app;
  return {
    PATH: [paths.depotTools, env.PATH ?? ''].filter(Boolean).join(path.delimiter),
    DEPOT_TOOLS_UPDATE: '0',
    DEPOT_TOOLS_METRICS: '0',
    DEPOT_TOOLS_REPORT_BUILD: '0',
    GCLIENT_PY3: '1',
    ...(config.depotTools.offline ? { VPYTHON_BYPASS } : {}),
    ...config.depotTools.env,
  };
}
