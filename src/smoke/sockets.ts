import { readdir, readlink } from 'node:fs/promises';

/**
 * Counts a running process's open sockets from /proc/<pid>/fd (links named `socket:[inode]`). The
 * migration check samples the client with it: a client that keeps the socket of every old path open
 * grows by one socket per migration, which both MIMIQ's unlinkability (old addresses stay bound) and
 * long runs (file descriptors run out) cannot afford.
 */

/** The number of open sockets of `pid`, or undefined when the process is gone (or not on Linux). */
export async function countSockets(pid: number): Promise<number | undefined> {
  let entries: string[];
  try {
    entries = await readdir(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  const links = await Promise.all(entries.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  return links.filter((link) => link.startsWith('socket:')).length;
}

export interface SocketSamples {
  /** How many samples were taken while the process lived. */
  samples: number;
  /** The most sockets seen at once; 0 when no sample was taken. */
  max: number;
  /** Every distinct count in the order first seen (e.g. 1, 2, 3, ... for a leak). */
  seen: number[];
}

export interface SocketSampler {
  /** Stops sampling and returns what was seen. */
  stop(): Promise<SocketSamples>;
}

/** Samples `pid`'s socket count every `everyMs` until stopped (or until the process is gone). */
export function sampleSockets(pid: number, everyMs = 50): SocketSampler {
  const result: SocketSamples = { samples: 0, max: 0, seen: [] };
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      const count = await countSockets(pid);
      if (count === undefined) return;
      result.samples += 1;
      result.max = Math.max(result.max, count);
      if (!result.seen.includes(count)) result.seen.push(count);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, everyMs).unref();
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      return { ...result, seen: [...result.seen] };
    },
  };
}
