import { hostname } from 'node:os';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockHeldError } from '../errors.js';
import { tempSibling, writeJsonAtomic } from '../util/fs.js';
import { isAlive, killGroup, pidExists, selfId, type ProcessId } from '../process/proc.js';

export interface LockInfo extends ProcessId {
  hostname: string;
  startedAt: string;
  command: string;
  /** Process groups of running subprocesses, so a successor can stop orphans of a killed run. */
  children: ProcessId[];
}

export interface AcquireOptions {
  command: string;
  waitMs: number;
  signal?: AbortSignal;
  /** Called once when the lock is busy and we start waiting. */
  onWait?: (holder: LockInfo) => void;
  /** Called when a dead holder's lock was taken over (and its orphans stopped). */
  onStale?: (holder: LockInfo, killedGroups: number[]) => void;
}

/**
 * One run per cache dir. gclient has no lock of its own and two syncs in one tree race, so the
 * pipeline serialises runs here: O_EXCL create, a holder that is dead is taken over (after its
 * orphaned subprocess groups are stopped), a live one is waited for up to `waitMs`.
 */
export class RunLock {
  private constructor(
    readonly file: string,
    private info: LockInfo,
  ) {}

  static async acquire(file: string, options: AcquireOptions): Promise<RunLock> {
    mkdirSync(path.dirname(file), { recursive: true });
    const info: LockInfo = {
      ...selfId(),
      hostname: hostname(),
      startedAt: new Date().toISOString(),
      command: options.command,
      children: [],
    };
    const deadline = Date.now() + options.waitMs;
    let announced = false;
    for (;;) {
      options.signal?.throwIfAborted();
      if (await tryCreate(file, info)) return new RunLock(file, info);
      const holder = await readLockInfo(file);
      // The lock file appears whole (link of a written temp file), so unreadable means corrupt.
      const stale = !holder || (holder.hostname === info.hostname && !isAlive(holder));
      if (stale) {
        if (await takeOver(file, holder)) {
          if (holder) options.onStale?.(holder, stopOrphans(holder));
        } else {
          await sleep(20); // another waiter is taking it over
        }
        continue;
      }
      if (Date.now() >= deadline) {
        throw new LockHeldError(
          `Another build-quiche run holds the cache lock: pid ${holder.pid} on ${holder.hostname}, "${holder.command}", started ${holder.startedAt}.`,
          {
            hint: `Wait for it to finish or stop it (kill ${holder.pid}). If that process is gone, the next run takes the lock over by itself. Lock file: ${file}`,
            data: { holder },
          },
        );
      }
      if (!announced) {
        options.onWait?.(holder);
        announced = true;
      }
      await sleep(Math.min(250, Math.max(10, deadline - Date.now())));
    }
  }

  async addChild(child: ProcessId): Promise<void> {
    this.info.children.push(child);
    await this.save();
  }

  async removeChild(pid: number): Promise<void> {
    this.info.children = this.info.children.filter((c) => c.pid !== pid);
    await this.save();
  }

  async release(): Promise<void> {
    const current = await readLockInfo(this.file);
    if (current && current.pid === this.info.pid && current.startedAt === this.info.startedAt) {
      await rm(this.file, { force: true });
    }
  }

  private async save(): Promise<void> {
    await writeJsonAtomic(this.file, this.info);
  }
}

/** Atomically create a file with its content: write a temp file, then link() it (EEXIST if taken). */
async function tryCreate(file: string, content: unknown): Promise<boolean> {
  const tmp = tempSibling(file);
  await writeFile(tmp, `${JSON.stringify(content, null, 2)}\n`);
  try {
    await link(tmp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Remove a dead holder's lock without racing other waiters: only the waiter holding the short-lived
 * `<lock>.takeover` file may remove it, and only if it is still the very lock judged dead (nobody
 * else can replace a lock without removing it first).
 */
async function takeOver(file: string, judged: LockInfo | undefined): Promise<boolean> {
  const takeover = `${file}.takeover`;
  if (!(await tryCreate(takeover, selfId()))) {
    const other = await readFile(takeover, 'utf8')
      .then((t) => JSON.parse(t) as ProcessId)
      .catch(() => undefined);
    // Its taker died mid-way: clear the way. Unreadable means it is gone already (it is created whole, by
    // link()); removing the path then could delete a third waiter's fresh takeover file.
    if (other && !isAlive(other)) await rm(takeover, { force: true });
    return false;
  }
  try {
    const current = await readLockInfo(file);
    const same = judged ? current?.pid === judged.pid && current.startedAt === judged.startedAt : !current;
    if (same) await rm(file, { force: true });
    return same;
  } finally {
    await rm(takeover, { force: true });
  }
}

export async function readLockInfo(file: string): Promise<LockInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(file, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? { ...info, children: info.children ?? [] } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Remove a lock whose holder ran on `host` and is known to be gone. A container killed before
 * build-quiche inside released its lock leaves one with the container's hostname and a pid from
 * another namespace, which no later run could judge dead; the host side knows the container is
 * gone. Synchronous, for a process 'exit' hook; quiet when there is no lock or it is not that host's.
 */
export function releaseLockHeldBy(file: string, host: string): void {
  try {
    const holder = JSON.parse(readFileSync(file, 'utf8')) as { hostname?: string };
    if (holder.hostname === host) unlinkSync(file);
  } catch {
    // No lock, or not this host's.
  }
}

/** A killed run's subprocesses (gclient, siso) keep going; stop their groups before we touch the tree. */
function stopOrphans(holder: LockInfo): number[] {
  const killed: number[] = [];
  for (const child of holder.children) {
    // A dead group leader's pid cannot be reused while its group lives on, so a group that
    // outlived its leader (gclient's git children) is still ours to stop.
    if ((isAlive(child) || !pidExists(child.pid)) && killGroup(child.pid, 'SIGKILL')) killed.push(child.pid);
  }
  return killed;
}
