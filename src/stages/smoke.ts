import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppContext } from './context.js';
import { defineStage, type StageContext } from '../engine/stage.js';
import { InterruptedError, SmokeTestError, type BuildQuicheError } from '../errors.js';
import { ensureTestCerts, type TestCerts } from '../smoke/certs.js';
import { matchMigrations, type MigrationMatch } from '../smoke/event-lines.js';
import { helpText } from '../smoke/help-text.js';
import { grownResponseBytes, WANTED_TIMER_MIGRATIONS } from '../smoke/response-size.js';
import { sampleSockets, type SocketSampler, type SocketSamples } from '../smoke/sockets.js';
import { freeUdpPort } from '../smoke/udp-port.js';
import type { Binary, CompileOutput } from '../artifacts/binary.js';

export interface SmokeInputs {
  binaries: Array<{ name: string; sha256: string }>;
  smoke: AppContext['config']['smoke'];
}

export interface PairResult {
  server: string;
  client: string;
  ok: boolean;
}

/** How a migration run moves the connection: on a timer (hard or validated switch) or after requests. */
export type MigrationMode = 'hard' | 'validate' | 'every-n';

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

export interface SmokeOutput {
  pairs: PairResult[];
  migration: MigrationResult;
  certsDir: string;
}

type Ctx = StageContext<AppContext>;

/** Which client talks to which server; the Linux-only epoll pair is preferred for migration. */
const PAIRS = [
  { server: 'epoll_quic_server', client: 'epoll_quic_client' },
  { server: 'quic_server', client: 'quic_client' },
];

interface Server {
  port: number;
  lines: string[];
  stop(): Promise<void>;
}

async function startServer(ctx: Ctx, binary: Binary, certs: TestCerts, keyFile: string): Promise<Server> {
  const port = await freeUdpPort();
  const stopper = new AbortController();
  const lines: string[] = [];
  const running = ctx
    .exec(
      binary.path,
      [`--port=${port}`, `--certificate_file=${certs.certificate}`, `--key_file=${keyFile}`, '--generate_dynamic_responses'],
      {
        signal: AbortSignal.any([ctx.signal, stopper.signal]),
        allowFailure: true,
        captureStdout: false,
        killGraceMs: 2000,
        onLine: (line) => lines.push(line),
      },
    )
    .then(
      (result) => ({ exited: result.exitCode }),
      (error: BuildQuicheError) => ({ error }),
    );
  let exited: { exited?: number; error?: BuildQuicheError } | undefined;
  void running.then((r) => (exited = r));
  await sleep(100);
  if (exited) {
    // Ctrl-C while the server starts is an interruption, not a broken server.
    if (ctx.signal.aborted) throw new InterruptedError(`Interrupted while ${binary.name} was starting.`, { cause: exited.error });
    throw new SmokeTestError(`${binary.name} exited at start (${exited.exited ?? exited.error?.message}).`, {
      hint: 'See the stage log for what the server printed.',
    });
  }
  return {
    port,
    lines,
    stop: async () => {
      stopper.abort();
      await running;
      ctx.signal.throwIfAborted();
    },
  };
}

function clientArgs(port: number, help: string, url: string, extra: string[] = []): string[] {
  return [
    '--host=127.0.0.1',
    `--port=${port}`,
    '--disable_certificate_verification',
    ...(help.includes('quic_version') ? ['--quic_version=RFCv1'] : []),
    // Without --quiet the toy client prints the whole body: megabytes into the log.
    ...(help.includes('quiet') ? ['--quiet'] : []),
    ...extra,
    url,
  ];
}

/** The server may take a moment to bind: retry the first fetch briefly. Returns the lines and time of the run that succeeded. */
async function fetchOnce(
  ctx: Ctx,
  client: Binary,
  args: string[],
  attempts: number,
  onSpawn?: (pid: number) => void,
): Promise<{ lines: string[]; elapsedMs: number }> {
  let lines: string[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    lines = [];
    const result = await ctx.exec(client.path, args, {
      allowFailure: true,
      captureStdout: false,
      timeoutMs: ctx.app.config.smoke.timeoutMs,
      onLine: (line) => lines.push(line),
      onSpawn,
    });
    if (result.exitCode === 0 && lines.some((l) => l.includes('Request succeeded (200).'))) return { lines, elapsedMs: result.durationMs };
    if (attempt < attempts) await sleep(300);
  }
  throw new SmokeTestError(`${client.name} did not get "Request succeeded (200)." from the server.`, {
    hint: 'The built client and server do not talk over loopback; see the stage log for both sides.',
    tail: lines.slice(-20),
  });
}

