import { setTimeout as sleep } from 'node:timers/promises';
import { ToolError, type BuildQuicheError } from '../errors.js';
import { exec as plainExec, type Exec, type ExecResult } from './exec.js';
import type { LogFile } from './log-file.js';

/**
 * A long-running helper (a toy server, tcpdump, wireguard-go) run through exec() in its own process
 * group, its output lines kept: stop() aborts it (SIGTERM to the group, SIGKILL after a grace period)
 * and waits for it to exit.
 */
export interface Background {
  name: string;
  lines: string[];
  /** Resolves when a line matches, rejects when the process exits first or the time is up. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  exited(): boolean;
  /** How it ended, once it has: its exit code, or the error exec() failed with. */
  ended(): { exitCode?: number; error?: BuildQuicheError } | undefined;
  /** Stops it; rejects with the error exec() failed with, unless stop() itself ended it. */
  stop(): Promise<ExecResult | undefined>;
}

export interface BackgroundOptions {
  /** The exec to run it with (a stage's ctx.exec: its log, signal and lock tracking); default exec(). */
  exec?: Exec;
  log?: LogFile;
  signal?: AbortSignal;
  graceMs?: number;
}

export function startBackground(name: string, file: string, args: string[], options: BackgroundOptions = {}): Background {
  const stopper = new AbortController();
  const lines: string[] = [];
  let ended: ReturnType<Background['ended']>;
  const running = (options.exec ?? plainExec)(file, args, {
    log: options.log,
    signal: options.signal ? AbortSignal.any([options.signal, stopper.signal]) : stopper.signal,
    allowFailure: true,
    captureStdout: false,
    killGraceMs: options.graceMs ?? 2000,
    onLine: (line) => lines.push(line),
  }).then(
    (result) => {
      ended = { exitCode: result.exitCode };
      return result;
    },
    (error: BuildQuicheError) => {
      ended = { error };
      // Stopping it is the normal end; any other failure is kept for stop() to report.
      if (stopper.signal.aborted) return undefined;
      throw error;
    },
  );
  // Handled here so that a failure nobody stops is not an unhandled rejection.
  running.catch(() => undefined);
  return {
    name,
    lines,
    exited: () => ended !== undefined,
    ended: () => ended,
    async waitForLine(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = lines.find((l) => pattern.test(l));
        if (hit) return hit;
        if (ended) throw new ToolError(`${name} exited before it was ready.`, { tail: lines.slice(-20), logPath: options.log?.path });
        if (Date.now() > deadline)
          throw new ToolError(`${name} was not ready after ${timeoutMs} ms (waited for ${pattern}).`, {
            tail: lines.slice(-20),
            logPath: options.log?.path,
          });
        await sleep(20);
      }
    },
    async stop() {
      stopper.abort();
      return running;
    },
  };
}
