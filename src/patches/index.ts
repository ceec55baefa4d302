/** The patch machinery (docs/patches.md): series, dry run, apply + ledger, and the maintainer tools. */
export { parseSeries, parsePatch, parseSeriesText, patchsetId, seriesFiles, seriesRepos, seriesSummary, touchedPaths } from './series.js';
export type { FileChange, FileChangeKind, Hunk, Patch, Series, SeriesEntry } from './series.js';
export { dryRunSeries } from './dry-run.js';
export type { DryRunOptions, DryRunResult, FileResult } from './dry-run.js';
export { conflictError, renderConflictReport } from './report.js';
export type { ConflictReport, PatchProblem, ProblemReason } from './report.js';
export { directorySource, gitRevisionSource, pinSources, readerFor, remoteSource } from './sources.js';
export type { ReadBase, RepoLocalDirs, RepoSource, RepoSources } from './sources.js';
export { applySeries, repairInterruptedApply, verifyLedger } from './apply.js';
export type { ApplyOptions, ApplyResult, PlannedWrite } from './apply.js';
export { ownedChanges, readLedger, revertAppliedPatches } from './ledger.js';
export type { Ledger, LedgerFile, LedgerRepo, RevertOptions } from './ledger.js';
export { checkPatches } from './check.js';
export type { CheckOptions, CheckResult } from './check.js';
export { exportPatches, normalizePatch, patchFileName } from './export.js';
export type { ExportOptions, ExportResult } from './export.js';
export { rebasePatches } from './rebase.js';
export type { NeedsHandReason, RebaseOptions, RebaseResult } from './rebase.js';
