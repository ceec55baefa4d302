/**
 * Runs the smoke test's own driver (src/smoke/) on binaries outside a pipeline (BQ_REAL_BIN_DIR, or an
 * installed artifact), as the smoke stage runs it on the epoll pair: the same server start, fetch,
 * migration modes, CID matching and socket counts.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { exec as plainExec, type Exec } from '../../src/process/exec.js';
import { LogFile } from '../../src/process/log-file.js';
import { ensureTestCerts } from '../../src/smoke/certs.js';
import { checkMigration, type MigrationResult } from '../../src/smoke/migration-check.js';
import { clientArgs, fetchOnce, probeClient, REQUEST_OK, startServer } from '../../src/smoke/toy-programs.js';
import { freeUdpPort } from '../../src/smoke/udp-port.js';

export const BINARY_NAMES = ['epoll_quic_client', 'epoll_quic_server'] as const;

export const hasBinaries = (dir: string | undefined): dir is string =>
  !!dir && BINARY_NAMES.every((name) => existsSync(path.join(dir, name)));

export interface SmokeRun {
  migration?: MigrationResult;
  error?: unknown;
  notes: string[];
  logPath: string;
}

/** The fetch and the migration check on these binaries, with `smoke` config overrides; never throws. */
export async function runSmoke(binDir: string, workDir: string, smoke: Record<string, unknown> = {}): Promise<SmokeRun> {
  const config = await loadConfig({
    inline: { cacheDir: path.join(workDir, 'cache'), distDir: path.join(workDir, 'dist'), smoke },
    cwd: workDir,
    env: {},
  });
  const logPath = path.join(workDir, 'smoke.log');
  const log = new LogFile(logPath);
  const notes: string[] = [];
  const note = (message: string) => {
    log.write(`NOTE: ${message}`);
    notes.push(message);
  };
  const exec: Exec = (file, args, options = {}) => plainExec(file, args, { ...options, log: options.log ?? log });
  const [client, server] = BINARY_NAMES.map((name) => ({ name, path: path.join(binDir, name) }));
  try {
    const certs = await ensureTestCerts(path.join(workDir, 'certs'));
    const port = await freeUdpPort();
    // Real binaries here come from the standalone quiche build, whose server reads a PEM key.
    const running = await startServer(server!, {
      exec,
      signal: new AbortController().signal,
      port,
      certificate: certs.certificate,
      key: certs.keyPem,
      settleMs: 100,
    });
    try {
      const offers = await probeClient(client!, exec);
      const url = 'https://localhost/1024';
      const small = await fetchOnce(client!, clientArgs({ host: '127.0.0.1', port, offers, url }), {
        exec,
        attempts: 20,
        timeoutMs: config.smoke.timeoutMs,
      });
      note(`${client!.name} -> ${server!.name}: ${REQUEST_OK}`);
      const migration = await checkMigration({ exec, note, smoke: config.smoke }, running, client!, offers, small.elapsedMs);
      return { migration, notes, logPath };
    } finally {
      await running.stop();
    }
  } catch (error) {
    return { error, notes, logPath };
  } finally {
    await log.close();
  }
}
