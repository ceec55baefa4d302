import { readFileSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { DiskSpaceError, type BuildQuicheError } from '../errors.js';

/**
 * Telling a full disk from a compile error. A build that runs out of space fails in the tool that
 * happened to write next: g++ ("error writing to …: No space left on device"), the assembler ("Fatal
 * error: can't write 31 bytes to section .text of x.o: 'No space left on device'", the reason sometimes
 * cut off or missing), the linker ("final link failed"), ninja, CMake, git. Words that say "no space"
 * settle it; a bare write error settles it only when the filesystem the build writes to is (nearly)
 * full at the moment of the failure: the failing tool has usually removed its partial output by then,
 * so "nearly" leaves some room.
 */
const NO_SPACE = /No space left on device|ENOSPC|Disk quota exceeded|EDQUOT/i;
// binutils (ar, objcopy, strip): "unable to copy file 'x.a'; reason: …", where a short write on a full
// disk leaves the reason as "Success".
const WRITE_FAILED =
  /can't write \d+ bytes to section|can't close .+: |final link failed|error writing to |write error|failed to write|File too large|short write|unable to copy file/i;

/** A filesystem with less free space than this, after a write error, is full as far as a build is concerned. */
export const NEARLY_FULL_BYTES = 256 * 1024 * 1024;

export interface FilesystemSpace {
  /** Where it is mounted (the longest mount point that holds the directory). */
  mount: string;
  /** What is mounted there (a device, or tmpfs, overlay, …) and its type. */
  source: string;
  type: string;
  freeBytes: number;
  totalBytes: number;
}

/** The filesystem that holds `dir` (or its nearest existing parent), with its free space; undefined if unreadable. */
export function filesystemOf(dir: string): FilesystemSpace | undefined {
  let probe = path.resolve(dir);
  for (;;) {
    try {
      const stats = statfsSync(probe);
      const mount = mountOf(probe);
      return {
        mount: mount?.mount ?? probe,
        source: mount?.source ?? 'unknown',
        type: mount?.type ?? 'unknown',
        freeBytes: stats.bavail * stats.bsize,
        totalBytes: stats.blocks * stats.bsize,
      };
    } catch {
      const parent = path.dirname(probe);
      if (parent === probe) return undefined;
      probe = parent;
    }
  }
}

function mountOf(dir: string): { mount: string; source: string; type: string } | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return undefined;
  }
  // /proc/self/mounts escapes spaces and the like as octal (\040).
  const unescape = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  let best: { mount: string; source: string; type: string } | undefined;
  for (const line of table.split('\n')) {
    const [source, mount, type] = line.split(' ').map(unescape);
    if (!source || !mount || !type) continue;
    const inside = dir === mount || dir.startsWith(mount.endsWith('/') ? mount : `${mount}/`);
    if (inside && (!best || mount.length >= best.mount.length)) best = { mount, source, type };
  }
  return best;
}

const size = (bytes: number) =>
  bytes >= 1024 ** 3
    ? `${(bytes / 1024 ** 3).toFixed(1)} GB`
    : bytes >= 1024 ** 2
      ? `${(bytes / 1024 ** 2).toFixed(1)} MB`
      : `${Math.round(bytes / 1024)} kB`;

export const describeFilesystem = (fs: FilesystemSpace) =>
  `${fs.mount} (${fs.type} ${fs.source}): ${size(fs.freeBytes)} free of ${size(fs.totalBytes)}`;

/**
 * A DiskSpaceError when a failed command's output and the filesystem it writes to say the disk was
 * full, else undefined. `what` names the command or step for the message ("the compile", "cmake --build").
 */
export function diskFullFailure(
  lines: readonly string[],
  writesTo: string,
  what: string,
  details: { logPath?: string; tail?: string[] } = {},
): DiskSpaceError | undefined {
  const noSpace = lines.find((line) => NO_SPACE.test(line));
  const writeFailed = noSpace ?? lines.find((line) => WRITE_FAILED.test(line));
  if (!writeFailed) return undefined;
  const fs = filesystemOf(writesTo);
  if (!noSpace && (!fs || fs.freeBytes >= NEARLY_FULL_BYTES)) return undefined;
  const where = fs ? describeFilesystem(fs) : writesTo;
  const quoted = writeFailed.trim().length > 240 ? `${writeFailed.trim().slice(0, 240)}…` : writeFailed.trim();
  return new DiskSpaceError(`The disk is full: ${what} could not write to ${where}. It said: ${quoted}`, {
    hint: `Free space on ${fs?.mount ?? writesTo} (${writesTo} is there; see \`build-quiche doctor\`), then run again: finished work is kept and the build goes on from where it stopped.`,
    logPath: details.logPath,
    tail: details.tail,
    data: { filesystem: fs, writesTo },
  });
}

/**
 * A full disk that surfaced as a bare ENOSPC from one of build-quiche's own writes (a stage log, the
 * state, a tarball) rather than from a command: the same error, now naming the filesystem (of the path
 * written when the error has one, else `dir`) and its free space, as a compiler's full disk does.
 * Anything else, or a disk error that names its filesystem already, comes back as it is.
 */
export function namingFilesystem(error: BuildQuicheError, dir: string): BuildQuicheError {
  if (error.failureClass !== 'disk' || (error.data as { filesystem?: unknown } | undefined)?.filesystem) return error;
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  const writesTo = typeof cause?.path === 'string' ? path.dirname(cause.path) : dir;
  const fs = filesystemOf(writesTo);
  if (!fs) return error;
  return new DiskSpaceError(`${error.message} (${writesTo} is on ${describeFilesystem(fs)})`, {
    hint: `Free space on ${fs.mount} (see \`build-quiche doctor\`), then run again: finished work is kept and the build goes on from where it stopped.`,
    logPath: error.logPath,
    tail: error.tail,
    cause: error.cause ?? error,
    data: { filesystem: fs, writesTo },
  });
}
