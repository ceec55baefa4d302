import { setTimeout as sleep } from 'node:timers/promises';
import type { ResolvedConfig } from '../config/load.js';
import { SmokeTestError } from '../errors.js';
import type { Exec } from '../process/exec.js';
import { matchMigrations, type MigrationMatch } from './event-lines.js';
import type { MigrationMode, TimerMigrationMode } from './migration-mode.js';
import {
  firstResponseBytes,
  grownResponseBytes,
  nextProbeBytes,
  PROBE_FIRST_BYTES,
  WANTED_TIMER_MIGRATIONS,
  type Throughput,
} from './response-size.js';
import { sampleSockets, type SocketSampler, type SocketSamples } from './sockets.js';
import {
  clientArgs,
  everyRequestMigrationFlags,
  fetchOnce,
  requestsSucceeded,
  timerMigrationFlags,
  type ClientOffers,
  type ToyProgram,
  type ToyServer,
} from './toy-programs.js';

/**
 * The migration check of the smoke test (docs/smoke.md): a live connection between a built client
 * and server on loopback migrates across `smoke.addresses` in each mode the client offers, and the
 * two sides must tell the same, complete story.
 */

export type SmokeConfig = ResolvedConfig['smoke'];

/** What the check runs with: an exec (the stage's), where its notes go, and the smoke options. */
export interface MigrationCheckContext {
  exec: Exec;
  note: (message: string) => void;
  smoke: SmokeConfig;
}

export interface ModeResult {
  mode: MigrationMode;
  migrations: number;
  matched: number;
  failed: number;
  /** Local hosts the connection used in this run. */
  hosts: string[];
  /** The most UDP/TCP sockets the client held at once (sampled from /proc/<pid>/fd). */
  maxSockets: number;
  socketSamples: number;
  /** Server PEER_PATH_REVERTED lines, and those that undid a move the client reported as ok. */
  reverted: number;
  revertedClientOk: number;
  /** Server PEER_MIGRATION lines repeating an already matched pair (not counted twice). */
  repeatedOnServer: number;
  /** The response size of the run reported, the client runs it took to get there, and how long it ran. */
  responseBytes: number;
  tries: number;
  elapsedMs: number;
}

export interface MigrationResult {
  checked: boolean;
  /** Why it was not checked (e.g. the client has no migration flags). */
  skipped?: string;
  client?: string;
  migrations?: number;
  matched?: number;
  failed?: number;
  addresses?: string[];
  /** One entry per mode run, in order. */
  modes?: ModeResult[];
  /** Modes not run, and why (e.g. the client's --help does not offer validate). */
  modesSkipped?: Partial<Record<MigrationMode, string>>;
}

/**
 * The most UDP sockets a migrating client may hold at once: the current path's, a probed new path's
 * while it is validated, and one for a sample that reads the fd table while the client swaps sockets
 * (the fds are read one by one). More means old paths stay open, one more per migration.
 */
export const MAX_CLIENT_SOCKETS = 3;

interface MigrationRun {
  mode: MigrationMode;
  flags: string[];
  requests: number;
}
type ModeResultSkips = NonNullable<MigrationResult['modesSkipped']>;

/** The runs the migration check makes, with the client flags of each (hard timer, validate timer, every-N). */
function migrationRuns(smoke: SmokeConfig, offers: ClientOffers): { runs: MigrationRun[]; skipped: ModeResultSkips } {
  const timer = (mode?: TimerMigrationMode) => timerMigrationFlags(smoke.addresses, smoke.migrateIntervalMs, mode);
  const runs: MigrationRun[] = [{ mode: 'hard', flags: timer(offers.migrateMode ? 'hard' : undefined), requests: 1 }];
  const skipped: ModeResultSkips = {};
  if (offers.validate) runs.push({ mode: 'validate', flags: timer('validate'), requests: 1 });
  else skipped.validate = "the client's --help does not offer --migrate_mode=validate";
  if (offers.everyN) {
    const requests = smoke.addresses.length + 1;
    runs.push({ mode: 'every-n', flags: everyRequestMigrationFlags(smoke.addresses, requests), requests });
  } else skipped['every-n'] = 'the client has no --migrate_every_n_requests';
  return { runs, skipped };
}

