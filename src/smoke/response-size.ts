/**
 * How big a download must be for a timer-driven migration run to migrate at all. On loopback the real
 * client fetches tens of megabytes in a fraction of a second when the machine is idle (20 MB took
 * 0.35 s), so a fixed size that lasts several intervals on a busy machine ends before the first
 * migration on an idle one. A run that ended too early is tried again with a larger response, sized
 * from the throughput it just saw.
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
  const neededMs = (run.wanted + 1) * run.intervalMs * 1.5;
  const transferMs = Math.max(run.elapsedMs - run.startUpMs, run.elapsedMs * 0.1, 1);
  const wantedBytes = Math.ceil((run.bytes / transferMs) * neededMs);
  const next = Math.min(Math.max(run.bytes * 2, wantedBytes), run.bytes * 16);
  return Math.min(next, run.maxBytes);
}
