import { describe, expect, it } from 'vitest';
import { matchMigrations } from '../../../src/smoke/event-lines.js';
import { MAX_CLIENT_SOCKETS, migrationProblems, offersValidateMode } from '../../../src/stages/smoke.js';

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

describe('validate mode is offered', () => {
  it('by the real patched client (quiche --help wraps the description)', () => {
    const help = `  --migrate_mode (Intentional migration: 'hard' switches sockets at once\n    (MigrateSocketWithSpecifiedPort; works in all client binaries). 'validate'\n    probes the new path and switches only after PATH_RESPONSE\n    (ValidateAndMigrateSocket; standalone epoll_quic_client only, not the\n    Chromium-based quic_client).); default: "hard";\n  --migrate_wait_for_cid_ms (...)`;
    expect(offersValidateMode(help)).toBe(true);
  });

  it('not by the fixture client, which supports only hard', () => {
    const help =
      '  --migrate_mode (default: hard)\n      hard: close the socket and continue on a new one with the next spare server connection ID (works in all client binaries). validate is not supported by this client.\n  --migrate_max_failures (default: 3)';
    expect(offersValidateMode(help)).toBe(false);
  });

  it('not by a client without --migrate_mode', () => {
    expect(offersValidateMode('  --migrate_local_addresses (default: )\n      validate nothing')).toBe(false);
  });
});
