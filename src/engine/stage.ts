import type { ExecOptions, ExecResult } from '../process/exec.js';
import type { LogFile } from '../process/log-file.js';
import type { GuardInfo } from './guard.js';
import type { StageRecord } from './state.js';

/**
 * The stage contract (docs/architecture.md). The engine is generic over the application context `C`
 * and knows nothing about Chromium: stages bring their own inputs, run, verify and repair.
 */

export interface Progress {
  done: number;
  total: number;
  /** Free text such as the step being compiled. */
  message?: string;
}

export interface Reporter {
  /** A line of subprocess output (already in the log): the UI keeps a rolling tail. */
  line: (text: string) => void;
  /** Something the user should read even in plain mode ("migration check skipped: ..."). */
  note: (text: string) => void;
  progress: (progress: Progress) => void;
}

export interface InputContext<C> {
  app: C;
  /** Outputs of an upstream stage (from this run, or its last successful record). */
  upstream: <T>(stageId: string) => T;
  /**
   * The same read for code that can do without the outputs: undefined when that stage has not
   * completed (it never ran, or its last run died or failed there). Reading a stage `after` does not
   * declare is still an internal error, as with upstream().
   */
  upstreamIfDone: <T>(stageId: string) => T | undefined;
}

export interface VerifyContext<C> extends InputContext<C> {
  signal: AbortSignal;
  /** exec for checks such as `ninja -n`: in a run, logged to the stage's log and tracked by the lock. */
  exec: (file: string, args: readonly string[], options?: ExecOptions) => Promise<ExecResult>;
}

export interface StageContext<C> extends VerifyContext<C> {
  // exec (from VerifyContext) is bound to this stage's log, the run's abort signal and the lock's child tracking.
  stageId: string;
  runId: string;
  log: LogFile;
  report: Reporter;
  /** The stage's last successful record, if any (for incremental work such as re-patching). */
  previous: StageRecord | undefined;
  /** Persist what the stage is about to touch, so a repair after a crash knows it. */
  guard: { data: Record<string, unknown>; update: (data: Record<string, unknown>) => Promise<void> };
}

/** `true` when outputs on disk match the record; otherwise the reason they do not. */
export type VerifyResult = true | string;

export interface Stage<C, I = unknown, O = unknown> {
  id: string;
  /**
   * The ids this stage had before a rename. Its record and guard under one of them (in a cache made
   * by an older build-quiche) are read as its own, so the rename costs no rebuild and a guard left
   * under the old id still makes the next run repair.
   */
  formerIds?: readonly string[];
  title: string;
  /**
   * Upstream stages whose outputs this stage reads (in enabled, inputs, run or verify). Reading one
   * not listed is an internal error: plan relies on this list to predict what re-runs.
   */
  after: readonly string[];
  /** Bump when the stage's behaviour changes in a way that must invalidate old records. */
  version?: number;
  /**
   * No side effects outside state.json (e.g. resolve reads remote files): no guard is written, so a
   * failure leaves nothing behind.
   */
  pure?: boolean;
  /** Cheap host checks that run every time (their outputs still feed later stages). */
  always?: boolean;
  /** `true`, or the reason the stage is skipped in this run (e.g. smoke tests disabled). */
  enabled?(ctx: InputContext<C>): true | string;
  /** The config slice, upstream outputs and tool versions this stage depends on (JSON only). */
  inputs(ctx: InputContext<C>): Promise<I> | I;
  run(ctx: StageContext<C>, inputs: I): Promise<O>;
  /** Cheap on-disk check that the recorded outputs are still there. */
  verify?(ctx: VerifyContext<C>, record: { inputs: I; outputs: O }): Promise<VerifyResult>;
  /** Called before `run` when a guard shows the previous run died inside this stage. */
  repair?(ctx: StageContext<C>, guard: GuardInfo): Promise<void>;
  /** One-line summary of outputs for plan/status (e.g. "quiche 1ba0d99a"). */
  describe?(outputs: O): string;
}

// Stages are stored in one list of mixed input/output types; the engine treats them opaquely.
// Method parameters are bivariant, so every Stage<C, I, O> is assignable to this one.
export type AnyStage<C> = Stage<C, unknown, unknown>;

export function defineStage<C, I, O>(stage: Stage<C, I, O>): Stage<C, I, O> {
  return stage;
}
