import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes into a checkout: atomic (tmp + fsync + rename, so a crash leaves the old or the new file,
 * never a torn one), keeping the file's mode. Temp files carry a recognisable suffix so a repair
 * can sweep the ones a killed run left behind.
 */

const TMP_MARK = '.build-quiche-';
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const tmpPattern = (base: string) => new RegExp(`^${escapeRegExp(`${base}${TMP_MARK}`)}\\d+-[0-9a-f]+\\.tmp$`);

/** Replace `file` with `content`; mode: the given one, else the existing file's, else 0644. */
export async function writeFileKeepingMode(file: string, content: Uint8Array, mode?: number): Promise<void> {
  const existing = await stat(file).catch(() => undefined);
  const finalMode = mode ?? (existing ? existing.mode & 0o7777 : 0o644);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}${TMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    const handle = await open(tmp, 'wx', finalMode);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(tmp, finalMode);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

/** Remove a file we created, and the directories that held only it, up to (not including) `root`. */
export async function removeFile(file: string, root: string): Promise<void> {
  await rm(file, { force: true });
  let dir = path.dirname(file);
  const stop = path.resolve(root);
  while (dir.startsWith(`${stop}${path.sep}`)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    dir = path.dirname(dir);
  }
}

/** Delete temp files a killed write left next to `file`. */
export async function sweepTempFiles(file: string): Promise<void> {
  const dir = path.dirname(file);
  const pattern = tmpPattern(path.basename(file));
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) if (pattern.test(name)) await rm(path.join(dir, name), { force: true });
}

/** Apply a mode without touching content (chmod keeps the mtime). */
export async function setMode(file: string, mode: number): Promise<void> {
  const current = await stat(file);
  if ((current.mode & 0o777) !== mode) await chmod(file, mode);
}
