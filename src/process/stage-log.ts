import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { BuildQuicheError } from '../errors.js';
import { redact } from '../util/redact.js';

/**
 * Everything a stage's subprocesses print goes to its log file, whole; only a rolling tail stays in
 * memory (for the UI and for error reports), so 30,000 lines of build output cost no RAM.
 */
export class StageLog {
  private readonly stream: WriteStream;
  private readonly ring: string[] = [];
  /** A write error (e.g. a full disk): reported by close(), never an uncaught crash. */
  private failed: NodeJS.ErrnoException | undefined;

  constructor(
    readonly path: string,
    private readonly keep = 200,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.stream = createWriteStream(path, { flags: 'a' });
    this.stream.on('error', (error: NodeJS.ErrnoException) => {
      this.failed ??= error;
    });
  }

  write(raw: string): void {
    const line = redact(raw);
    if (!this.failed) this.stream.write(`${line}\n`);
    this.ring.push(line);
    if (this.ring.length > this.keep) this.ring.shift();
  }

  tail(lines = 20): string[] {
    return this.ring.slice(-lines);
  }

  async close(): Promise<void> {
    // 'close' comes after the last write succeeded or failed (end's callback may come first).
    if (!this.stream.closed) {
      await new Promise<void>((resolve) => {
        this.stream.once('close', resolve);
        this.stream.end();
      });
    }
    if (this.failed) {
      const disk = this.failed.code === 'ENOSPC' || this.failed.code === 'EDQUOT';
      throw new BuildQuicheError(disk ? 'disk' : 'internal', `Could not write the log ${this.path}: ${this.failed.message}`, {
        hint: disk ? 'The disk is full. Free space (see `build-quiche doctor`), then run again.' : undefined,
      });
    }
  }
}
