import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathExists } from '../util/fs.js';

/** A temp name next to `file` (same file system, so a rename publishes it atomically); util/fs uses the same pattern. */
export function tempSibling(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * Produce `file` through a temp sibling and a rename, so readers never see a partial file; the temp
 * file is removed when `write` fails. For streamed content (writeFileAtomic covers in-memory content).
 */
export async function writeThroughTemp(file: string, write: (tmp: string) => Promise<void>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = tempSibling(file);
  try {
    await write(tmp);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/**
 * Put directory `next` at `target` by renames. An existing target is first moved to `previous`
 * (same file system; the caller removes it) and moved back if the second rename fails, so `target`
 * is never missing or half-written.
 */
export async function renameDirInto(next: string, target: string, previous: string): Promise<void> {
  if (!(await pathExists(target))) {
    await rename(next, target);
    return;
  }
  await rename(target, previous);
  try {
    await rename(next, target);
  } catch (error) {
    await rename(previous, target);
    throw error;
  }
}
