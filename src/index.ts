/**
 * build-quiche as a library: `import { build, plan, installArtifact, defineConfig } from 'build-quiche'`.
 * Nothing here prints or exits; the CLI (src/cli) is a thin layer over these functions. Every name
 * is listed on purpose (docs/api.md): what is not here is internal and may change.
 */

// The pipeline: build, plan, status, clean, doctor.
export { build, clean, doctor, plan, status } from './api/pipeline.js';
export type { ApiOptions, BuildOptions, CleanOptions, StageStatus, StatusReport } from './api/pipeline.js';
export type { HostReport, ToolCheck } from './stages/host-check.js';
export type { RunSummary, Selection } from './engine/pipeline.js';

// Patch series tools (`build-quiche patches check|export|rebase`).
export { checkSeries, exportSeries, rebaseSeries } from './api/patch-tools.js';
export type { CheckSeriesOptions, ExportSeriesOptions, PatchToolOptions, RebaseSeriesOptions } from './api/patch-tools.js';
export type { CheckResult } from './patches/check.js';
export type { ExportResult } from './patches/export.js';
export type { RebaseResult } from './patches/rebase.js';

// Artifacts: install and verify (consumer side), inspect, and the stores that hold them.
export { installArtifact, verifyInstalled, type InstallOptions, type InstallResult, type InstalledArtifact } from './artifacts/install.js';
export { inspectTarball, type TarballInspection } from './artifacts/inspect.js';
export { parseManifest, serverCertsOf, type Manifest } from './artifacts/manifest.js';
export type { ArtifactResult } from './artifacts/package.js';
export { createStore, type ArtifactStore, type PutResult, type StoredArtifact, type StoreEnvironment } from './publish/store.js';
export { DirStore } from './publish/dir-store.js';
export { GitHubStore } from './publish/github-store.js';

// Configuration.
export { defineConfig } from './config/define.js';
export { loadConfig, validateConfig, type LoadConfigOptions, type ResolvedConfig } from './config/load.js';
export {
  configSchema,
  BACKEND_IDS,
  DEFAULT_CHROMIUM_VERSION,
  DEFAULT_GN_ARGS,
  DEFAULT_TARGETS,
  type Config,
  type StoreConfig,
  type UserConfig,
} from './config/schema.js';

// Progress events (onEvent) and plan entries.
export type { EventSink, PipelineEvent, PlanEntry, PlanStatus } from './engine/events.js';
export type { Progress } from './engine/stage.js';

// Errors: one class per failure, each with its exit code.
export {
  BuildQuicheError,
  CompileError,
  ConfigError,
  DirtyTreeError,
  DiskSpaceError,
  EXIT_CODES,
  IntegrityError,
  InternalError,
  InterruptedError,
  isBuildQuicheError,
  LockHeldError,
  NetworkError,
  NotFoundError,
  PatchConflictError,
  PreflightError,
  SmokeTestError,
  ToolError,
  UsageError,
  type ErrorDetails,
  type FailureClass,
} from './errors.js';
export { ContainerEngineNotFoundError, ContainerRunError, ImageBuildError } from './docker/errors.js';

// The migration lab (`build-quiche lab`, docs/lab.md): namespaces, capture, observer view, report, sweep.
export {
  cleanupLeftovers,
  LAB_DEFAULTS,
  LAB_STATE_DIR,
  MIGRATE_MODES,
  parseSweep,
  runLab,
  runSweep,
  SCENARIOS,
  summaryLines,
  sweepTable,
  writeReport,
} from './lab/index.js';
export type {
  FourTupleStats,
  GoodputBin,
  LabEvent,
  LabOptions,
  LabReport,
  LabResult,
  Linkability,
  MigrateMode,
  MigrationRecord,
  ObserverView,
  Scenario,
  SweepAxes,
  SweepPoint,
  SweepResult,
} from './lab/index.js';

// The CLI itself, for embedding (`runCli(argv, io, signal)` returns the exit code).
export { runCli } from './cli/main.js';
