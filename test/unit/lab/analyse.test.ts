import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyseRun, goodputOf, perPathBytes, type RawRun } from '../../../src/lab/analyse.js';
import type { Packet } from '../../../src/lab/observer.js';
import { summaryLines } from '../../../src/lab/report.js';
import { pathNamer } from '../../../src/lab/topology.js';
import { readRawRunFixture } from '../../support/raw-run-fixture.js';

/**
 * The lab's analysis on recorded runs (test/lab/record-raw-run.ts: the fixture artifact, 1 s at 1 Mbit/s,
 * a migration every 250 ms) and on made-up ones: no root, namespaces or tshark.
 */

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const recorded = (scenario: string) => readRawRunFixture(path.join(FIXTURES, `${scenario}.raw.json`));

const NO_CIDS_NOTE =
  'no short-header QUIC connection IDs were seen on any link (expected with the fixture programs, which do not speak QUIC on the wire): the connection-ID part of the observer view is empty';

describe('analyseRun on recorded runs', () => {
  it('rotate-ips: every migration to a new address of the pool, seen by the server, none linkable by address or port', async () => {
    const raw = await recorded('rotate-ips');
    const report = analyseRun(raw);
    expect(summaryLines(report)).toEqual([
      'rotate-ips (hard) on quiche-152.0.7977.83-669ba2b9c3ee-linux-x64',
      'migrations: 3 ok / 3 attempted, 3 seen by the server (3 server path change(s))',
      'took_ms: median 1, p90 1; download completed, mean goodput 0.94 Mbit/s',
      'observer server: 3 4-tuple(s), 0 DCID(s), 138 packets, 0.09 MB',
      'observer link: 3 4-tuple(s), 0 DCID(s), 142 packets, 0.09 MB',
      'linkable: 0 of 3 migration(s); CID reuse across paths: none',
    ]);
    expect(report.migrations.map((m) => [m.seq, m.fromPath, m.toPath, m.seenByServer])).toEqual([
      [1, '10.213.1.11', '10.213.1.12', true],
      [2, '10.213.1.12', '10.213.1.13', true],
      [3, '10.213.1.13', '10.213.1.11', true],
    ]);
    // The server capture saw each new path as the client moved (ms after the first packet); the fixture's download
    // ended with the third move, so nothing crossed its path.
    expect(report.migrations.map((m) => m.serverSawNewPathMs)).toEqual([258.7, 516.6, undefined]);
    expect(report.perPathBytes).toEqual([
      { path: '10.213.1.11', bytes: 34757 },
      { path: '10.213.1.12', bytes: 34638 },
      { path: '10.213.1.13', bytes: 18783 },
    ]);
    expect(report.goodput).toMatchObject({ binMs: 100, totalBytes: 82136, activeMs: 700, meanMbit: 0.94 });
    expect(report.linkable.map((l) => l.observersSeeingBoth)).toEqual([['server', 'link'], ['server', 'link'], []]);
    expect(report.notes).toEqual([...raw.notes, NO_CIDS_NOTE]);
    expect(report.settings).toEqual({
      intervalMs: 250,
      rateMbit: 1,
      responseBytes: 112500,
      delayMs: 0,
      addresses: ['10.213.1.11', '10.213.1.12', '10.213.1.13'],
      serverAddress: '10.213.1.1',
      serverPort: 4433,
    });
    expect(report.durationMs).toBe(Date.parse(raw.endedAt) - Date.parse(raw.startedAt));
    expect(report.client).toEqual({
      exitCode: 0,
      requestSucceeded: true,
      summary: { attempted: '3', ok: '3', failed: '0', distinct_local_addrs: '3', distinct_server_cids: '4' },
    });
  });

  it('two-paths: the client alternates between the direct path and the WireGuard tunnel; the underlay sees only the tunnel', async () => {
    const report = analyseRun(await recorded('two-paths'));
    expect(report.migrations.map((m) => `${m.fromPath} -> ${m.toPath}`)).toEqual([
      'direct -> wireguard',
      'wireguard -> direct',
      'direct -> wireguard',
    ]);
    expect(report.perPathBytes.map((p) => p.path)).toEqual(['direct', 'wireguard']);
    expect(new Set(report.goodput.bins.map((b) => b.path))).toEqual(new Set(['direct', 'wireguard']));
    const underlay = report.observers.find((o) => o.link === 'tunnel-underlay')!;
    expect(underlay.fourTuples.map((t) => t.kind)).toEqual(['wireguard']);
    expect(report.topology).toMatchObject({ wireguard: 'wireguard-go', shaping: { qdisc: 'tbf', rates: { direct: 1, tunnel: 1 } } });
    // Only the server sees both ends of a migration: each client-side link carries one path.
    expect(report.linkable.every((l) => !l.linkable && !l.observersSeeingBoth.some((o) => o !== 'server'))).toBe(true);
  });

  it('rebind-port: each port is its own path, and every migration is linkable by the client address', async () => {
    const report = analyseRun(await recorded('rebind-port'));
    expect(report.migrations.every((m) => /^port \d+$/.test(m.fromPath) && /^port \d+$/.test(m.toPath))).toBe(true);
    expect(report.perPathBytes.every((p) => /^port \d+$/.test(p.path))).toBe(true);
    expect(report.linkable.map((l) => l.by)).toEqual([['client-address'], ['client-address'], ['client-address']]);
  });

  it('is pure: the same run gives the same report, and the run is left as it was', async () => {
    const raw = await recorded('two-paths');
    const copy = structuredClone(raw);
    expect(analyseRun(raw)).toEqual(analyseRun(raw));
    expect(raw).toEqual(copy);
  });
});