/** What is wrong with one migration run; empty when the two sides tell the same, complete story. */
export function migrationProblems(match: MigrationMatch, sockets: SocketSamples, requests: number, successes: number): string[] {
  const problems: string[] = [];
  const raw = (events: Array<{ raw: string }>) => events.map((e) => e.raw).join(' | ');
  if (successes < requests) problems.push(`the transfer did not complete: ${successes} of ${requests} request(s) succeeded`);
  if (match.clientOk.length === 0) problems.push('the client reported no successful MIGRATION');
  if (match.clientFailed.length)
    problems.push(`${match.clientFailed.length} MIGRATION line(s) without result=ok: ${raw(match.clientFailed)}`);
  if (match.clientDisabled.length) problems.push(`the client stopped migrating: ${raw(match.clientDisabled)}`);
  if (match.unmatched.length)
    problems.push(`${match.unmatched.length} client migration(s) have no matching PEER_MIGRATION on the server: ${raw(match.unmatched)}`);
  if (match.duplicateClientPairs.length)
    problems.push(
      `${match.duplicateClientPairs.length} client migration(s) reuse a server_cid pair already matched: ${raw(match.duplicateClientPairs)}`,
    );
  if (match.revertedClientOk.length) {
    problems.push(
      `the server reverted ${match.revertedClientOk.length} migration(s) the client reported as ok (PEER_PATH_REVERTED${match.repeatedOnServer.length ? `, then the same PEER_MIGRATION again ${match.repeatedOnServer.length} time(s)` : ''}): ${raw(match.revertedClientOk.map((r) => r.revert))}`,
    );
  }
  if (match.distinctLocalHosts.length < 2)
    problems.push(`the connection used ${match.distinctLocalHosts.length} local address(es), expected at least 2`);
  if (sockets.max > MAX_CLIENT_SOCKETS) {
    problems.push(
      `the client held up to ${sockets.max} sockets (counts seen: ${sockets.seen.join(', ')}), more than ${MAX_CLIENT_SOCKETS}: old paths are not closed after migrating`,
    );
  }
  return problems;
}

