/**
 * The types the api's functions take, return and report through `onEvent` that are defined below
 * the api: the run's summary and selection, progress events and plan entries, the patch tools'
 * results, a packaged artifact.
 */
export type { RunSummary, Selection } from '../engine/pipeline.js';
export type { EventSink, PipelineEvent, PlanEntry, PlanStatus } from '../engine/events.js';
export type { Progress } from '../engine/stage.js';
export type { CheckResult } from '../patches/check.js';
export type { ExportResult } from '../patches/export.js';
export type { RebaseResult } from '../patches/rebase.js';
export type { ArtifactResult } from '../artifacts/package.js';