const SERVER = '10.213.1.1:4433';
const OLD = '10.213.1.11:40000';
const NEW = '10.213.1.12:40001';
const T = 1_800_000_000_000;

const packet = (ms: number, from: string, to: string, dcid: string, bytes = 1000): Packet => {
  const [src, srcPort] = from.split(':');
  const [dst, dstPort] = to.split(':');
  return {
    epochMs: T + ms,
    src: src!,
    dst: dst!,
    srcPort: Number(srcPort),
    dstPort: Number(dstPort),
    ipBytes: bytes + 28,
    udpPayload: bytes,
    shortHeader: true,
    dcid,
    wireguard: false,
  };
};

/** A made-up rotate-ips run: one migration from OLD to NEW, whose new path uses `newServerCid`. */
function madeUpRun(newServerCid: string, client: Partial<RawRun['client']> = {}): RawRun {
  const packets = [
    packet(0, OLD, SERVER, 'a0a0'),
    packet(1, SERVER, OLD, 'c1c1'),
    packet(150, SERVER, OLD, 'c1c1'),
    packet(500, NEW, SERVER, newServerCid),
    packet(510, SERVER, NEW, 'c2c2'),
  ];
  return {
    runId: 'abc123',
    scenario: 'rotate-ips',
    mode: 'hard',
    settings: { intervalMs: 500, rateMbit: 40, delayMs: 0, responseBytes: 3000, rates: { link: 40 } },
    startedAt: new Date(T - 1000).toISOString(),
    endedAt: new Date(T + 2000).toISOString(),
    artifact: { name: 'a', fingerprint: 'f', chromium: 'c', revisions: { src: 's', quiche: 'q' }, patchset: 'p', dir: 'out/artifact' },
    topology: {
      clientNs: 'bqlabc123-client',
      serverNs: 'bqlabc123-server',
      paths: ['10.213.1.11', '10.213.1.12'].map((a) => ({ name: a, localAddress: a, link: 'link' })),
      wireguard: null,
      netem: 'available',
    },
    captures: [{ point: { link: 'link', ns: 'bqlabc123-client', iface: 'bqlabc123c0', goodput: true }, pcap: 'out/link.pcap', packets }],
    client: {
      lines: [
        `MIGRATION seq=1 trigger=timer mode=hard from=${OLD} to=${NEW} server_cid=a0a0->${newServerCid} result=ok t_ms=500 took_ms=2`,
        'Request succeeded (200).',
      ],
      exitCode: 0,
      ...client,
    },
    serverLines: [`PEER_MIGRATION conn=a0a0 from=${OLD} to=${NEW} type=IPV4_SUBNET_CHANGE server_cid=a0a0->${newServerCid} validated=yes`],
    notes: [],
    files: { clientLog: 'out/client.log', serverLog: 'out/server.log', labLog: 'out/lab.log' },
  };
}

