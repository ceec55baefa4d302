import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { BuildQuicheError } from '../errors.js';
import { redact } from '../util/redact.js';

/** A batch is written once it holds this much text (or at the end of the event loop turn). */
const BATCH_CHARS = 64 * 1024;

/**
 * Everything a stage's subprocesses print goes to its log file, whole; only a rolling tail stays in
 * memory (for the UI and for error reports), so 30,000 lines of build output cost no RAM.
 *
 * Lines are collected and written in batches: one write per 64 KB, or per turn of the event loop
 * (setImmediate), whichever comes first, so what a pipe read delivered in one chunk (up to 64 KB of
 * build output) costs one write, not one per line. Redaction runs on the batch: no secret or token
 * contains a line break, so it is the same as redacting line by line. close() writes what is left.
 */
export class LogFile {
  private readonly stream: WriteStream;
  /** The last `keep` lines as written (not yet redacted: tail() redacts what it hands out). */
  private readonly ring: string[];
  private next = 0;
  private count = 0;
  private batch: string[] = [];
  private batchChars = 0;
  private flushScheduled = false;
  /** A write error (e.g. a full disk): reported by close(), never an uncaught crash. */
  private failed: NodeJS.ErrnoException | undefined;

  constructor(
    readonly path: string,
    private keep = 200,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.keep = Math.max(1, keep);
    this.ring = new Array<string>(this.keep);
    this.stream = createWriteStream(path, { flags: 'a' });
    this.stream.on('error', (error: NodeJS.ErrnoException) => {
      this.failed ??= error;
    });
  }

  write(line: string): void {
    this.ring[this.next] = line;
    this.next = (this.next + 1) % this.keep;
    if (this.count < this.keep) this.count++;
    if (this.failed) return;
    this.batch.push(line);
    this.batchChars += line.length + 1;
    if (this.batchChars >= BATCH_CHARS) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** The last lines written, redacted (at most `keep`). */
  tail(lines = 20): string[] {
    const n = Math.min(lines, this.count);
    const out: string[] = [];
    for (let i = n; i > 0; i--) out.push(redact(this.ring[(this.next - i + this.keep) % this.keep]!));
    return out;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.batch.length === 0) return;
    const text = redact(`${this.batch.join('\n')}\n`);
    this.batch = [];
    this.batchChars = 0;
    if (!this.failed && !this.stream.writableEnded) this.stream.write(text);
  }

  async close(): Promise<void> {
    this.flush();
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
