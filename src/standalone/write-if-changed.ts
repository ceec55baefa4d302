/**
 * Writes a generated file only when its content differs. ninja rebuilds everything when build.ninja's
 * mtime moves with changed commands, and a rewrite with equal content would still cost a re-read and
 * make "what changed" harder to see; leaving an identical file untouched keeps the no-op rerun a no-op.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../util/fs.js';

/** Returns true when the file was (re)written. */
export async function writeIfChanged(path: string, content: string): Promise<boolean> {
  const current = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (current === content) return false;
  await writeFileAtomic(path, content);
  return true;
}
