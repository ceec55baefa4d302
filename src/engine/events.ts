import type { BuildQuicheError } from '../errors.js';
import type { Progress } from './stage.js';

export type PlanStatus =
  | 'run' // never ran, forced, or verify failed
  | 'stale' // inputs changed since the last success
  | 'skip' // up to date: fingerprint matches and verify passed
  | 'waits' // an upstream stage runs first; this one runs only if that changes its inputs
  | 'repair' // the last run died here: repair, then run
  | 'disabled' // switched off for this run (config or an upstream decision)
  | 'always' // cheap checks that run every time
  | 'unselected'; // outside --from/--until/--only

export interface PlanEntry {
  stage: string;
  title: string;
  status: PlanStatus;
  reason: string;
  fingerprint?: string;
  /** Short description of the last recorded outputs. */
  summary?: string;
}

export type PipelineEvent =
  | { type: 'run-start'; runId: string; logDir: string; command: string; stages: Array<{ id: string; title: string }> }
  | { type: 'lock-wait'; holderPid: number; command: string }
  | { type: 'lock-stale'; holderPid: number; killedGroups: number[] }
  | { type: 'stage-start'; stage: string; title: string; reason: string; logPath: string }
  | { type: 'stage-skip'; stage: string; title: string; reason: string }
  | { type: 'stage-repair'; stage: string; reason: string }
  | { type: 'stage-line'; stage: string; line: string }
  | { type: 'stage-note'; stage: string; message: string }
  | { type: 'stage-progress'; stage: string; progress: Progress }
  | { type: 'stage-done'; stage: string; title: string; durationMs: number; summary?: string }
  | { type: 'stage-fail'; stage: string; title: string; error: BuildQuicheError }
  | {
      type: 'run-end';
      ok: boolean;
      durationMs: number;
      /** Stages that did work (not counting `always` checks, listed in `checked`). */
      ran: string[];
      skipped: string[];
      checked: string[];
    };

export type EventSink = (event: PipelineEvent) => void;
