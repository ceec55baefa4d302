import { describe, expect, it } from 'vitest';
import { matchMigrations } from '../../../src/smoke/event-lines.js';
import { checkMigration, MAX_CLIENT_SOCKETS, migrationProblems, type SmokeConfig } from '../../../src/smoke/migration-check.js';
import { clientOffers, REQUEST_OK, type ToyServer } from '../../../src/smoke/toy-programs.js';
import { fakeExec } from '../../support/fake-exec.js';

const ok = [
  'MIGRATION seq=1 trigger=timer mode=validate from=127.0.0.1:45123 to=127.0.0.2:38811 server_cid=a1->b2 result=ok t_ms=512 took_ms=1',
  'MIGRATION seq=2 trigger=timer mode=validate from=127.0.0.2:38811 to=127.0.0.3:51002 server_cid=b2->c3 result=ok t_ms=1015 took_ms=1',
];
const server = [
  'PEER_MIGRATION conn=a1 from=127.0.0.1:45123 to=127.0.0.2:38811 type=IPV4_SUBNET_CHANGE server_cid=a1->b2 validated=pending',
  'PEER_MIGRATION conn=a1 from=127.0.0.2:38811 to=127.0.0.3:51002 type=IPV4_SUBNET_CHANGE server_cid=b2->c3 validated=pending',
];
const steady = { samples: 40, max: 2, seen: [1, 2] };

describe('migration check verdict', () => {
  it('passes a complete transfer whose every migration matched, with a bounded socket count', () => {
    expect(migrationProblems(matchMigrations(ok, server), steady, 1, 1)).toEqual([]);
  });

  it('fails when the client keeps one more socket per migration (old paths not closed)', () => {
    const leak = { samples: 40, max: 5, seen: [1, 2, 3, 4, 5] };
    expect(migrationProblems(matchMigrations(ok, server), leak, 1, 1).join()).toMatch(
      `up to 5 sockets (counts seen: 1, 2, 3, 4, 5), more than ${MAX_CLIENT_SOCKETS}`,
    );
  });

  it('fails when the server reverted a migration the client reported as ok', () => {
    const reverted = [server[0]!, 'PEER_PATH_REVERTED conn=a1 from=127.0.0.2:38811 to=127.0.0.1:45123', server[0]!, server[1]!];
    expect(migrationProblems(matchMigrations(ok, reverted), steady, 1, 1).join()).toMatch(
      /server reverted 1 migration\(s\) the client reported as ok \(PEER_PATH_REVERTED, then the same PEER_MIGRATION again 1 time\(s\)\)/,
    );
  });

  it('fails on any MIGRATION line without result=ok, and on MIGRATION_DISABLED', () => {
    const lines = [
      ...ok,
      'MIGRATION seq=3 trigger=timer mode=hard from=127.0.0.3:51002 to=127.0.0.1:0 server_cid=c3->c3 result=failed reason=no_spare_cid t_ms=1600 took_ms=1000',
      'MIGRATION_DISABLED reason=max_failures',
    ];
    const problems = migrationProblems(matchMigrations(lines, server), steady, 1, 1);
    expect(problems.join()).toMatch(/1 MIGRATION line\(s\) without result=ok/);
    expect(problems.join()).toMatch(/the client stopped migrating: MIGRATION_DISABLED reason=max_failures/);
  });

  it('fails when fewer requests succeeded than were sent', () => {
    expect(migrationProblems(matchMigrations(ok, server), steady, 4, 3)).toEqual([
      'the transfer did not complete: 3 of 4 request(s) succeeded',
    ]);
  });
});