/**
 * The most UDP sockets a migrating client may hold at once: the current path's, a probed new path's
 * while it is validated, and one for a sample that reads the fd table while the client swaps sockets
 * (the fds are read one by one). More means old paths stay open, one more per migration.
 */
export const MAX_CLIENT_SOCKETS = 3;

/** The help text of one flag (quiche's --help wraps descriptions over lines). */
function flagHelp(help: string, flag: string): string | undefined {
  const flat = help.replace(/\s+/g, ' ');
  const at = flat.indexOf(flag);
  if (at < 0) return undefined;
  const next = flat.indexOf(' --', at + flag.length);
  return flat.slice(at, next < 0 ? undefined : next);
}

/** Whether the client offers --migrate_mode=validate (the fixture programs support only hard). */
export function offersValidateMode(help: string): boolean {
  const text = flagHelp(help, '--migrate_mode');
  return !!text && /validate/.test(text) && !/validate[^.;]*not supported|not supported[^.;]*validate/i.test(text);
}

/** The runs the migration check makes, with the client flags of each (hard timer, validate timer, every-N). */
function migrationRuns(
  smoke: AppContext['config']['smoke'],
  help: string,
): { runs: Array<{ mode: MigrationMode; flags: string[]; requests: number }>; skipped: ModeResultSkips } {
  const addresses = `--migrate_local_addresses=${smoke.addresses.join(',')}`;
  const timer = [addresses, `--migrate_interval_ms=${smoke.migrateIntervalMs}`];
  const hasModeFlag = help.includes('--migrate_mode');
  const runs: Array<{ mode: MigrationMode; flags: string[]; requests: number }> = [
    { mode: 'hard', flags: [...timer, ...(hasModeFlag ? ['--migrate_mode=hard'] : [])], requests: 1 },
  ];
  const skipped: ModeResultSkips = {};
  if (offersValidateMode(help)) runs.push({ mode: 'validate', flags: [...timer, '--migrate_mode=validate'], requests: 1 });
  else skipped.validate = "the client's --help does not offer --migrate_mode=validate";
  if (help.includes('migrate_every_n_requests')) {
    const requests = smoke.addresses.length + 1;
    runs.push({ mode: 'every-n', flags: [addresses, '--migrate_every_n_requests=1', `--num_requests=${requests}`], requests });
  } else skipped['every-n'] = 'the client has no --migrate_every_n_requests';
  return { runs, skipped };
}
type ModeResultSkips = NonNullable<MigrationResult['modesSkipped']>;

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
async function runClient(
  ctx: Ctx,
  server: Server,
  client: Binary,
  help: string,
  run: { flags: string[] },
  url: string,
): Promise<{ match: MigrationMatch; sockets: SocketSamples; successes: number; elapsedMs: number }> {
  const firstServerLine = server.lines.length;
  let sampler: SocketSampler | undefined;
  let fetched: { lines: string[]; elapsedMs: number };
  let sockets: SocketSamples = { samples: 0, max: 0, seen: [] };
  try {
    fetched = await fetchOnce(ctx, client, clientArgs(server.port, help, url, run.flags), 1, (pid) => (sampler = sampleSockets(pid)));
  } finally {
    sockets = (await sampler?.stop()) ?? sockets;
  }
  const { lines: clientLines, elapsedMs } = fetched;
  await sleep(200); // let the server flush its last PEER_ lines
  const match = matchMigrations(clientLines, server.lines.slice(firstServerLine));
  const successes = clientLines.filter((l) => l.includes('Request succeeded (200).')).length;
  return { match, sockets, successes, elapsedMs };
}

/**
 * One migration mode: its numbers, and what is wrong with it (empty when nothing). A timed run whose
 * download ended before WANTED_TIMER_MIGRATIONS migrations, with nothing else wrong, is tried again
 * with a larger response: a fast machine finishes a fixed size before the first interval.
 */
