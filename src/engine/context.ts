import path from 'node:path';
import { exec, type ChildTracker, type Exec } from '../process/exec.js';
import { LogFile } from '../process/log-file.js';
import type { EventSink } from './events.js';
import type { InputContext, StageContext } from './stage.js';
import type { StageRecord } from './state.js';

/** A run id: the start time first (log pruning sorts names oldest first), then what made it. */
export const newRunId = (suffix: string | number = process.pid) =>
  `${new Date()
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d{3}Z$/, 'Z')}-${suffix}`;

export interface StageContextParts<C> {
  /**
   * The stage's reads. Outside a pipeline run (tools, tests) upstreamIfDone may be left out: such a
   * context knows only the outputs it was given, and reads everything through upstream().
   */
  input: Omit<InputContext<C>, 'upstreamIfDone'> & Partial<Pick<InputContext<C>, 'upstreamIfDone'>>;
  stageId: string;
  runId: string;
  log: LogFile;
  signal: AbortSignal;
  emit: EventSink;
  previous?: StageRecord;
  /** The run lock's child tracking (absent outside a locked pipeline run). */
  tracker?: ChildTracker;
  guard?: StageContext<C>['guard'];
}

/**
 * The one StageContext factory: the reporter (lines, notes, progress as events; notes also in the
 * log) and `exec` bound to the stage's log, the abort signal and the lock's child tracking. Used by
 * the pipeline, by tools that run stage code outside a pipeline, and by tests.
 */
export function createStageContext<C>(parts: StageContextParts<C>): StageContext<C> {
  const { stageId: stage, log, signal, emit, tracker } = parts;
  return {
    ...parts.input,
    upstreamIfDone: parts.input.upstreamIfDone ?? parts.input.upstream,
    signal,
    stageId: stage,
    runId: parts.runId,
    log,
    previous: parts.previous,
    report: {
      line: (line) => emit({ type: 'stage-line', stage, line }),
      note: (message) => {
        log.write(`NOTE: ${message}`);
        emit({ type: 'stage-note', stage, message });
      },
      progress: (progress) => emit({ type: 'stage-progress', stage, progress }),
    },
    // A caller's options may name log, signal or tracker as undefined (e.g. a wrapper passing its own
    // optional fields through): that must not drop the stage's, or the output would miss the log and the
    // process would escape Ctrl-C and the lock's kill -9 cleanup.
    exec: (file, args, options = {}) =>
      exec(file, args, {
        ...options,
        log: options.log ?? log,
        signal: options.signal ?? signal,
        tracker: options.tracker ?? tracker,
        onLine: (line, stream) => {
          emit({ type: 'stage-line', stage, line });
          options.onLine?.(line, stream);
        },
      }),
    guard: parts.guard ?? { data: {}, update: async () => {} },
  };
}

/**
 * The exec a stage's verify() gets: in a run, logged to the stage's log (opened only when verify
 * starts a process, so skipped stages leave no empty logs) and tracked by the lock; in `plan`,
 * neither (there is no run), but still stopped on abort.
 */
export function verifyExec(
  logFile: string | undefined,
  signal: AbortSignal,
  tracker?: ChildTracker,
): { exec: Exec; close(): Promise<void> } {
  let log: LogFile | undefined;
  return {
    exec: (file, args, options = {}) =>
      exec(file, args, {
        ...options,
        log: options.log ?? (logFile ? (log ??= new LogFile(logFile)) : undefined),
        signal: options.signal ?? signal,
        tracker: options.tracker ?? tracker,
      }),
    close: async () => {
      await log?.close();
    },
  };
}

/**
 * A stage-shaped context for tools that reuse stage code outside a pipeline run (`patches check
 * --pin`, `patches rebase --to`): same logging, abort and exec, but no state, guards or lock.
 * Logs go to <stateDir>/logs/<time>-<tool>-<pid>/<tool>.log.
 */
export async function withAdhocContext<C, T>(
  app: C,
  stateDir: string,
  tool: string,
  body: (ctx: StageContext<C>) => Promise<T>,
  options: { signal?: AbortSignal; onEvent?: EventSink } = {},
): Promise<T> {
  const runId = newRunId(`${tool}-${process.pid}`);
  const log = new LogFile(path.join(stateDir, 'logs', runId, `${tool}.log`));
  const ctx = createStageContext<C>({
    input: {
      app,
      upstream: () => {
        throw new Error(`${tool} has no upstream stages`);
      },
    },
    stageId: tool,
    runId,
    log,
    signal: options.signal ?? new AbortController().signal,
    emit: options.onEvent ?? (() => {}),
  });
  try {
    return await body(ctx);
  } finally {
    await log.close();
  }
}
