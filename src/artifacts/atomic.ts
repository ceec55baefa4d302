import { rename } from 'node:fs/promises';
import { pathExists } from '../util/fs.js';

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
