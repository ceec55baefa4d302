/**
 * Reading ninja's and siso's output: `[N/M] ...` progress lines (both print them), and the failing
 * step of a compile error (`FAILED: target` followed by the compiler's message) without the
 * multi-kilobyte command line that precedes the message.
 */

const PROGRESS = /^\[\s*(\d+)\s*\/\s*(\d+)\s*\]\s*(.*)$/;

export interface StepProgress {
  done: number;
  total: number;
  message: string;
}

export function parseProgress(line: string): StepProgress | undefined {
  const m = PROGRESS.exec(line.trim());
  return m ? { done: Number(m[1]), total: Number(m[2]), message: m[3]! } : undefined;
}

export interface CompileFailure {
  step: string;
  message: string[];
}

/** Collects each failed step and the lines that explain it, as the output streams by. */
export class FailureCollector {
  readonly failures: CompileFailure[] = [];
  private current: CompileFailure | undefined;
  private skippedCommand = false;

  push(line: string): void {
    const failed = /^FAILED: (.*)$/.exec(line);
    if (failed) {
      this.current = { step: failed[1]!.trim(), message: [] };
      this.failures.push(this.current);
      this.skippedCommand = false;
      return;
    }
    if (!this.current) return;
    if (PROGRESS.test(line) || /^ninja: build stopped|^build failed|^siso: /.test(line)) {
      this.current = undefined;
      return;
    }
    // The first line after FAILED: is the command itself; the compiler's message follows it.
    if (!this.skippedCommand) {
      this.skippedCommand = true;
      if (line.length > 200 || /^\s*(\.\.\/|\/|[\w.+-]*(g\+\+|clang\+\+|gcc|clang|c\+\+|cc|python3?))\b/.test(line)) return;
    }
    if (this.current.message.length < 40) this.current.message.push(line);
  }
}
