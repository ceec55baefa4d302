import { execa, type ResultPromise } from 'execa';
import path from 'node:path';

export { writeConfigFile } from '../../testkit/world.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const ENTRY = path.join(ROOT, 'src', 'cli', 'entry.ts');
// Resolved here, not from the child's cwd (a temp dir without node_modules).
const TSX = import.meta.resolve('tsx');

/** The real CLI in a child process (for kill -9, signals and exit codes). */
export function spawnCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): ResultPromise<{ all: true; reject: false }> {
  return execa(process.execPath, ['--import', TSX, ENTRY, ...args], {
    cwd: options.cwd,
    env: { CI: '1', ...options.env },
    all: true,
    reject: false,
    // The test kills it deliberately; the child's own subprocess groups outlive it like in real life.
    cleanup: false,
  });
}

/** Resolves once the child printed a line containing `text`. */
export function waitForLine(child: ResultPromise, text: string | RegExp, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${text}; got:\n${buffer.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find((l) => (typeof text === 'string' ? l.includes(text) : text.test(l)));
      if (line) {
        clearTimeout(timer);
        child.all?.off('data', onData);
        resolve(line);
      }
    };
    child.all?.on('data', onData);
  });
}
