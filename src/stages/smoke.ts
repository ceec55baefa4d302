import path from 'node:path';
import type { AppContext } from './context.js';
import type { CompileOutput } from '../artifacts/binary.js';
import { defineStage } from '../engine/stage.js';
import { ensureTestCerts } from '../smoke/certs.js';
import { checkMigration, type MigrationResult, type SmokeConfig } from '../smoke/migration-check.js';
import { freeUdpPort } from '../smoke/udp-port.js';
import { clientArgs, fetchOnce, pairsAmong, probeClient, REQUEST_OK, startServer } from '../smoke/toy-programs.js';

export interface SmokeInputs {
  binaries: Array<{ name: string; sha256: string }>;
  smoke: SmokeConfig;
}

export interface PairResult {
  server: string;
  client: string;
  ok: boolean;
}

export interface SmokeOutput {
  pairs: PairResult[];
  migration: MigrationResult;
  certsDir: string;
}

/**
 * Before packaging, prove the binaries work: each built server on loopback answers its client; and
 * when the MIMIQ patches are in, a live connection migrates across 127.0.0.x and the server sees
 * every move with the same connection IDs (src/smoke/migration-check.ts, docs/smoke.md).
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
    const smoke = ctx.app.config.smoke;
    const compile = ctx.upstream<CompileOutput>('compile');
    const binaries = new Map(compile.binaries.map((b) => [b.name, b]));
    const certs = await ensureTestCerts(path.join(ctx.app.paths.smoke, 'certs'));
    const key = compile.serverKeyFormat === 'pem' ? certs.keyPem : certs.key;
    const pairs = pairsAmong((name) => binaries.has(name));
    if (pairs.length === 0) {
      ctx.report.note('smoke test skipped: no client/server pair among the built targets');
      return { pairs: [], migration: { checked: false, skipped: 'no client/server pair built' }, certsDir: certs.dir };
    }
    const results: PairResult[] = [];
    let migration: MigrationResult | undefined;
    for (const pair of pairs) {
      const client = binaries.get(pair.client)!;
      const port = await freeUdpPort();
      const server = await startServer(binaries.get(pair.server)!, {
        exec: ctx.exec,
        signal: ctx.signal,
        port,
        certificate: certs.certificate,
        key,
        settleMs: 100,
      });
      try {
        const offers = await probeClient(client, ctx.exec);
        const url = 'https://localhost/1024';
        const small = await fetchOnce(client, clientArgs({ host: '127.0.0.1', port, offers, url }), {
          exec: ctx.exec,
          attempts: 20,
          timeoutMs: smoke.timeoutMs,
        });
        results.push({ ...pair, ok: true });
        ctx.report.note(`${pair.client} -> ${pair.server}: ${REQUEST_OK}`);
        migration ??= await checkMigration({ exec: ctx.exec, note: ctx.report.note, smoke }, server, client, offers, small.elapsedMs);
      } finally {
        await server.stop();
      }
    }
    return { pairs: results, migration: migration!, certsDir: certs.dir };
  },
  describe: (o) =>
    `${o.pairs.filter((p) => p.ok).length} pair(s) ok; migration ${o.migration.checked ? `${o.migration.matched} matched` : 'not checked'}`,
});