describe('checkMigration', () => {
  const smoke: SmokeConfig = {
    enabled: true,
    migration: 'require',
    responseBytes: 1_000_000,
    maxResponseBytes: 100_000_000,
    addresses: ['127.0.0.1', '127.0.0.2'],
    migrateIntervalMs: 500,
    timeoutMs: 10_000,
  };
  const client = { name: 'epoll_quic_client', path: '/bin/epoll_quic_client' };
  const hardOnly = clientOffers('--migrate_local_addresses --migrate_interval_ms --migrate_mode (hard only; validate is not supported)');

  /**
   * A client that finishes downloads under `migratesFrom` bytes before its first migration (as the real
   * one does on an idle machine), and migrates once in larger ones; the server sees that migration.
   */
  function loopback(migratesFrom: number) {
    const toy: ToyServer = { port: 4433, lines: [], stop: () => Promise.resolve() };
    const { exec, calls } = fakeExec((_file, args) => {
      const bytes = Number(args[args.length - 1]!.split('/').pop());
      const migrates = bytes >= migratesFrom;
      if (migrates) toy.lines.push(server[0]!);
      return migrates ? { lines: [ok[0]!, REQUEST_OK], durationMs: 900 } : { lines: [REQUEST_OK], durationMs: 100 };
    });
    const urls = () => calls.map((c) => c.args[c.args.length - 1]);
    return { toy, exec, urls };
  }

  it('tries a timed run that ended before its first migration again, with a larger response, and notes it', async () => {
    const { toy, exec, urls } = loopback(10_000_000);
    const notes: string[] = [];
    const result = await checkMigration({ exec, note: (m) => notes.push(m), smoke }, toy, client, hardOnly, 50);
    // 1 MB in 100 ms, 50 of them start-up: two intervals with a 1.5x margin want 30 MB, capped at 16x.
    expect(urls()).toEqual(['https://localhost/1000000', 'https://localhost/16000000']);
    expect(result).toMatchObject({
      checked: true,
      migrations: 1,
      matched: 1,
      failed: 0,
      modes: [{ mode: 'hard', responseBytes: 16_000_000, tries: 2 }],
    });
    expect(notes).toEqual([
      "migration validate mode skipped: the client's --help does not offer --migrate_mode=validate",
      'migration every-n mode skipped: the client has no --migrate_every_n_requests',
      'migration hard: the 1.0 MB download ended after 100 ms with 0 migration(s); trying again with 16 MB',
      'migration hard: 1 of 1 migration(s) matched across 127.0.0.1, 127.0.0.2 in 900 ms (16 MB); client sockets max 0 (0 samples); server reverts 0',
      'migration ok: 1 migration(s) across 127.0.0.1, 127.0.0.2 in hard mode(s), each seen by the server with the same connection IDs',
    ]);
  });

  it("'auto': sizes the first try from a throughput probe, so it migrates without a retry", async () => {
    // The real client on an idle loopback: 75 MB/s after 50 ms of start-up; downloads of 100 MB and more
    // last long enough to migrate (a 500 ms interval), 20 MB (the old fixed first size) do not.
    const toy: ToyServer = { port: 4433, lines: [], stop: () => Promise.resolve() };
    const { exec, calls } = fakeExec((_file, args) => {
      const bytes = Number(args[args.length - 1]!.split('/').pop());
      const durationMs = 50 + bytes / 75_000;
      const migrating = args.some((a) => a.startsWith('--migrate_local_addresses'));
      if (migrating && bytes >= 100_000_000) toy.lines.push(server[0]!);
      return { lines: migrating && bytes >= 100_000_000 ? [ok[0]!, REQUEST_OK] : [REQUEST_OK], durationMs };
    });
    const notes: string[] = [];
    const result = await checkMigration(
      { exec, note: (m) => notes.push(m), smoke: { ...smoke, responseBytes: 'auto', maxResponseBytes: 1_000_000_000 } },
      toy,
      client,
      hardOnly,
      50,
    );
    // Probes: 1 MB (13 ms: too short to measure), 8 MB (107 ms); then 75 MB/s for 2 x 500 ms x 1.5.
    expect(calls.map((c) => c.args[c.args.length - 1])).toEqual([
      'https://localhost/1000000',
      'https://localhost/8000000',
      'https://localhost/112500000',
    ]);
    expect(calls.slice(0, 2).every((c) => !c.args.some((a) => a.startsWith('--migrate')))).toBe(true);
    expect(result).toMatchObject({ checked: true, matched: 1, modes: [{ mode: 'hard', responseBytes: 112_500_000, tries: 1 }] });
    expect(notes[2]).toBe(
      'migration: loopback throughput 75 MB/s (8.0 MB in 107 ms beyond start-up); timed runs download 113 MB to last 2 intervals of 500 ms with a 1.5x margin',
    );
    expect(notes.join('\n')).not.toMatch(/trying again/);
  });

  it("'auto' on a machine that got slower after the probe: the retry still catches a first try that ended too early", async () => {
    const toy: ToyServer = { port: 4433, lines: [], stop: () => Promise.resolve() };
    let probes = 0;
    const { exec, urls } = (() => {
      const fake = fakeExec((_file, args) => {
        const bytes = Number(args[args.length - 1]!.split('/').pop());
        const migrating = args.some((a) => a.startsWith('--migrate_local_addresses'));
        if (!migrating) probes++;
        // Probes see 75 MB/s; the timed runs then only migrate from 200 MB.
        if (migrating && bytes >= 200_000_000) toy.lines.push(server[0]!);
        const lines = migrating && bytes >= 200_000_000 ? [ok[0]!, REQUEST_OK] : [REQUEST_OK];
        return { lines, durationMs: migrating ? 50 + bytes / 150_000 : 50 + bytes / 75_000 };
      });
      return { exec: fake.exec, urls: () => fake.calls.map((c) => c.args[c.args.length - 1]) };
    })();
    const result = await checkMigration(
      { exec, note: () => {}, smoke: { ...smoke, responseBytes: 'auto', maxResponseBytes: 1_000_000_000 } },
      toy,
      client,
      hardOnly,
      50,
    );
    expect(probes).toBe(2);
    expect(urls().slice(2, 4)).toEqual(['https://localhost/112500000', 'https://localhost/225000000']);
    expect(result).toMatchObject({ checked: true, modes: [{ mode: 'hard', responseBytes: 225_000_000, tries: 2 }] });
  });

  it('gives its verdict on a run that never migrates at the largest size, naming what is wrong', async () => {
    const { toy, exec, urls } = loopback(Infinity);
    await expect(
      checkMigration({ exec, note: () => {}, smoke: { ...smoke, maxResponseBytes: 2_000_000 } }, toy, client, hardOnly, 50),
    ).rejects.toMatchObject({
      failureClass: 'smoke',
      message: expect.stringMatching(
        /^Migration check failed: hard mode: the client reported no successful MIGRATION; hard mode: the connection used 0 local/,
      ),
    });
    expect(urls()).toEqual(['https://localhost/1000000', 'https://localhost/2000000']);
  });

  it('without the migration patch: skipped with a note under auto, a failure under require', async () => {
    const { toy, exec } = loopback(0);
    const notes: string[] = [];
    const unpatched = clientOffers('--host --port');
    expect(
      await checkMigration({ exec, note: (m) => notes.push(m), smoke: { ...smoke, migration: 'auto' } }, toy, client, unpatched, 50),
    ).toEqual({
      checked: false,
      skipped: 'epoll_quic_client has no --migrate_local_addresses (the MIMIQ migration patch is not in this build)',
    });
    expect(notes).toEqual([
      'migration check skipped: epoll_quic_client has no --migrate_local_addresses (the MIMIQ migration patch is not in this build)',
    ]);
    await expect(checkMigration({ exec, note: () => {}, smoke }, toy, client, unpatched, 50)).rejects.toMatchObject({
      message: expect.stringMatching(/^Migration check required, but epoll_quic_client has no --migrate_local_addresses/),
    });
  });
});
