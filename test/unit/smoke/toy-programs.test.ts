import { describe, expect, it } from 'vitest';
import {
  clientArgs,
  clientOffers,
  everyRequestMigrationFlags,
  fetchOnce,
  offersValidateMode,
  pairsAmong,
  REQUEST_OK,
  requestsSucceeded,
  serverArgs,
  timerMigrationFlags,
} from '../../../src/smoke/toy-programs.js';
import { fakeExec } from '../../support/fake-exec.js';

/** The fixture client's --help (testkit's patched quic_toy_client), abridged. */
const FIXTURE_HELP = `Usage: quic_client [options] <url>
  --disable_certificate_verification (default: false)
  --migrate_every_n_requests (default: 0)
      If > 0, migrate the connection after every N completed requests.
  --migrate_interval_ms (default: 0)
  --migrate_local_addresses (default: "")
  --migrate_mode (default: "hard")
      hard: close the socket and continue on a new one with the next spare server connection ID (works in all client binaries). validate is not supported by this client.
  --num_requests (default: 1)
  --quic_version (default: "")
  --quiet (default: false)`;

describe('the toy programs', () => {
  it('pairs each client with its server, the epoll pair first, only when both were built', () => {
    expect(pairsAmong(() => true)).toEqual([
      { server: 'epoll_quic_server', client: 'epoll_quic_client' },
      { server: 'quic_server', client: 'quic_client' },
    ]);
    expect(pairsAmong((name) => name.startsWith('quic_'))).toEqual([{ server: 'quic_server', client: 'quic_client' }]);
    expect(pairsAmong((name) => name !== 'epoll_quic_server' && name !== 'quic_client')).toEqual([]);
  });

  it('reads what a client offers from its --help: the fixture client migrates, but only in hard mode', () => {
    expect(clientOffers(FIXTURE_HELP)).toEqual({
      quicVersion: true,
      quiet: true,
      migration: true,
      migrateMode: true,
      validate: false,
      everyN: true,
    });
    expect(clientOffers('  --host (default: "")\n  --port (default: 0)')).toEqual({
      quicVersion: false,
      quiet: false,
      migration: false,
      migrateMode: false,
      validate: false,
      everyN: false,
    });
  });

  it('builds the server and client command lines', () => {
    expect(serverArgs({ port: 4433, certificate: 'c.pem', key: 'k.pkcs8' }, ['--fixture_send_rate_mbps=36'])).toEqual([
      '--port=4433',
      '--certificate_file=c.pem',
      '--key_file=k.pkcs8',
      '--generate_dynamic_responses',
      '--fixture_send_rate_mbps=36',
    ]);
    const offers = clientOffers(FIXTURE_HELP);
    expect(
      clientArgs(
        { host: '10.213.1.1', port: 4433, offers, url: 'https://localhost/1000' },
        timerMigrationFlags(['a', 'b', 'a'], 300, 'hard'),
      ),
    ).toEqual([
      '--host=10.213.1.1',
      '--port=4433',
      '--disable_certificate_verification',
      '--quic_version=RFCv1',
      '--quiet',
      '--migrate_local_addresses=a,b,a',
      '--migrate_interval_ms=300',
      '--migrate_mode=hard',
      'https://localhost/1000',
    ]);
    // A client without --quic_version and --quiet gets neither; no mode flag when none is given.
    expect(clientArgs({ host: 'h', port: 1, offers: clientOffers(''), url: 'u' }, timerMigrationFlags(['a', 'b'], 500))).toEqual([
      '--host=h',
      '--port=1',
      '--disable_certificate_verification',
      '--migrate_local_addresses=a,b',
      '--migrate_interval_ms=500',
      'u',
    ]);
    expect(everyRequestMigrationFlags(['a', 'b', 'c'], 4)).toEqual([
      '--migrate_local_addresses=a,b,c',
      '--migrate_every_n_requests=1',
      '--num_requests=4',
    ]);
  });

  it('counts the requests that succeeded by the one success line', () => {
    expect(requestsSucceeded(['MIGRATION seq=1 result=ok', REQUEST_OK, `  ${REQUEST_OK}`, 'Request failed (500).'])).toBe(2);
  });
});

describe('fetchOnce', () => {
  const client = { name: 'epoll_quic_client', path: '/bin/epoll_quic_client' };

  it('retries while the server binds, and returns the lines and time of the run that succeeded', async () => {
    const { exec, calls } = fakeExec((_file, _args, run) =>
      run < 3 ? { lines: ['Failed to connect'], exitCode: 1 } : { lines: [REQUEST_OK], durationMs: 42 },
    );
    expect(await fetchOnce(client, ['u'], { exec, attempts: 5, timeoutMs: 1000 })).toEqual({ lines: [REQUEST_OK], elapsedMs: 42 });
    expect(calls).toHaveLength(3);
  });

  it('runs under a wrapper command (the lab: ip netns exec)', async () => {
    const { exec, calls } = fakeExec(() => ({ lines: [REQUEST_OK] }));
    await fetchOnce(client, ['u'], { exec, attempts: 1, timeoutMs: 1000, via: ['ip', 'netns', 'exec', 'ns'] });
    expect(calls).toEqual([{ file: 'ip', args: ['netns', 'exec', 'ns', '/bin/epoll_quic_client', 'u'] }]);
  });

  it('fails with the last lines when no run got the success line', async () => {
    const { exec } = fakeExec(() => ({ lines: ['Request failed (500).'] }));
    await expect(fetchOnce(client, ['u'], { exec, attempts: 1, timeoutMs: 1000 })).rejects.toMatchObject({
      failureClass: 'smoke',
      message: `epoll_quic_client did not get "${REQUEST_OK}" from the server.`,
      tail: ['Request failed (500).'],
    });
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
