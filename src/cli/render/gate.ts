/**
 * What a renderer may leave out when its reader falls behind. Build output (a stage's subprocess
 * lines) is all in the stage log, and a progress report is replaced by the next one: neither is worth
 * holding the build up for, or queueing without end. Past `limit` bytes not yet taken by the reader,
 * such lines are dropped and counted per stage, and the renderer says how many once it can write
 * again (or when the stage ends). Everything else (stages starting and ending, notes, failures, the
 * summary) is always written.
 */
export class OutputGate {
  private readonly dropped = new Map<string, number>();

  constructor(
    private readonly backlog: (() => number) | undefined,
    /** Bytes the reader may be behind before lines are dropped. */
    private readonly limit = 256 * 1024,
  ) {}

  /** Whether the reader has fallen behind. */
  get behind(): boolean {
    return this.backlog !== undefined && this.backlog() > this.limit;
  }

  /** Whether a line of `stage` may be written now; counts it as dropped otherwise. */
  admit(stage: string): boolean {
    if (!this.behind) return true;
    this.dropped.set(stage, (this.dropped.get(stage) ?? 0) + 1);
    return false;
  }

  /** Lines of `stage` dropped since the last call (then forgotten). */
  take(stage: string): number {
    const count = this.dropped.get(stage) ?? 0;
    this.dropped.delete(stage);
    return count;
  }

  /** Every stage with dropped lines, and how many (then forgotten). */
  takeAll(): Array<[string, number]> {
    const all = [...this.dropped];
    this.dropped.clear();
    return all;
  }
}
