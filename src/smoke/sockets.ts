import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * Counts a running process's open UDP sockets: the `socket:[inode]` links in /proc/<pid>/fd whose
 * inode is a UDP socket in /proc/<pid>/net/udp{,6} (the process's own network namespace). The
 * migration check samples the client with it: a client that keeps the socket of every old path open
 * grows by one socket per migration, which both MIMIQ's unlinkability (old addresses stay bound) and
 * long runs (file descriptors run out) cannot afford. Only UDP counts: a child's stdio pipes from Node
 * are UNIX socketpairs (3 of them), which would hide a client's real count under a baseline.
 */

/** The inodes of the UDP sockets (IPv4 and IPv6) in `pid`'s network namespace. */
async function udpInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const table of ['udp', 'udp6']) {
    const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
    // Header, then: sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
    for (const line of text.split('\n').slice(1)) {
      const inode = line.trim().split(/\s+/)[9];
      if (inode) inodes.add(inode);
    }
  }
  return inodes;
}

/** The number of open UDP sockets of `pid`, or undefined when the process is gone (or not on Linux). */
export async function countSockets(pid: number): Promise<number | undefined> {
  let entries: string[];
  try {
    entries = await readdir(`/proc/${pid}/fd`);
  } catch {
    return undefined;
  }
  const links = await Promise.all(entries.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')));
  const sockets = links.flatMap((link) => /^socket:\[(\d+)\]$/.exec(link)?.[1] ?? []);
  if (sockets.length === 0) return 0;
  const udp = await udpInodes(pid);
  return sockets.filter((inode) => udp.has(inode)).length;
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