async function runMode(
  ctx: Ctx,
  server: Server,
  client: Binary,
  help: string,
  run: { mode: MigrationMode; flags: string[]; requests: number },
  startUpMs: number,
): Promise<{ result: ModeResult; problems: string[] }> {
  const smoke = ctx.app.config.smoke;
  let bytes = run.mode === 'every-n' ? Math.min(smoke.responseBytes, 1_000_000) : Math.min(smoke.responseBytes, smoke.maxResponseBytes);
  let tries = 0;
  for (;;) {
    tries++;
    const { match, sockets, successes, elapsedMs } = await runClient(ctx, server, client, help, run, `https://localhost/${bytes}`);
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
      ctx.report.note(
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
    ctx.report.note(
      `migration ${run.mode}: ${result.matched} of ${result.migrations} migration(s) matched across ${result.hosts.join(', ')} in ${result.elapsedMs} ms (${mb(bytes)}); client sockets max ${result.maxSockets} (${result.socketSamples} samples); server reverts ${result.reverted}${problems.length ? `; FAILED: ${problems.join('; ')}` : ''}`,
    );
    return { result, problems };
  }
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

/** `startUpMs`: how long the client took to fetch 1 KB (start-up and handshake), to size retried downloads. */
async function checkMigration(ctx: Ctx, server: Server, client: Binary, help: string, startUpMs: number): Promise<MigrationResult> {
  const smoke = ctx.app.config.smoke;
  if (!help.includes('migrate_local_addresses')) {
    const skipped = `${client.name} has no --migrate_local_addresses (the MIMIQ migration patch is not in this build)`;
    if (smoke.migration === 'require')
      throw new SmokeTestError(`Migration check required, but ${skipped}.`, {
        hint: 'Add patches/0001 to the series, or set smoke.migration to auto.',
      });
    ctx.report.note(`migration check skipped: ${skipped}`);
    return { checked: false, skipped };
  }
  const { runs, skipped } = migrationRuns(smoke, help);
  for (const [mode, why] of Object.entries(skipped)) ctx.report.note(`migration ${mode} mode skipped: ${why}`);
  const modes: ModeResult[] = [];
  const problems: string[] = [];
  // Every mode runs even after one fails, so one report shows every defect.
  for (const run of runs) {
    const outcome = await runMode(ctx, server, client, help, run, startUpMs).catch((error: unknown) => {
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
  ctx.report.note(
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

/**
 * Before packaging, prove the binaries work: each built server on loopback answers its client; and
 * when the MIMIQ patches are in, a live connection migrates across 127.0.0.x and the server sees
 * every move with the same connection IDs.
 */
export const smokeStage = defineStage<AppContext, SmokeInputs, SmokeOutput>({
  id: 'smoke',
  title: 'Smoke test on loopback',
  after: ['compile'],
  enabled: (ctx) => (ctx.app.config.smoke.enabled ? true : 'smoke.enabled is false'),
  inputs: ({ app, upstream }) => ({
    binaries: upstream<CompileOutput>('compile').binaries.map((b) => ({ name: b.name, sha256: b.sha256 })),
    smoke: app.config.smoke,
  }),
  async run(ctx) {
    const compile = ctx.upstream<CompileOutput>('compile');
    const binaries = new Map(compile.binaries.map((b) => [b.name, b]));
    const certs = await ensureTestCerts(path.join(ctx.app.paths.smoke, 'certs'));
    const keyFile = compile.serverKeyFormat === 'pem' ? certs.keyPem : certs.key;
    const pairs = PAIRS.filter((p) => binaries.has(p.server) && binaries.has(p.client));
    if (pairs.length === 0) {
      ctx.report.note('smoke test skipped: no client/server pair among the built targets');
      return { pairs: [], migration: { checked: false, skipped: 'no client/server pair built' }, certsDir: certs.dir };
    }
    const results: PairResult[] = [];
    let migration: MigrationResult | undefined;
    for (const pair of pairs) {
      const client = binaries.get(pair.client)!;
      const server = await startServer(ctx, binaries.get(pair.server)!, certs, keyFile);
      try {
        const help = await helpText(client.path, ctx.exec);
        const small = await fetchOnce(ctx, client, clientArgs(server.port, help, 'https://localhost/1024'), 20);
        results.push({ ...pair, ok: true });
        ctx.report.note(`${pair.client} -> ${pair.server}: Request succeeded (200).`);
        migration ??= await checkMigration(ctx, server, client, help, small.elapsedMs);
      } finally {
        await server.stop();
      }
    }
    return { pairs: results, migration: migration!, certsDir: certs.dir };
  },
  describe: (o) =>
    `${o.pairs.filter((p) => p.ok).length} pair(s) ok; migration ${o.migration.checked ? `${o.migration.matched} matched` : 'not checked'}`,
});
