import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';

/**
 * Everything a stage's subprocesses print goes to its log file, whole; only a rolling tail stays in
 * memory (for the UI and for error reports), so 30,000 lines of build output cost no RAM.
 */
export class StageLog {
  private readonly stream: WriteStream;
  private readonly ring: string[] = [];

  constructor(
    readonly path: string,
    private readonly keep = 200,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.stream = createWriteStream(path, { flags: 'a' });
  }

  write(line: string): void {
    this.stream.write(`${line}\n`);
    this.ring.push(line);
    if (this.ring.length > this.keep) this.ring.shift();
  }

  tail(lines = 20): string[] {
    return this.ring.slice(-lines);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.stream.end(resolve));
  }
}

const dirname = (file: string) => path.dirname(file);