describe('analyseRun on made-up runs', () => {
  it('a migration to fresh connection IDs on a new address and port is not linkable; the CIDs were checked', () => {
    const report = analyseRun(madeUpRun('b1b1'));
    expect(report.linkable).toEqual([{ seq: 1, linkable: false, by: [], observersSeeingBoth: ['link'], cidChecked: true }]);
    expect(report.cidReuse).toEqual([]);
    expect(report.notes).toEqual([]);
    expect(report.migrations[0]).toMatchObject({ serverCid: { old: 'a0a0', new: 'b1b1' }, tookMs: 2, seenByServer: true });
  });

  it('a connection ID used on both paths links them and is flagged as reuse', () => {
    const report = analyseRun(madeUpRun('a0a0'));
    expect(report.linkable[0]).toMatchObject({ linkable: true, by: ['connection-id'] });
    expect(report.cidReuse).toEqual([{ dcid: 'a0a0', fourTuples: [OLD, NEW] }]);
  });

  it('a download that did not complete is noted, with the client exit code and its log', () => {
    const report = analyseRun(madeUpRun('b1b1', { lines: ['Failed to connect'], exitCode: 1 }));
    expect(report.client).toEqual({ exitCode: 1, requestSucceeded: false, summary: null });
    expect(report.migrations).toEqual([]);
    expect(report.notes).toEqual(['the download did not complete (client exit 1); see out/client.log']);
  });

  it('without captured packets, time 0 is the start of the run and the goodput is empty', () => {
    const raw = madeUpRun('b1b1');
    const report = analyseRun({ ...raw, captures: raw.captures.map((c) => ({ ...c, packets: [] })) });
    expect(report.goodput).toEqual({ binMs: 100, bins: [], totalBytes: 0, activeMs: 0, meanMbit: 0 });
    expect(report.perPathBytes).toEqual([]);
    expect(report.notes).toEqual([NO_CIDS_NOTE]);
  });
});

describe('goodput and bytes per path', () => {
  const pathOf = pathNamer('rotate-ips', [{ name: '10.213.1.11', localAddress: '10.213.1.11', link: 'link' }]);

  it('counts the server-to-client payload per 100 ms bin and path, and both directions per path', () => {
    const packets = [packet(0, SERVER, OLD, 'x', 1000), packet(50, OLD, SERVER, 'y', 100), packet(120, SERVER, NEW, 'x', 500)];
    expect(goodputOf(packets, T, pathOf)).toEqual({
      binMs: 100,
      bins: [
        { t_ms: 0, path: '10.213.1.11', bytesPerSecond: 10_000 },
        { t_ms: 100, path: '10.213.1.12', bytesPerSecond: 5000 },
      ],
      totalBytes: 1500,
      activeMs: 200,
      meanMbit: 0.06,
    });
    expect(perPathBytes(packets, pathOf)).toEqual([
      { path: '10.213.1.11', bytes: 1028 + 128 },
      { path: '10.213.1.12', bytes: 528 },
    ]);
  });

  it('names paths: by the address they start from (an interface suffix ignored), the host otherwise; by port in rebind-port', () => {
    const twoPaths = pathNamer('two-paths', [
      { name: 'direct', localAddress: '10.213.1.2', link: 'direct' },
      { name: 'wireguard', localAddress: '10.213.9.2%bqlabcwc', link: 'tunnel' },
    ]);
    expect(['10.213.1.2:4000', '10.213.9.2:4001', '10.213.7.7:4002'].map(twoPaths)).toEqual(['direct', 'wireguard', '10.213.7.7']);
    expect(pathNamer('rebind-port', [])('10.213.1.11:5555')).toBe('port 5555');
  });
});
