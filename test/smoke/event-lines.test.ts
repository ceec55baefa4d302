import { describe, expect, it } from 'vitest';
import { hostOf, matchMigrations, parseEventLine } from '../../src/smoke/event-lines.js';

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
    expect(parseEventLine('MIGRATION_DISABLED reason=peer_disable_active_migration')?.fields).toEqual({ reason: 'peer_disable_active_migration' });
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
