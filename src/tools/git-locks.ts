import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Stale `index.lock` files: git leaves one behind when it is killed, and every later git (and
 * gclient: "Your repo is locked") refuses to run. A lock is stale when no live process is working
 * inside that repository; only then is it removed.
 */

function processesWorkingIn(dir: string): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return pids;
  }
  const root = path.resolve(dir) + path.sep;
  for (const pid of entries) {
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`) + path.sep;
      if (cwd.startsWith(root) && Number(pid) !== process.pid) pids.push(Number(pid));
    } catch {
      // The process ended or is not ours to inspect.
    }
  }
  return pids;
}

export interface LockRepair {
  lock: string;
  removed: boolean;
  holders: number[];
}

/** Remove stale index.lock files in these repos; report live ones without touching them. */
export async function removeStaleIndexLocks(repos: string[]): Promise<LockRepair[]> {
  const repairs: LockRepair[] = [];
  for (const repo of repos) {
    const lock = path.join(repo, '.git', 'index.lock');
    if (!existsSync(lock)) continue;
    const holders = processesWorkingIn(repo);
    if (holders.length === 0) await rm(lock, { force: true });
    repairs.push({ lock, removed: holders.length === 0, holders });
  }
  return repairs;
}
