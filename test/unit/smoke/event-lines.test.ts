import { describe, expect, it } from 'vitest';
import { hostOf, matchMigrations, parseEventLine } from '../../../src/smoke/event-lines.js';

// Lines in the grammar of patches/README.md (what the real 0001/0002 print).
const client = [
  'Request succeeded (200).',
  'MIGRATION seq=1 trigger=timer mode=hard from=127.0.0.1:41000 to=127.0.0.2:52011 server_cid=ab12->cd34 result=ok t_ms=520 took_ms=3',
  'MIGRATION seq=2 trigger=timer mode=hard from=127.0.0.2:52011 to=127.0.0.3:0 server_cid=cd34->cd34 result=failed reason=no_spare_cid t_ms=1020 took_ms=1000',
  'MIGRATION seq=3 trigger=requests mode=hard from=127.0.0.2:52011 to=127.0.0.3:40100%lo server_cid=cd34->ef56 result=ok t_ms=2100 took_ms=2',
  'MIGRATION_SUMMARY attempted=3 ok=2 failed=1 distinct_local_addrs=3 distinct_server_cids=3',
];
const server = [
  'PEER_MIGRATION conn=ab12 from=127.0.0.1:41000 to=127.0.0.2:52011 type=IPV4_SUBNET_CHANGE server_cid=ab12->cd34 validated=yes',
  'PEER_MIGRATION conn=ab12 from=127.0.0.2:52011 to=127.0.0.3:40100 type=IPV4_SUBNET_CHANGE server_cid=cd34->ef56 validated=pending',
  'PEER_VALIDATED conn=ab12 peer=127.0.0.3:40100',
  'PEER_MIGRATION_SUMMARY conn=ab12 validated=2 invalid=0 migrations=2',
];

describe('migration event lines', () => {
  it('parse into a kind and key=value fields; other lines are not events', () => {
    expect(parseEventLine(client[1]!)).toMatchObject({ kind: 'MIGRATION', fields: { seq: '1', server_cid: 'ab12->cd34', result: 'ok' } });
    expect(parseEventLine('MIGRATION_DISABLED reason=peer_disable_active_migration')?.fields).toEqual({
      reason: 'peer_disable_active_migration',
    });
    expect(parseEventLine('Request succeeded (200).')).toBeUndefined();
    expect(parseEventLine('MIGRATIONS are fun')).toBeUndefined();
  });

  it('take the host out of ip:port, ip:port%iface and [v6]:port', () => {
    expect(hostOf('127.0.0.3:40100%lo')).toBe('127.0.0.3');
    expect(hostOf('[::1]:443')).toBe('::1');
    expect(hostOf('10.7.0.2')).toBe('10.7.0.2');
  });

  it('pair each successful client migration with the server line carrying the same connection IDs', () => {
    const match = matchMigrations(client, server);
    expect(match.clientOk).toHaveLength(2);
    expect(match.clientFailed).toHaveLength(1);
    expect(match.matched.map((m) => m.server.fields.server_cid)).toEqual(['ab12->cd34', 'cd34->ef56']);
    expect(match.unmatched).toEqual([]);
    expect(match.distinctLocalHosts).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
  });

  it('reports a client migration the server never saw', () => {
    const match = matchMigrations(client, server.slice(0, 1));
    expect(match.unmatched.map((e) => e.fields.seq)).toEqual(['3']);
  });
});

// Shaped like the real epoll_quic_client / epoll_quic_server in validate mode: 16-hex connection IDs,
// ports per path, and a server that reverts a move (PEER_PATH_REVERTED) and then reports it again.
const realClient = [
  'MIGRATION seq=1 trigger=timer mode=validate from=127.0.0.1:45123 to=127.0.0.2:38811 server_cid=a1b2c3d4e5f60718->0f1e2d3c4b5a6978 result=ok t_ms=512 took_ms=1',
  'MIGRATION seq=2 trigger=timer mode=validate from=127.0.0.2:38811 to=127.0.0.3:51002 server_cid=0f1e2d3c4b5a6978->77aa88bb99cc00dd result=ok t_ms=1015 took_ms=1',
  'Request succeeded (200).',
];
const realServer = [
  'PEER_MIGRATION conn=a1b2c3d4e5f60718 from=127.0.0.1:45123 to=127.0.0.2:38811 type=IPV4_SUBNET_CHANGE server_cid=a1b2c3d4e5f60718->0f1e2d3c4b5a6978 validated=pending',
  'PEER_VALIDATED conn=a1b2c3d4e5f60718 peer=127.0.0.2:38811',
  'PEER_MIGRATION conn=a1b2c3d4e5f60718 from=127.0.0.2:38811 to=127.0.0.3:51002 type=IPV4_SUBNET_CHANGE server_cid=0f1e2d3c4b5a6978->77aa88bb99cc00dd validated=pending',
  'PEER_VALIDATED conn=a1b2c3d4e5f60718 peer=127.0.0.3:51002',
];
const revertedServer = [
  realServer[0]!,
  'PEER_PATH_REVERTED conn=a1b2c3d4e5f60718 from=127.0.0.2:38811 to=127.0.0.1:45123',
  realServer[0]!,
  ...realServer.slice(1),
];

describe('CID pairs match once', () => {
  it('matches every real-shaped validate-mode migration with no revert or repeat', () => {
    const match = matchMigrations(realClient, realServer);
    expect(match.matched).toHaveLength(2);
    expect([match.unmatched, match.duplicateClientPairs, match.repeatedOnServer, match.reverted, match.revertedClientOk]).toEqual([
      [],
      [],
      [],
      [],
      [],
    ]);
  });

  it('a server line is used by one client migration only: a client repeating a pair is reported, not matched twice', () => {
    const repeated = [realClient[0]!, realClient[0]!.replace('seq=1', 'seq=2')];
    const match = matchMigrations(repeated, [realServer[0]!, realServer[0]!]);
    expect(match.matched).toHaveLength(1);
    expect(match.duplicateClientPairs.map((e) => e.fields.seq)).toEqual(['2']);
  });

  it('PEER_PATH_REVERTED then the same PEER_MIGRATION again counts one match and reports the revert and the repeat', () => {
    const match = matchMigrations(realClient, revertedServer);
    expect(match.matched).toHaveLength(2);
    expect(match.reverted).toHaveLength(1);
    expect(match.repeatedOnServer.map((e) => e.fields.server_cid)).toEqual(['a1b2c3d4e5f60718->0f1e2d3c4b5a6978']);
    expect(match.revertedClientOk.map((r) => r.client.fields.seq)).toEqual(['1']);
  });

  it('a revert of a move the client itself reported as failed is consistent', () => {
    const failed = [realClient[0]!.replace('result=ok', 'result=failed reason=path_validation_failed rollback=ok'), realClient[1]!];
    const match = matchMigrations(failed, revertedServer.slice(0, 2).concat(realServer.slice(2)));
    expect(match.reverted).toHaveLength(1);
    expect(match.revertedClientOk).toEqual([]);
  });

  it('collects MIGRATION_DISABLED lines', () => {
    const match = matchMigrations([...realClient, 'MIGRATION_DISABLED reason=max_failures'], realServer);
    expect(match.clientDisabled.map((e) => e.fields.reason)).toEqual(['max_failures']);
  });
});
