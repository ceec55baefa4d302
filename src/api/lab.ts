/**
 * `build-quiche lab`: the migration lab (docs/lab.md) as the library offers it. The lab lives in
 * src/lab/ and is reached only through its index; this file is what the CLI and src/index.ts see.
 */
export {
  LAB_DEFAULTS,
  MIGRATE_MODES,
  parseSweep,
  runLab,
  runSweep,
  SCENARIOS,
  summaryLines,
  sweepTable,
  writeReport,
} from '../lab/index.js';
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
} from '../lab/index.js';
