import { createHash, randomBytes } from 'node:crypto';
import { readdir, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { isRunning } from '../process/liveness.js';

/**
 * Staging directories of a directory store's puts. The name says which process on which host made
 * it, so a later put can tell a dead put's leftovers (kill -9 between mkdir and rename) from a put
 * still running, possibly from another machine sharing the store, and sweeps only the former.
 */

const hostTag = () => createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
const STAGING = /^\.put-([0-9a-f]{8})-(\d+)-/;

/** A fresh staging path for this process' put of `fingerprint` under `root`. */
export function stagingPath(root: string, fingerprint: string): string {
  return path.join(root, `.put-${hostTag()}-${process.pid}-${fingerprint.slice(0, 16)}-${randomBytes(4).toString('hex')}`);
}

/** Removes staging dirs (and their `.old` siblings) left by puts of this host whose process is gone; returns their names. */
export async function sweepDeadStaging(root: string): Promise<string[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  const host = hostTag();
  const dead = names.filter((name) => {
    const match = STAGING.exec(name);
    return match !== null && match[1] === host && !isRunning(Number(match[2]));
  });
  await Promise.all(dead.map((name) => rm(path.join(root, name), { recursive: true, force: true })));
  return dead;
}
