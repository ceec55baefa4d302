import { setTimeout as sleep } from 'node:timers/promises';
import type { Binary } from '../artifacts/binary.js';
import { InterruptedError, SmokeTestError, type BuildQuicheError } from '../errors.js';
import { startBackground, type Background } from '../process/background.js';
import { exec as plainExec, type Exec } from '../process/exec.js';
import type { LogFile } from '../process/log-file.js';
import { helpText } from './help-text.js';
import type { TimerMigrationMode } from './migration-mode.js';

/**
 * The driver of the toy programs (quic_server/quic_client and their epoll twins), shared by the smoke
 * stage and the migration lab: which client talks to which server, what a client's --help offers,
 * the command lines, a server in the background, a client run, and the line that says it worked.
 */

/** A toy program: its name as Chromium names it, and where it is. */
export type ToyProgram = Pick<Binary, 'name' | 'path'>;

export interface ToyPair {
  server: string;
  client: string;
}

/** Which client talks to which server; the Linux-only epoll pair comes first (preferred for migration). */
export const TOY_PAIRS: readonly ToyPair[] = [
  { server: 'epoll_quic_server', client: 'epoll_quic_client' },
  { server: 'quic_server', client: 'quic_client' },
];

/** The pairs whose server and client are both there, in preference order. */
export const pairsAmong = (has: (name: string) => boolean): ToyPair[] => TOY_PAIRS.filter((p) => has(p.server) && has(p.client));

/** What the client prints for each request the server answered. */
export const REQUEST_OK = 'Request succeeded (200).';

/** How many requests of a client run succeeded. */
export const requestsSucceeded = (lines: readonly string[]): number => lines.filter((l) => l.includes(REQUEST_OK)).length;

/** What a toy client offers, read from its --help (or --helpfull): the one reading both callers use. */
export interface ClientOffers {
  /** --quic_version (pinned to RFCv1) and --quiet (without it the client prints the whole body). */
  quicVersion: boolean;
  quiet: boolean;
  /** --migrate_local_addresses: the MIMIQ migration patch is in. */
  migration: boolean;
  /** --migrate_mode, and whether it offers validate (the fixture programs support only hard). */
  migrateMode: boolean;
  validate: boolean;
  /** --migrate_every_n_requests. */
  everyN: boolean;
}

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

export function clientOffers(help: string): ClientOffers {
  return {
    quicVersion: help.includes('quic_version'),
    quiet: help.includes('quiet'),
    migration: help.includes('migrate_local_addresses'),
    migrateMode: help.includes('--migrate_mode'),
    validate: offersValidateMode(help),
    everyN: help.includes('migrate_every_n_requests'),
  };
}

/** Asks the client what it offers. */
export async function probeClient(client: ToyProgram, exec: Exec = plainExec): Promise<ClientOffers> {
  return clientOffers(await helpText(client.path, exec));
}

/** What a toy server offers: the fixture server paces its responses (--fixture_send_rate_mbps). */
export interface ServerOffers {
  sendRate: boolean;
}

export async function probeServer(server: ToyProgram, exec: Exec = plainExec): Promise<ServerOffers> {
  return { sendRate: (await helpText(server.path, exec)).includes('fixture_send_rate_mbps') };
}

export function serverArgs(o: { port: number; certificate: string; key: string }, extra: string[] = []): string[] {
  return [`--port=${o.port}`, `--certificate_file=${o.certificate}`, `--key_file=${o.key}`, '--generate_dynamic_responses', ...extra];
}

/** A client's command line: one fetch of `url` (https://localhost/<bytes> asks the server for that many bytes). */
export function clientArgs(o: { host: string; port: number; offers: ClientOffers; url: string }, extra: string[] = []): string[] {
  return [
    `--host=${o.host}`,
    `--port=${o.port}`,
    '--disable_certificate_verification',
    ...(o.offers.quicVersion ? ['--quic_version=RFCv1'] : []),
    // Without --quiet the toy client prints the whole body: megabytes into the log.
    ...(o.offers.quiet ? ['--quiet'] : []),
    ...extra,
    o.url,
  ];
}

/** Migrate on a timer: over `addresses` in turn, every `intervalMs`; no --migrate_mode when `mode` is not given. */
export function timerMigrationFlags(addresses: string[], intervalMs: number, mode?: TimerMigrationMode): string[] {
  return [
    `--migrate_local_addresses=${addresses.join(',')}`,
    `--migrate_interval_ms=${intervalMs}`,
    ...(mode ? [`--migrate_mode=${mode}`] : []),
  ];
}

