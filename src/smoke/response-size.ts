/**
 * How big a download must be for a timer-driven migration run to migrate at all. On loopback the real
 * client fetches tens of megabytes in a fraction of a second when the machine is idle (20 MB took
 * 0.27-0.35 s), so a fixed size that lasts several intervals on a busy machine ends before the first
 * migration on an idle one. So the first try is sized from a throughput probe (smoke.responseBytes
 * 'auto'): plain downloads, 8x larger each, until one transfer is long enough to measure. A run that
 * still ended too early (the machine got slower, or a fixed size was configured) is tried again with
 * a larger response, sized from the throughput it just saw.
 */

/** Migrations a timer run must attempt before its download ends: the verdict needs one (two local addresses). */
export const WANTED_TIMER_MIGRATIONS = 1;

export interface ShortRun {
  /** The response size of the run that ended too early. */
  bytes: number;
  /** How long the client ran, and how long a run with a tiny response takes (start-up and handshake). */
  elapsedMs: number;
  startUpMs: number;
  /** --migrate_interval_ms of the run. */
  intervalMs: number;
  /** Migrations it attempted, and how many were wanted. */
  attempted: number;
  wanted: number;
  /** The largest response to try (the toy client keeps the whole body in memory). */
  maxBytes: number;
}

/** The transfer time a timed run is sized for: the wanted intervals and one more, with a 1.5x margin. */
const targetMs = (wanted: number, intervalMs: number) => (wanted + 1) * intervalMs * 1.5;

/** Slack beyond start-up and the wanted intervals: a run longer than that had time to migrate. */
const SLACK_MS = 500;

/**
 * The size for the next try: enough for `wanted + 1` intervals at the throughput seen (time beyond
 * start-up), with a 1.5x margin, between 2x and 16x the last size (the time is noisy when the last
 * download was tiny); capped at maxBytes. Undefined when enough migrations were attempted,
 * when the run lasted long enough to migrate and did not (a larger download would not change that),
 * or when the cap was already tried: then this run is the verdict.
 */
export function grownResponseBytes(run: ShortRun): number | undefined {
  if (run.attempted >= run.wanted || run.bytes >= run.maxBytes) return undefined;
  if (run.elapsedMs > run.startUpMs + run.wanted * run.intervalMs + SLACK_MS) return undefined;
  const neededMs = targetMs(run.wanted, run.intervalMs);
  const transferMs = Math.max(run.elapsedMs - run.startUpMs, run.elapsedMs * 0.1, 1);
  const wantedBytes = Math.ceil((run.bytes / transferMs) * neededMs);
  const next = Math.min(Math.max(run.bytes * 2, wantedBytes), run.bytes * 16);
  return Math.min(next, run.maxBytes);
}

/** A download's size and how long its transfer took beyond start-up (the 1 KB fetch's time). */
export interface Throughput {
  bytes: number;
  transferMs: number;
}

/** The first download of the throughput probe, and its largest. */
export const PROBE_FIRST_BYTES = 1_000_000;
const PROBE_MAX_BYTES = 64_000_000;
/** A probe transfer shorter than this is mostly noise (start-up varies by a few ms): probe again, larger. */
const PROBE_MIN_MS = 50;

/** The next, 8x larger, probe download when the last one was too short to measure; undefined when it will do. */
export function nextProbeBytes(last: Throughput): number | undefined {
  if (last.transferMs >= PROBE_MIN_MS || last.bytes >= PROBE_MAX_BYTES) return undefined;
  return Math.min(last.bytes * 8, PROBE_MAX_BYTES);
}

/** The smallest first try: below this the time of a download says more about start-up than the link. */
const MIN_FIRST_BYTES = 1_000_000;

/**
 * The size of a timed run's first download from the throughput probe: long enough for the wanted
 * migrations with the same margin a retry gets (grownResponseBytes), so on a machine as fast as when
 * it was measured the first try counts; between 1 MB and maxBytes.
 */
export function firstResponseBytes(o: { throughput: Throughput; intervalMs: number; wanted: number; maxBytes: number }): number {
  const rate = o.throughput.bytes / Math.max(o.throughput.transferMs, 1);
  const wanted = Math.ceil(rate * targetMs(o.wanted, o.intervalMs));
  return Math.min(Math.max(wanted, MIN_FIRST_BYTES), o.maxBytes);
}
