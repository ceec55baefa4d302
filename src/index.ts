/**
 * build-quiche as a library: `import { build, plan, installArtifact, defineConfig } from 'build-quiche'`.
 * Nothing here prints or exits; the CLI (src/cli) is a thin layer over these functions.
 */
export { build, clean, createPipeline, doctor, plan, status } from './app/api.js';
export type { ApiOptions, BuildOptions, CleanOptions, StageStatus, StatusReport } from './app/api.js';
export { createAppContext, depotToolsEnv, type AppContext } from './app/context.js';
export { defineConfig } from './config/define.js';
export { loadConfig, validateConfig, type ResolvedConfig } from './config/load.js';
export { configSchema, DEFAULT_CHROMIUM_VERSION, DEFAULT_GN_ARGS, DEFAULT_TARGETS, type Config, type UserConfig } from './config/schema.js';
export { Pipeline, type RunSummary, type Selection } from './engine/pipeline.js';
export type { PipelineEvent, PlanEntry, PlanStatus } from './engine/events.js';
export type { Stage, StageContext } from './engine/stage.js';
export * from './errors.js';
export { installArtifact, verifyInstalled, type InstallOptions, type InstallResult } from './artifacts/install.js';
export type { Manifest } from './artifacts/manifest.js';
export { resolveDeps, evaluateCondition } from './chromium/deps.js';
export { STAGES } from './stages/index.js';
export { runCli } from './cli/main.js';
export * from './docker/index.js';
export * from './artifacts/index.js';
export * from './publish/index.js';
export * from './patches/index.js';
export { checkSeries, exportSeries, rebaseSeries } from './app/patch-tools.js';