/** One client run of a migration mode: what both sides printed, the client's sockets, and how long it ran. */
async function runMigratingClient(
  check: MigrationCheckContext,
  server: ToyServer,
  client: ToyProgram,
  offers: ClientOffers,
  run: { flags: string[] },
  url: string,
): Promise<{ match: MigrationMatch; sockets: SocketSamples; successes: number; elapsedMs: number }> {
  const firstServerLine = server.lines.length;
  let sampler: SocketSampler | undefined;
  let fetched: { lines: string[]; elapsedMs: number };
  let sockets: SocketSamples = { samples: 0, max: 0, seen: [] };
  try {
    fetched = await fetchOnce(client, clientArgs({ host: '127.0.0.1', port: server.port, offers, url }, run.flags), {
      exec: check.exec,
      attempts: 1,
      timeoutMs: check.smoke.timeoutMs,
      onSpawn: (pid) => (sampler = sampleSockets(pid)),
    });
  } finally {
    sockets = (await sampler?.stop()) ?? sockets;
  }
  const { lines: clientLines, elapsedMs } = fetched;
  await sleep(200); // let the server flush its last PEER_ lines
  const match = matchMigrations(clientLines, server.lines.slice(firstServerLine));
  return { match, sockets, successes: requestsSucceeded(clientLines), elapsedMs };
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

/**
 * One migration mode: its numbers, and what is wrong with it (empty when nothing). A timed run whose
 * download ended before WANTED_TIMER_MIGRATIONS migrations, with nothing else wrong, is tried again
 * with a larger response: a fast machine finishes a fixed size before the first interval.
 */
async function runMode(
  check: MigrationCheckContext,
  server: ToyServer,
  client: ToyProgram,
  offers: ClientOffers,
  run: MigrationRun,
  startUpMs: number,
  /** The first download of a timed run (smoke.responseBytes, or sized from the probe). */
  timedBytes: number,
): Promise<{ result: ModeResult; problems: string[] }> {
  const smoke = check.smoke;
  let bytes = run.mode === 'every-n' ? Math.min(timedBytes, 1_000_000) : Math.min(timedBytes, smoke.maxResponseBytes);
  let tries = 0;
  for (;;) {
    tries++;
    const { match, sockets, successes, elapsedMs } = await runMigratingClient(
      check,
      server,
      client,
      offers,
      run,
      `https://localhost/${bytes}`,
    );
    const problems = migrationProblems(match, sockets, run.requests, successes);
    const attempted = match.clientOk.length + match.clientFailed.length;
    // Too short, and nothing else wrong: the transfer completed, the client did not give up on
    // migrating, its sockets stayed bounded (grownResponseBytes checks that it attempted too few).
    const onlyTooShort = successes === run.requests && match.clientDisabled.length === 0 && sockets.max <= MAX_CLIENT_SOCKETS;
    const grown =
      run.mode !== 'every-n' && onlyTooShort
        ? grownResponseBytes({
            bytes,
            elapsedMs,
            startUpMs,
            intervalMs: smoke.migrateIntervalMs,
            attempted,
            wanted: WANTED_TIMER_MIGRATIONS,
            maxBytes: smoke.maxResponseBytes,
          })
        : undefined;
    if (grown !== undefined) {
      check.note(
        `migration ${run.mode}: the ${mb(bytes)} download ended after ${Math.round(elapsedMs)} ms with ${attempted} migration(s); trying again with ${mb(grown)}`,
      );
      bytes = grown;
      continue;
    }
    const result: ModeResult = {
      mode: run.mode,
      migrations: match.clientOk.length,
      matched: match.matched.length,
      failed: match.clientFailed.length,
      hosts: match.distinctLocalHosts,
      maxSockets: sockets.max,
      socketSamples: sockets.samples,
      reverted: match.reverted.length,
      revertedClientOk: match.revertedClientOk.length,
      repeatedOnServer: match.repeatedOnServer.length,
      responseBytes: bytes,
      tries,
      elapsedMs: Math.round(elapsedMs),
    };
    check.note(
      `migration ${run.mode}: ${result.matched} of ${result.migrations} migration(s) matched across ${result.hosts.join(', ')} in ${result.elapsedMs} ms (${mb(bytes)}); client sockets max ${result.maxSockets} (${result.socketSamples} samples); server reverts ${result.reverted}${problems.length ? `; FAILED: ${problems.join('; ')}` : ''}`,
    );
    return { result, problems };
  }
}

/**
 * The loopback throughput, for sizing the first try of the timed runs: plain downloads (no migration),
 * 1 MB then 8x larger, until one transfer beyond start-up lasts long enough to measure.
 */
async function measureThroughput(
  check: MigrationCheckContext,
  server: ToyServer,
  client: ToyProgram,
  offers: ClientOffers,
  startUpMs: number,
): Promise<Throughput> {
  let bytes = PROBE_FIRST_BYTES;
  for (;;) {
    const url = `https://localhost/${bytes}`;
    const { elapsedMs } = await fetchOnce(client, clientArgs({ host: '127.0.0.1', port: server.port, offers, url }), {
      exec: check.exec,
      attempts: 1,
      timeoutMs: check.smoke.timeoutMs,
    });
    const measured = { bytes, transferMs: elapsedMs - startUpMs };
    const next = nextProbeBytes(measured);
    if (next === undefined) return measured;
    bytes = next;
  }
}

/** The first download of each timed run: smoke.responseBytes, or ('auto') sized from a throughput probe. */
async function timedResponseBytes(
  check: MigrationCheckContext,
  server: ToyServer,
  client: ToyProgram,
  offers: ClientOffers,
  startUpMs: number,
): Promise<number> {
  const smoke = check.smoke;
  if (smoke.responseBytes !== 'auto') return smoke.responseBytes;
  const throughput = await measureThroughput(check, server, client, offers, startUpMs);
  const bytes = firstResponseBytes({
    throughput,
    intervalMs: smoke.migrateIntervalMs,
    wanted: WANTED_TIMER_MIGRATIONS,
    maxBytes: smoke.maxResponseBytes,
  });
  const rate = throughput.bytes / Math.max(throughput.transferMs, 1) / 1000;
  check.note(
    `migration: loopback throughput ${rate.toFixed(0)} MB/s (${mb(throughput.bytes)} in ${Math.round(throughput.transferMs)} ms beyond start-up); timed runs download ${mb(bytes)} to last ${WANTED_TIMER_MIGRATIONS + 1} intervals of ${smoke.migrateIntervalMs} ms with a 1.5x margin`,
  );
  return bytes;
}

/**
 * Migrates a live connection between `client` and `server` in each mode the client offers and judges
 * every run; throws a SmokeTestError naming every defect. `startUpMs`: how long the client took to
 * fetch 1 KB (start-up and handshake), to size the timed runs' downloads from a measured throughput.
 */
export async function checkMigration(
  check: MigrationCheckContext,
  server: ToyServer,
  client: ToyProgram,
  offers: ClientOffers,
  startUpMs: number,
): Promise<MigrationResult> {
  const smoke = check.smoke;
  if (!offers.migration) {
    const skipped = `${client.name} has no --migrate_local_addresses (the MIMIQ migration patch is not in this build)`;
    if (smoke.migration === 'require')
      throw new SmokeTestError(`Migration check required, but ${skipped}.`, {
        hint: 'Add patches/0001 to the series, or set smoke.migration to auto.',
      });
    check.note(`migration check skipped: ${skipped}`);
    return { checked: false, skipped };
  }
  const { runs, skipped } = migrationRuns(smoke, offers);
  for (const [mode, why] of Object.entries(skipped)) check.note(`migration ${mode} mode skipped: ${why}`);
  const modes: ModeResult[] = [];
  const problems: string[] = [];
  const timed = runs.some((run) => run.mode !== 'every-n');
  const timedBytes = timed ? await timedResponseBytes(check, server, client, offers, startUpMs) : 1_000_000;
  // Every mode runs even after one fails, so one report shows every defect.
  for (const run of runs) {
    const outcome = await runMode(check, server, client, offers, run, startUpMs, timedBytes).catch((error: unknown) => {
      if (!(error instanceof SmokeTestError)) throw error;
      return { result: undefined, problems: [error.message] };
    });
    if (outcome.result) modes.push(outcome.result);
    problems.push(...outcome.problems.map((p) => `${run.mode} mode: ${p}`));
  }
  if (problems.length) {
    throw new SmokeTestError(`Migration check failed: ${problems.join('; ')}.`, {
      hint: 'See the stage log for the MIGRATION and PEER_ lines of both sides.',
      data: { modes },
    });
  }
  const sum = (key: 'migrations' | 'matched' | 'failed') => modes.reduce((n, m) => n + m[key], 0);
  const hosts = [...new Set(modes.flatMap((m) => m.hosts))].sort();
  check.note(
    `migration ok: ${sum('matched')} migration(s) across ${hosts.join(', ')} in ${modes.map((m) => m.mode).join(', ')} mode(s), each seen by the server with the same connection IDs`,
  );
  return {
    checked: true,
    client: client.name,
    migrations: sum('migrations'),
    matched: sum('matched'),
    failed: sum('failed'),
    // The configured set, not the hosts seen: how many get used depends on timing.
    addresses: smoke.addresses,
    modes,
    modesSkipped: skipped,
  };
}