/** Migrate after every request, over `requests` requests on one connection. */
export function everyRequestMigrationFlags(addresses: string[], requests: number): string[] {
  return [`--migrate_local_addresses=${addresses.join(',')}`, '--migrate_every_n_requests=1', `--num_requests=${requests}`];
}

/** How a toy program is run: the exec (a stage's ctx.exec, or plain), its log and abort signal, and a wrapper command. */
export interface RunOptions {
  exec?: Exec;
  log?: LogFile;
  signal?: AbortSignal;
  /** A command the program runs under, e.g. `ip netns exec <ns>`. */
  via?: string[];
}

const commandLine = (program: ToyProgram, args: string[], via: string[] = []): [string, string[]] => {
  const [file, ...rest] = [...via, program.path, ...args];
  return [file!, rest];
};

export interface ToyServer {
  port: number;
  lines: string[];
  /** Stops the server; throws the abort reason when the run was interrupted meanwhile. */
  stop(): Promise<void>;
}

/**
 * Starts a server in the background and waits `settleMs`: one that exited by then failed to start (a
 * Ctrl-C meanwhile is an interruption, not a broken server). `exitedAtStart` makes the error for a
 * server that failed (default: a SmokeTestError pointing at the stage log).
 */
export async function startServer(
  server: ToyProgram,
  o: RunOptions & {
    port: number;
    certificate: string;
    key: string;
    extraArgs?: string[];
    settleMs: number;
    exitedAtStart?: (failed: { name: string; exit: number | string | undefined; lines: string[] }) => BuildQuicheError;
  },
): Promise<ToyServer> {
  const [file, args] = commandLine(server, serverArgs(o, o.extraArgs), o.via);
  const background: Background = startBackground(server.name, file, args, { exec: o.exec, log: o.log, signal: o.signal });
  await sleep(o.settleMs);
  const ended = background.ended();
  if (ended) {
    if (o.signal?.aborted) throw new InterruptedError(`Interrupted while ${server.name} was starting.`, { cause: ended.error });
    const exit = ended.exitCode ?? ended.error?.message;
    throw (
      o.exitedAtStart?.({ name: server.name, exit, lines: background.lines }) ??
      new SmokeTestError(`${server.name} exited at start (${exit}).`, { hint: 'See the stage log for what the server printed.' })
    );
  }
  return {
    port: o.port,
    lines: background.lines,
    stop: async () => {
      await background.stop().catch(() => undefined);
      o.signal?.throwIfAborted();
    },
  };
}

export interface ClientRun {
  lines: string[];
  exitCode: number;
  elapsedMs: number;
}

/** One client run, its output lines collected; a failed run is a result, not an error. */
export async function runClient(
  client: ToyProgram,
  args: string[],
  o: RunOptions & { timeoutMs: number; onLine?: (line: string) => void; onSpawn?: (pid: number) => void },
): Promise<ClientRun> {
  const lines: string[] = [];
  const [file, fileArgs] = commandLine(client, args, o.via);
  const result = await (o.exec ?? plainExec)(file, fileArgs, {
    log: o.log,
    signal: o.signal,
    allowFailure: true,
    captureStdout: false,
    timeoutMs: o.timeoutMs,
    onLine: (line) => {
      lines.push(line);
      o.onLine?.(line);
    },
    onSpawn: o.onSpawn,
  });
  return { lines, exitCode: result.exitCode, elapsedMs: result.durationMs };
}

/**
 * A fetch that must succeed: the server may take a moment to bind, so up to `attempts` runs, 300 ms
 * apart. Returns the lines and time of the run that succeeded.
 */
export async function fetchOnce(
  client: ToyProgram,
  args: string[],
  o: RunOptions & { attempts: number; timeoutMs: number; onSpawn?: (pid: number) => void },
): Promise<{ lines: string[]; elapsedMs: number }> {
  let lines: string[] = [];
  for (let attempt = 1; attempt <= o.attempts; attempt++) {
    const run = await runClient(client, args, o);
    lines = run.lines;
    if (run.exitCode === 0 && requestsSucceeded(lines) > 0) return { lines, elapsedMs: run.elapsedMs };
    if (attempt < o.attempts) await sleep(300);
  }
  throw new SmokeTestError(`${client.name} did not get "${REQUEST_OK}" from the server.`, {
    hint: 'The built client and server do not talk over loopback; see the stage log for both sides.',
    tail: lines.slice(-20),
  });
}
