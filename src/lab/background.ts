import { setTimeout as sleep } from 'node:timers/promises';
import { ToolError, type BuildQuicheError } from '../errors.js';
import { exec, type ExecResult } from '../process/exec.js';
import type { LogFile } from '../process/log-file.js';

/**
 * A long-running helper (server, tcpdump, wireguard-go) run through exec() in its own process group:
 * stop() aborts it (SIGTERM to the group, SIGKILL after a grace period) and waits for it to exit.
 */
export interface Background {
  name: string;
  lines: string[];
  /** Resolves when a line matches, rejects when the process exits first or the time is up. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  exited(): boolean;
  stop(): Promise<ExecResult | undefined>;
}

export function startBackground(
  name: string,
  file: string,
  args: string[],
  options: { log?: LogFile; signal?: AbortSignal; graceMs?: number },
): Background {
  const stopper = new AbortController();
  const lines: string[] = [];
  let done = false;
  const running = exec(file, args, {
    log: options.log,
    signal: options.signal ? AbortSignal.any([options.signal, stopper.signal]) : stopper.signal,
    allowFailure: true,
    captureStdout: false,
    killGraceMs: options.graceMs ?? 2000,
    onLine: (line) => lines.push(line),
  }).then(
    (result) => result,
    (error: BuildQuicheError) => {
      // Stopping it is the normal end; any other failure is kept for stop() to report.
      if (stopper.signal.aborted) return undefined;
      throw error;
    },
  );
  running.then(
    () => (done = true),
    () => (done = true),
  );
  return {
    name,
    lines,
    exited: () => done,
    async waitForLine(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = lines.find((l) => pattern.test(l));
        if (hit) return hit;
        if (done) throw new ToolError(`${name} exited before it was ready.`, { tail: lines.slice(-20), logPath: options.log?.path });
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
