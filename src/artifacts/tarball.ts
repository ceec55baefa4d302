import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Header } from 'tar';
import { BuildQuicheError, IntegrityError } from '../errors.js';
import { compareBytes } from './manifest.js';

/**
 * A reproducible .tar.gz writer. node-tar's packer takes metadata from the file system (owner,
 * timestamps, umask-dependent modes, pax atime/ctime); here every header field is set explicitly,
 * so the same entries always give the same bytes.
 */

/** 2000-01-01T00:00:00Z: the mtime of every entry unless the caller passes one (SOURCE_DATE_EPOCH-style). */
export const DEFAULT_MTIME = new Date('2000-01-01T00:00:00Z');

/** gzip header OS byte for Unix (RFC 1952), whatever the platform zlib was built for. */
const GZIP_OS_UNIX = 3;
const BLOCK = 512;

export type TarEntry =
  | { type: 'directory'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; data: Buffer }
  /** A file streamed from disk; size and sha256 were measured beforehand and are checked while writing. */
  | { type: 'file'; path: string; mode: number; source: string; size: number; sha256: string };

function header(HeaderClass: typeof Header, entry: TarEntry, mtime: Date): Buffer {
  const size = entry.type === 'directory' ? 0 : 'data' in entry ? entry.data.length : entry.size;
  const h = new HeaderClass({
    path: entry.type === 'directory' ? `${entry.path}/` : entry.path,
    type: entry.type === 'directory' ? 'Directory' : 'File',
    mode: entry.mode,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    size,
    mtime,
  });
  if (h.encode()) {
    throw new BuildQuicheError('internal', `Cannot store ${entry.path} in a plain ustar header (path too long or not ASCII).`);
  }
  return h.block as Buffer;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

async function* tarBlocks(entries: readonly TarEntry[], mtime: Date): AsyncGenerator<Buffer> {
  // tar is loaded when a tarball is written, not by every CLI start.
  const { Header } = await import('tar');
  for (const entry of entries) {
    yield header(Header, entry, mtime);
    if (entry.type === 'directory') continue;
    if ('data' in entry) {
      yield entry.data;
      yield padding(entry.data.length);
      continue;
    }
    const hash = createHash('sha256');
    let written = 0;
    for await (const chunk of createReadStream(entry.source)) {
      const buffer = chunk as Buffer;
      written += buffer.length;
      if (written > entry.size) break;
      hash.update(buffer);
      yield buffer;
    }
    if (written !== entry.size || hash.digest('hex') !== entry.sha256) {
      throw new IntegrityError(`${entry.source} changed while it was being packaged.`, {
        hint: 'Something is still writing the build outputs. Wait for it to finish, then package again.',
      });
    }
    yield padding(entry.size);
  }
  // End of archive: two zero blocks.
  yield Buffer.alloc(2 * BLOCK);
}

/** Entries sorted by path; a directory sorts before its children because its path is their prefix. */
export function sortEntries(entries: readonly TarEntry[]): TarEntry[] {
  return [...entries].sort((a, b) => compareBytes(a.path, b.path));
}

/**
 * Write `entries` (in the given order) as a gzip'd ustar archive to `file`. The gzip header has no
 * name, mtime 0 and OS 'Unix'; compression level 9. The caller owns atomicity (writes to a temp name).
 */
export async function writeTarGz(
  entries: readonly TarEntry[],
  file: string,
  options: { mtime?: Date; signal?: AbortSignal } = {},
): Promise<void> {
  const mtime = new Date(Math.floor((options.mtime ?? DEFAULT_MTIME).getTime() / 1000) * 1000);
  await pipeline(
    Readable.from(tarBlocks(entries, mtime)),
    createGzip({ level: 9 }),
    createWriteStream(file),
    options.signal ? { signal: options.signal } : {},
  );
  const handle = await open(file, 'r+');
  try {
    // Node's zlib already writes MTIME 0; the OS byte is zlib's build-time OS_CODE, so pin it.
    await handle.write(Buffer.from([GZIP_OS_UNIX]), 0, 1, 9);
  } finally {
    await handle.close();
  }
}
