/** The migration lab as a library (docs/lab.md). */
export { LAB_DEFAULTS, MAX_CLIENTS, recordLab, runLab } from './run.js';
export { analyseRun, type RawRun } from './analyse.js';
export { medianInterval, type Interval } from './interval.js';
export { LINKING_DEFAULTS, OBSERVER_MODELS, type LinkingOptions, type ModelScore, type ObserverModel } from './linking.js';
export {
  parseSweep,
  runSweep,
  SWEEP_AXES,
  sweepTable,
  type ModelSpread,
  type SweepAxes,
  type SweepAxis,
  type SweepPoint,
  type SweepResult,
} from './sweep.js';
export { SERVER_ENDPOINT_CAVEAT, summaryLines, writeReport } from './report.js';
export { cleanupLeftovers, LAB_STATE_DIR } from './state.js';
export { MIGRATE_MODES, SCENARIOS } from './types.js';
export type {
  ClientRecord,
  FourTupleStats,
  GoodputBin,
  HostLoad,
  LabEvent,
  LabOptions,
  LabReport,
  LabResult,
  Linkability,
  LinkingReport,
  MigrateMode,
  MigrationRecord,
  ObserverPosition,
  ObserverView,
  Scenario,
} from './types.js';
