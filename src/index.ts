/**
 * build-quiche as a library: `import { build, plan, installArtifact, defineConfig } from 'build-quiche'`.
 * Nothing here prints or exits; the CLI (src/cli) is a thin layer over the same functions in src/api.
 * Every name is listed on purpose (docs/api.md): the library's functions come from src/api, plus the
 * configuration and the errors; what is not here is internal and may change.
 */

// The pipeline: build, plan, status, clean, doctor.
export { build, clean, plan, status } from './api/pipeline.js';
export type { ApiOptions, BuildOptions, CleanOptions, StageStatus, StatusReport } from './api/pipeline.js';
export { doctor, type DistributedReport, type DoctorSection, type HostReport, type ToolCheck } from './api/doctor.js';
export type { RunSummary, Selection } from './api/types.js';

// Patch series tools (`build-quiche patches check|export|rebase`).
export { checkSeries, exportSeries, rebaseSeries } from './api/patch-tools.js';
export type { CheckSeriesOptions, ExportSeriesOptions, PatchToolOptions, RebaseSeriesOptions } from './api/patch-tools.js';
export type { CheckResult, ExportResult, RebaseResult } from './api/types.js';

// Artifacts: install and verify (consumer side), inspect, and the stores that hold them.
export {
  inspectTarball,
  installArtifact,
  parseManifest,
  serverCertsOf,
  verifyInstalled,
  type InstallOptions,
  type InstallResult,
  type InstalledArtifact,
  type Manifest,
  type TarballInspection,
} from './api/install.js';
export type { ArtifactResult } from './api/types.js';
export {
  createStore,
  DirStore,
  GitHubStore,
  type ArtifactStore,
  type PutResult,
  type StoredArtifact,
  type StoreEnvironment,
} from './api/stores.js';

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
export type { EventSink, PipelineEvent, PlanEntry, PlanStatus, Progress } from './api/types.js';

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
export { LAB_DEFAULTS, MIGRATE_MODES, parseSweep, runLab, runSweep, SCENARIOS, summaryLines, writeReport } from './api/lab.js';
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
} from './api/lab.js';
