import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A temp name next to `file`: same file system, so a rename publishes it atomically. */
export function tempSibling(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/**
 * Produce `file` through a temp sibling and a rename, so readers see the old content or the new one,
 * never a partial file; the temp file is removed when `write` fails.
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

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await writeThroughTemp(file, (tmp) => writeFile(tmp, data));
}

/**
 * Write a file only when its content differs, atomically. A generated file rewritten with the same
 * content would still move its mtime, and ninja (build.ninja, args.gn) or gclient take that for a
 * change; leaving an identical file untouched keeps a no-op rerun a no-op. Says what it did.
 */
export async function writeIfChanged(file: string, content: string): Promise<'created' | 'changed' | 'unchanged'> {
  const current = await readIfExists(file);
  if (current !== undefined && current.equals(Buffer.from(content))) return 'unchanged';
  await writeFileAtomic(file, content);
  return current === undefined ? 'created' : 'changed';
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function pathExists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** A file's content, or undefined when it (or a directory on its path) does not exist. */
export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** sha256 of a file's content, null for an absent file (as the patch ledger records them). */
export const sha256OrNull = (content: Buffer | undefined): string | null => (content === undefined ? null : sha256(content));
