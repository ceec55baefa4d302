/** The migration lab as a library (docs/lab.md). */
export { LAB_DEFAULTS, recordLab, runLab } from './run.js';
export { analyseRun, type RawRun } from './analyse.js';
export { parseSweep, runSweep, sweepTable, type SweepAxes, type SweepPoint, type SweepResult } from './sweep.js';
export { summaryLines, writeReport } from './report.js';
export { cleanupLeftovers, LAB_STATE_DIR } from './state.js';
export { MIGRATE_MODES, SCENARIOS } from './types.js';
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
} from './types.js';
