import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppContext } from './context.js';
import { defineStage, type StageContext } from '../engine/stage.js';
import { InterruptedError, SmokeTestError, type BuildQuicheError } from '../errors.js';
import { ensureTestCerts, type TestCerts } from '../smoke/certs.js';
import { matchMigrations } from '../smoke/event-lines.js';
import { freeUdpPort } from '../smoke/udp-port.js';
import type { Binary, CompileOutput } from './backend.js';

export interface SmokeInputs {
  binaries: Array<{ name: string; sha256: string }>;
  smoke: AppContext['config']['smoke'];
}

export interface PairResult {
  server: string;
  client: string;
  ok: boolean;
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

async function startServer(ctx: Ctx, binary: Binary, certs: TestCerts): Promise<Server> {
  const port = await freeUdpPort();
  const stopper = new AbortController();
  const lines: string[] = [];
  const running = ctx
    .exec(binary.path, [`--port=${port}`, `--certificate_file=${certs.certificate}`, `--key_file=${certs.key}`, '--generate_dynamic_responses'], {
      signal: AbortSignal.any([ctx.signal, stopper.signal]),
      allowFailure: true,
      captureStdout: false,
      killGraceMs: 2000,
      onLine: (line) => lines.push(line),
    })
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

async function helpText(ctx: Ctx, client: Binary): Promise<string> {
  const result = await ctx.exec(client.path, ['--help'], { allowFailure: true, timeoutMs: 10_000 });
  return `${result.stdout}\n${result.stderr}`;
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

/** The server may take a moment to bind: retry the first fetch briefly. */
async function fetchOnce(ctx: Ctx, client: Binary, args: string[], attempts: number): Promise<string[]> {
  let lines: string[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    lines = [];
    const result = await ctx.exec(client.path, args, {
      allowFailure: true,
      captureStdout: false,
      timeoutMs: ctx.app.config.smoke.timeoutMs,
      onLine: (line) => lines.push(line),
    });
    if (result.exitCode === 0 && lines.some((l) => l.includes('Request succeeded (200).'))) return lines;
    if (attempt < attempts) await sleep(300);
  }
  throw new SmokeTestError(`${client.name} did not get "Request succeeded (200)." from the server.`, {
    hint: 'The built client and server do not talk over loopback; see the stage log for both sides.',
    tail: lines.slice(-20),
  });
}

async function checkMigration(ctx: Ctx, server: Server, client: Binary, help: string): Promise<MigrationResult> {
  const smoke = ctx.app.config.smoke;
  if (!help.includes('migrate_local_addresses')) {
    const skipped = `${client.name} has no --migrate_local_addresses (the MIMIQ migration patch is not in this build)`;
    if (smoke.migration === 'require') throw new SmokeTestError(`Migration check required, but ${skipped}.`, { hint: 'Add patches/0001 to the series, or set smoke.migration to auto.' });
    ctx.report.note(`migration check skipped: ${skipped}`);
    return { checked: false, skipped };
  }
  const migrationFlags = [
    `--migrate_local_addresses=${smoke.addresses.join(',')}`,
    `--migrate_interval_ms=${smoke.migrateIntervalMs}`,
    ...(help.includes('migrate_every_n_requests') ? ['--migrate_every_n_requests=1', `--num_requests=${smoke.addresses.length + 1}`] : []),
  ];
  const url = `https://localhost/${smoke.responseBytes}`;
  const clientLines = await fetchOnce(ctx, client, clientArgs(server.port, help, url, migrationFlags), 1);
  await sleep(200); // let the server flush its last PEER_ lines
  const match = matchMigrations(clientLines, server.lines);
  const result: MigrationResult = {
    checked: true,
    client: client.name,
    migrations: match.clientOk.length,
    matched: match.matched.length,
    failed: match.clientFailed.length,
    // The configured set, not the hosts seen: how many get used depends on timing.
    addresses: smoke.addresses,
  };
  const problems: string[] = [];
  if (match.clientOk.length === 0) problems.push('the client reported no successful MIGRATION');
  if (match.unmatched.length) problems.push(`${match.unmatched.length} client migration(s) have no matching PEER_MIGRATION on the server: ${match.unmatched.map((e) => e.raw).join(' | ')}`);
  if (match.distinctLocalHosts.length < 2) problems.push(`the connection used ${match.distinctLocalHosts.length} local address(es), expected at least 2`);
  if (problems.length) {
    throw new SmokeTestError(`Migration check failed: ${problems.join('; ')}.`, {
      hint: 'See the stage log for the MIGRATION and PEER_MIGRATION lines.',
      data: result,
    });
  }
  ctx.report.note(`migration ok: ${match.matched.length} migration(s) across ${match.distinctLocalHosts.join(', ')}, each seen by the server with the same connection IDs`);
  return result;
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
    const binaries = new Map(ctx.upstream<CompileOutput>('compile').binaries.map((b) => [b.name, b]));
    const certs = await ensureTestCerts(path.join(ctx.app.paths.smoke, 'certs'));
    const pairs = PAIRS.filter((p) => binaries.has(p.server) && binaries.has(p.client));
    if (pairs.length === 0) {
      ctx.report.note('smoke test skipped: no client/server pair among the built targets');
      return { pairs: [], migration: { checked: false, skipped: 'no client/server pair built' }, certsDir: certs.dir };
    }
    const results: PairResult[] = [];
    let migration: MigrationResult | undefined;
    for (const pair of pairs) {
      const client = binaries.get(pair.client)!;
      const server = await startServer(ctx, binaries.get(pair.server)!, certs);
      try {
        const help = await helpText(ctx, client);
        await fetchOnce(ctx, client, clientArgs(server.port, help, 'https://localhost/1024'), 20);
        results.push({ ...pair, ok: true });
        ctx.report.note(`${pair.client} -> ${pair.server}: Request succeeded (200).`);
        migration ??= await checkMigration(ctx, server, client, help);
      } finally {
        await server.stop();
      }
    }
    return { pairs: results, migration: migration!, certsDir: certs.dir };
  },
  describe: (o) =>
    `${o.pairs.filter((p) => p.ok).length} pair(s) ok; migration ${o.migration.checked ? `${o.migration.matched} matched` : 'not checked'}`,
});
