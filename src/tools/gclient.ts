import type { Exec } from '../process/exec.js';
import { withRetry, type RetryPolicy } from '../process/retry.js';
import { ToolError } from '../errors.js';
import { removeStaleGitLocks } from './git-locks.js';

/**
 * gclient (depot_tools). It has no lock of its own and a killed run leaves git lock files (index.lock, config.lock ...)
 * behind that make every later run fail ("Your repo is locked"), so each try first clears stale
 * locks in the repos it will touch (never partial clones: that is the checkout stage's call), and
 * network failures are retried.
 */

export interface GclientOptions {
  /** A stage's exec: logged, tracked by the run lock, stopped on abort. */
  exec: Exec;
  /** The gclient root (holds .gclient). */
  root: string;
  /** The depot_tools environment (tools/depot-tools.ts). */
  env: Record<string, string>;
  retry: RetryPolicy;
  signal: AbortSignal;
  /** The repos whose stale git lock files are cleared before each try. */
  repos: () => Promise<string[]>;
  /** Runs before each try after the first (e.g. the checkout stage removing half-made clones). */
  beforeTry?: () => Promise<void>;
  note: (message: string) => void;
}

/** Remove stale git lock files in these repos; a lock a live process holds is a ToolError. */
export async function repairStaleLocks(repos: string[], note: (message: string) => void): Promise<void> {
  for (const repair of await removeStaleGitLocks(repos)) {
    if (repair.removed) note(`removed stale ${repair.lock} (no git process was using it)`);
    else {
      throw new ToolError(`${repair.lock} is held by running process(es) ${repair.holders.join(', ')}.`, {
        hint: 'Another git or gclient is working in this checkout; wait for it or stop it.',
      });
    }
  }
}

export async function gclient(args: string[], options: GclientOptions): Promise<void> {
  let tries = 0;
  await withRetry(
    async () => {
      if (tries++ > 0) await options.beforeTry?.();
      // A killed attempt leaves locks behind; clear stale ones before each try.
      await repairStaleLocks(await options.repos(), options.note);
      await options.exec('gclient', args, { cwd: options.root, env: options.env });
    },
    options.retry,
    {
      signal: options.signal,
      onRetry: (error, attempt, left) =>
        options.note(`gclient ${args[0]} failed (${error.message.split('\n')[0]}); retry ${attempt}, ${left} left`),
    },
  );
}

export interface SyncOptions {
  /** What to sync, e.g. `src@refs/tags/152.0.7977.83`. */
  revision: string;
  /** -D: delete dep trees DEPS no longer lists (right for our own checkout, not for an adopted one). */
  deleteUnlisted: boolean;
  /** Skip CIPD deps (no CIPD access). */
  offline: boolean;
  jobs?: number;
  extraArgs: string[];
}

/** `gclient sync` without history or hooks (runhooks runs after the deps are verified). */
export function syncArgs(sync: SyncOptions): string[] {
  const args = ['sync', '--no-history', '--nohooks', '-r', sync.revision];
  if (sync.deleteUnlisted) args.push('-D');
  if (sync.offline) args.push('--ignore-dep-type=cipd');
  if (sync.jobs) args.push('-j', String(sync.jobs));
  args.push(...sync.extraArgs);
  return args;
}

export const gclientSync = (sync: SyncOptions, options: GclientOptions) => gclient(syncArgs(sync), options);
export const gclientRunhooks = (options: GclientOptions) => gclient(['runhooks'], options);
