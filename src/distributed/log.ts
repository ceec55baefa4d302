/**
 * Where compiles ran, counted from distcc's client log (DISTCC_LOG, one file for every distcc process
 * of a build; each writes whole lines). The lines that matter, as distcc 3.4 writes them:
 *
 *   distcc[19635] compile t3.cc on 10.91.1.2/1,lzo completed ok      a remote compile
 *   distcc[19635] compile t3.cc on localhost completed ok            compiled here (fallback, or no host)
 *   distcc[19635] ERROR: compile t3.cc on 10.91.1.2/1,lzo failed     that host failed the job
 *   distcc[19635] (dcc_build_somewhere) Warning: remote compilation of 't3.cc' failed, retrying locally
 *   distcc[19635] (dcc_build_somewhere) Warning: failed to distribute, running locally instead
 *
 * `cpp t3.cc on localhost completed ok` is the local preprocessing of a remote compile, not a compile.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';

export interface DistccCounts {
  /** Compiles that finished on each host, by the host's name as written in DISTCC_HOSTS. */
  remote: Record<string, number>;
  /** Compiles that ran here through distcc (fallbacks, or no usable host). */
  local: number;
  /** Jobs a host failed (each was then retried here or failed the build). */
  failed: Record<string, number>;
  /** Jobs distcc moved back here after a host failed or could not be reached. */
  fallbacks: number;
}

export const emptyCounts = (): DistccCounts => ({ remote: {}, local: 0, failed: {}, fallbacks: 0 });

const COMPLETED = /\] compile (.+) on (\S+) completed ok\s*$/;
const FAILED = /ERROR: compile (.+) on (\S+) failed/;
const FALLBACK = /Warning: (remote compilation of .* failed, retrying locally|failed to distribute, running locally instead)/;

/** Adds the log lines in `text` (whole lines) to `counts`, and returns it. */
export function countDistccLines(text: string, counts: DistccCounts = emptyCounts()): DistccCounts {
  for (const line of text.split('\n')) {
    const done = COMPLETED.exec(line);
    if (done) {
      const host = done[2]!;
      if (host === 'localhost') counts.local += 1;
      else counts.remote[host] = (counts.remote[host] ?? 0) + 1;
      continue;
    }
    const failed = FAILED.exec(line);
    if (failed) {
      counts.failed[failed[2]!] = (counts.failed[failed[2]!] ?? 0) + 1;
      continue;
    }
    if (FALLBACK.test(line)) counts.fallbacks += 1;
  }
  return counts;
}

export const remoteTotal = (counts: DistccCounts) => Object.values(counts.remote).reduce((a, b) => a + b, 0);

/** `10.0.0.5/8,lzo` -> `10.0.0.5` (the host, without slots and options), for people to read. */
const shortHost = (spec: string) => spec.replace(/[/,].*$/, '');

/** "remote 350 (10.0.0.5 175, 10.0.0.6 175), here 4" and what failed, for the progress line and the summary. */
export function formatCounts(counts: DistccCounts): string {
  const hosts = Object.entries(counts.remote)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([host, n]) => `${shortHost(host)} ${n}`);
  const failed = Object.entries(counts.failed)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([host, n]) => `${shortHost(host)} ${n}`);
  return [
    `remote ${remoteTotal(counts)}${hosts.length ? ` (${hosts.join(', ')})` : ''}`,
    `here ${counts.local}`,
    ...(failed.length ? [`failed on ${failed.join(', ')}, retried`] : []),
  ].join(', ');
}

/**
 * Follows a DISTCC_LOG while the build writes it: each poll() reads what was appended since the last
 * and returns the counts so far. A partial last line waits for the next poll.
 */
export class DistccLogTail {
  private offset = 0;
  private partial = '';
  readonly counts = emptyCounts();

  constructor(readonly file: string) {}

  poll(): DistccCounts {
    if (!existsSync(this.file)) return this.counts;
    const size = statSync(this.file).size;
    if (size <= this.offset) return this.counts;
    const fd = openSync(this.file, 'r');
    try {
      const buffer = Buffer.alloc(size - this.offset);
      const read = readSync(fd, buffer, 0, buffer.length, this.offset);
      this.offset += read;
      const text = this.partial + buffer.subarray(0, read).toString('utf8');
      const end = text.lastIndexOf('\n');
      this.partial = end < 0 ? text : text.slice(end + 1);
      if (end >= 0) countDistccLines(text.slice(0, end), this.counts);
    } finally {
      closeSync(fd);
    }
    return this.counts;
  }
}
