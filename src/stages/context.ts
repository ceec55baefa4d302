import path from 'node:path';
import type { ResolvedConfig } from '../config/load.js';
import type { StageContext } from '../engine/stage.js';
import { gitilesSettings } from '../pins/resolve-pin.js';
import { RemoteFiles } from '../tools/remote-files.js';

/**
 * Everything the stages share: the resolved config and where things live on disk.
 * The engine treats this as an opaque application context.
 */
export interface AppContext {
  config: ResolvedConfig;
  paths: AppPaths;
  /** The host environment the run started with (never mutated; stages derive child envs from it). */
  env: NodeJS.ProcessEnv;
}

/** What every backend shares under the cache dir; each backend keeps its own paths (its layout module). */
export interface AppPaths {
  cacheDir: string;
  /** Single-file and DEPS reads cached per ref. */
  resolveCache: string;
  /** Bare repos used to read files at a revision when gitiles is not available. */
  gitObjects: string;
  /** What the patch stage changed, per repo and file (read by checkout to revert before a move). */
  appliedPatches: string;
  smoke: string;
  distDir: string;
}

export function appPaths(config: ResolvedConfig): AppPaths {
  const cacheDir = config.cacheDir;
  return {
    cacheDir,
    resolveCache: path.join(cacheDir, 'resolve'),
    gitObjects: path.join(cacheDir, 'git-objects'),
    appliedPatches: path.join(cacheDir, 'applied-patches.json'),
    smoke: path.join(cacheDir, 'smoke'),
    distDir: config.distDir,
  };
}

export function createAppContext(config: ResolvedConfig, env: NodeJS.ProcessEnv = process.env): AppContext {
  return { config, paths: appPaths(config), env };
}

/** A RemoteFiles reader wired to a stage: its log, abort signal, retry policy and notes. */
export function remoteFilesFor(ctx: StageContext<AppContext>): RemoteFiles {
  const { config, paths } = ctx.app;
  return new RemoteFiles({
    ...gitilesSettings(config),
    cacheDir: paths.resolveCache,
    gitObjectsDir: paths.gitObjects,
    retry: config.retry,
    exec: ctx.exec,
    signal: ctx.signal,
    onNote: (message) => ctx.report.note(message),
  });
}
