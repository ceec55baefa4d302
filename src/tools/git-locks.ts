import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Stale git lock files (`.git/index.lock`, `config.lock`, `shallow.lock`, `HEAD.lock` ...): git leaves
 * one behind when it is killed, and every later git (and gclient: "Your repo is locked") refuses to
 * run. A lock is stale when no live process is working inside that repository; only then is it removed.
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

const lockFilesIn = (repo: string): string[] => {
  const gitDir = path.join(repo, '.git');
  if (!existsSync(gitDir)) return [];
  try {
    return readdirSync(gitDir)
      .filter((name) => name.endsWith('.lock'))
      .map((name) => path.join(gitDir, name));
  } catch {
    return []; // a .git file (worktree) or unreadable: nothing of ours to repair
  }
};

/** Remove stale git lock files in these repos; report live ones without touching them. */
export async function removeStaleGitLocks(repos: string[]): Promise<LockRepair[]> {
  const repairs: LockRepair[] = [];
  for (const repo of repos) {
    const locks = lockFilesIn(repo);
    if (locks.length === 0) continue;
    const holders = processesWorkingIn(repo);
    for (const lock of locks) {
      if (holders.length === 0) await rm(lock, { force: true });
      repairs.push({ lock, removed: holders.length === 0, holders });
    }
  }
  return repairs;
}
