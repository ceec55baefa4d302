import path from 'node:path';
import { QUICHE_PATH_IN_SRC } from '../chromium/layout.js';
import type { ResolvedConfig } from '../config/load.js';
import type { StageContext } from '../engine/stage.js';
import type { LedgerLocation } from '../patches/ledger.js';
import { depotToolsEnv } from '../tools/depot-tools.js';
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

/** The depot_tools environment (tools/depot-tools.ts) for this run's config and host env. */
export function depotToolsEnvFor(app: AppContext): Record<string, string> {
  return depotToolsEnv({
    dir: app.paths.depotTools,
    offline: app.config.depotTools.offline,
    extra: app.config.depotTools.env,
    env: app.env,
  });
}

/** Where the patch ledger lives and what its paths are relative to (patches/ledger.ts). */
export const ledgerLocation = (app: AppContext): LedgerLocation => ({
  ledgerFile: app.paths.appliedPatches,
  root: app.paths.gclientRoot,
});

/** A RemoteFiles reader wired to a stage: its log, abort signal, retry policy and notes. */
export function remoteFilesFor(ctx: StageContext<AppContext>): RemoteFiles {
  const { config, paths } = ctx.app;
  const gitiles = config.chromium.gitiles;
  return new RemoteFiles({
    gitiles: gitiles === 'off' ? 'off' : 'auto',
    gitilesOverrides: gitiles !== 'off' && gitiles !== 'auto' ? { [config.chromium.srcUrl]: gitiles } : undefined,
    cacheDir: paths.resolveCache,
    gitObjectsDir: paths.gitObjects,
    retry: config.retry,
    exec: (file, args, options) => ctx.exec(file, args, options),
    signal: ctx.signal,
    onNote: (message) => ctx.report.note(message),
  });
}

export const quicheDir = (src: string) => path.join(src, QUICHE_PATH_IN_SRC);
