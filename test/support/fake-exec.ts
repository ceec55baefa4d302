import type { Exec, ExecOptions, ExecResult } from '../../src/process/exec.js';

export interface FakeRun {
  /** Lines the program prints (to stdout), in order. */
  lines: string[];
  exitCode?: number;
  durationMs?: number;
}

/**
 * An exec that runs nothing: `answer` says what each call prints and how it ends (`call` counts from
 * 1). The calls are recorded, so a test can check the command lines it was given.
 */
export function fakeExec(answer: (file: string, args: readonly string[], call: number) => FakeRun): {
  exec: Exec;
  calls: Array<{ file: string; args: readonly string[] }>;
} {
  const calls: Array<{ file: string; args: readonly string[] }> = [];
  const exec: Exec = (file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> => {
    calls.push({ file, args });
    const { lines, exitCode = 0, durationMs = 10 } = answer(file, args, calls.length);
    for (const line of lines) options.onLine?.(line, 'stdout');
    return Promise.resolve({
      command: [file, ...args].join(' '),
      exitCode,
      signal: undefined,
      stdout: '',
      stderr: '',
      tail: lines.slice(-40),
      durationMs,
      timedOut: false,
      aborted: false,
    });
  };
  return { exec, calls };
}
