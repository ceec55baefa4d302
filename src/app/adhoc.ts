import path from 'node:path';
import type { EventSink } from '../engine/events.js';
import type { StageContext } from '../engine/stage.js';
import { exec } from '../process/exec.js';
import { StageLog } from '../process/stage-log.js';
import type { AppContext } from './context.js';

/**
 * A stage-shaped context for tools that reuse stage code outside a pipeline run (`patches check
 * --pin`, `patches rebase --to`): same logging, abort and exec, but no state, guards or lock.
 * Logs go to cache/logs/<tool>-<time>/<name>.log.
 */
export async function withAdhocContext<T>(
  app: AppContext,
  tool: string,
  body: (ctx: StageContext<AppContext>) => Promise<T>,
  options: { signal?: AbortSignal; onEvent?: EventSink } = {},
): Promise<T> {
  const signal = options.signal ?? new AbortController().signal;
  // Time first, like pipeline run ids, so log pruning (oldest names first) treats both alike.
  const runId = `${new Date().toISOString().replace(/[:.]/g, '-').replace(/-\d{3}Z$/, 'Z')}-${tool}-${process.pid}`;
  const log = new StageLog(path.join(app.paths.cacheDir, 'logs', runId, `${tool}.log`));
  const emit = options.onEvent ?? (() => {});
  const ctx: StageContext<AppContext> = {
    app,
    signal,
    stageId: tool,
    runId,
    log,
    previous: undefined,
    upstream: () => {
      throw new Error(`${tool} has no upstream stages`);
    },
    report: {
      line: (line) => emit({ type: 'stage-line', stage: tool, line }),
      note: (message) => {
        log.write(`NOTE: ${message}`);
        emit({ type: 'stage-note', stage: tool, message });
      },
      progress: (progress) => emit({ type: 'stage-progress', stage: tool, progress }),
    },
    exec: (file, args, opts = {}) => exec(file, args, { log, signal, ...opts }),
    guard: { data: {}, update: async () => {} },
  };
  try {
    return await body(ctx);
  } finally {
    await log.close();
  }
}
