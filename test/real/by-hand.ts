/**
 * What a user does with an installed artifact: start its epoll_quic_server with the packaged test
 * certs, run its epoll_quic_client against it with migration flags, and compare both sides' lines.
 * Also the process-tree look-up the kill -9 tests use to pick their moment.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { matchMigrations, type MigrationMatch } from '../../src/smoke/event-lines.js';
import { grownResponseBytes, WANTED_TIMER_MIGRATIONS } from '../../src/smoke/response-size.js';
import { freeUdpPort } from '../../src/smoke/udp-port.js';

export interface ByHandRun {
  exitCode: number | null;
  clientOut: string;
  serverLines: string[];
  match: MigrationMatch;
  /** The response size of the run returned (grown until the download lasted long enough to migrate). */
  responseBytes: number;
}

const INTERVAL_MS = 300;

/** One client run against the server on `port`; the server's lines of this run only. */
async function runClient(
  binDir: string,
  port: number,
  extraArgs: string[],
  serverLines: string[],
): Promise<Omit<ByHandRun, 'responseBytes'> & { elapsedMs: number }> {
  const started = performance.now();
  const firstServerLine = serverLines.length;
  const args = [
    '--host=127.0.0.1',
    `--port=${port}`,
    '--disable_certificate_verification',
    '--quic_version=RFCv1',
    '--quiet',
    '--migrate_local_addresses=127.0.0.1,127.0.0.2,127.0.0.3',
    `--migrate_interval_ms=${INTERVAL_MS}`,
    ...extraArgs,
  ];
  const client = spawn(path.join(binDir, 'epoll_quic_client'), args);
  let clientOut = '';
  client.stdout.setEncoding('utf8').on('data', (chunk: string) => (clientOut += chunk));
  client.stderr.resume();
  const exitCode = await new Promise<number | null>((resolve) => client.on('close', resolve));
  const elapsedMs = performance.now() - started;
  await sleep(300); // the server's last PEER_ lines
  const lines = serverLines.slice(firstServerLine);
  return { exitCode, clientOut, serverLines: lines, match: matchMigrations(clientOut.split('\n'), lines), elapsedMs };
}

/**
 * Server and client from `binDir`; the server gets `certs` (an installed artifact's, from
 * serverCertsOf: the standalone server reads a PEM key).
 */
export async function migrateByHand(
  binDir: string,
  certs: { certificate: string; key: string },
  extraClientArgs: string[] = [],
): Promise<ByHandRun> {
  const port = await freeUdpPort();
  const serverLines: string[] = [];
  const server = spawn(path.join(binDir, 'epoll_quic_server'), [
    `--port=${port}`,
    `--certificate_file=${certs.certificate}`,
    `--key_file=${certs.key}`,
    '--generate_dynamic_responses',
  ]);
  server.stdout.setEncoding('utf8').on('data', (chunk: string) => serverLines.push(...chunk.split('\n')));
  try {
    await sleep(500);
    // Grown like the smoke test does: 20 MB end before the first 300 ms interval on an idle machine.
    for (let bytes = 20_000_000; ;) {
      const { elapsedMs, ...run } = await runClient(binDir, port, [...extraClientArgs, `https://localhost/${bytes}`], serverLines);
      const attempted = run.match.clientOk.length + run.match.clientFailed.length;
      const grown =
        run.exitCode === 0
          ? grownResponseBytes({
              bytes,
              elapsedMs,
              startUpMs: 0,
              intervalMs: INTERVAL_MS,
              attempted,
              wanted: WANTED_TIMER_MIGRATIONS,
              maxBytes: 1_000_000_000,
            })
          : undefined;
      if (grown === undefined) return { ...run, responseBytes: bytes };
      bytes = grown;
    }
  } finally {
    server.kill('SIGKILL');
  }
}

/** Command lines of every live descendant of `pid` (build-quiche's subprocesses run in their own groups). */
export function descendants(pid: number): string[] {
  const parent = new Map<number, number>();
  const cmdline = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      cmdline.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim());
    } catch {
      // gone meanwhile
    }
  }
  const isBelow = (p: number): boolean => {
    for (let q = parent.get(p); q !== undefined && q > 1; q = parent.get(q)) if (q === pid) return true;
    return false;
  };
  return [...cmdline.entries()].filter(([p]) => isBelow(p)).map(([, c]) => c);
}
