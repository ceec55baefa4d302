import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyseRun, goodputOf, headlineOf, perPathBytes, truthOf, type RawRun } from '../../../src/lab/analyse.js';
import type { Packet } from '../../../src/lab/observer.js';
import { summaryLines } from '../../../src/lab/report.js';
import { pathNamer } from '../../../src/lab/topology.js';
import type { LabReport } from '../../../src/lab/types.js';
import { readRawRunFixture } from '../../support/raw-run-fixture.js';

/**
 * The lab's analysis on recorded runs (test/lab/record-raw-run.ts: the fixture artifact, 1 s at 1 Mbit/s
 * per client, a migration every 250 ms, three addresses per client in rotate-ips) and on made-up ones:
 * no root, namespaces or tshark.
 */

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const recorded = (name: string) => readRawRunFixture(path.join(FIXTURES, `${name}.raw.json`));

const NO_CIDS_NOTE =
  'no short-header QUIC connection IDs were seen on any link (expected with the fixture programs, which do not speak QUIC on the wire): the connection-ID part of the observer view is empty';

/** model observer -> [links, correct, linked] */
const scoreTable = (r: LabReport) =>
  Object.fromEntries(r.linking.scores.map((s) => [`${s.model} ${s.observer}`, [s.links, s.correct, s.linked]]));

describe('analyseRun on recorded runs', () => {
  it('rotate-ips: every migration to a new address of the pool, seen by the server; timing links all, identifiers none', async () => {
    const raw = await recorded('rotate-ips');
    const report = analyseRun(raw);
    expect(summaryLines(report)).toEqual([
      'rotate-ips (hard) on quiche-152.0.7977.83-128ceba3f8fd-linux-x64',
      'linkable by identifiers: 0 of 3; by timing: 3 of 3 (window 100 ms, at server); by timing + volume: 3 of 3 (at server)',
      'migrations: 3 ok / 3 attempted, 3 seen by the server (3 server path change(s))',
      'took_ms: median 0, p90 0; download completed, mean goodput 0.93 Mbit/s',
      'observer server: 4 4-tuple(s), 0 DCID(s), 204 packets, 0.13 MB',
      'observer link: 4 4-tuple(s), 0 DCID(s), 204 packets, 0.13 MB',
      'CID reuse across paths: none',
      'host: 2 CPU(s), 100% busy during the download (the host was the limit)',
    ]);
    expect(report.migrations.map((m) => [m.client, m.seq, m.fromPath, m.toPath, m.seenByServer])).toEqual([
      [0, 1, '10.213.1.11', '10.213.1.12', true],
      [0, 2, '10.213.1.12', '10.213.1.13', true],
      [0, 3, '10.213.1.13', '10.213.1.11', true],
    ]);
    // The server capture saw each new path as the client moved (ms after the first packet).
    expect(report.migrations.map((m) => m.serverSawNewPathMs)).toEqual([258.3, 516.1, 774.8]);
    expect(report.perPathBytes).toEqual([
      { path: '10.213.1.11', bytes: 55950 },
      { path: '10.213.1.12', bytes: 34695 },
      { path: '10.213.1.13', bytes: 34695 },
    ]);
    expect(report.goodput).toMatchObject({ binMs: 100, totalBytes: 116637, activeMs: 1000, meanMbit: 0.93 });
    // The fourth path is the first address again (the rotation wraps): identifiers join the two flows of
    // that address, which is right (one client) but no migration.
    expect(scoreTable(report)).toEqual({
      'identifiers server': [1, 1, 0],
      'identifiers link': [1, 1, 0],
      'timing server': [3, 3, 3],
      'timing link': [3, 3, 3],
      'timing+volume server': [3, 3, 3],
      'timing+volume link': [3, 3, 3],
    });
    expect(report.linkable.map((l) => l.linkedBy)).toEqual(
      Array(3).fill({ identifiers: [], timing: ['server', 'link'], 'timing+volume': ['server', 'link'] }),
    );
    expect(report.linking.best.timing).toMatchObject({ observer: 'server', precision: 1, recall: 1, candidates: 1 });
    expect(report.notes).toEqual([
      ...raw.notes,
      NO_CIDS_NOTE,
      'the host was the limit: its 2 CPU(s) were 100% busy during the download (1 client(s), the server, tcpdump and anything else on the machine), so timings and rates measure the host as much as the migration',
    ]);
    expect(report.settings).toEqual({
      intervalMs: 250,
      rateMbit: 1,
      responseBytes: 112500,
      delayMs: 0,
      addresses: ['10.213.1.11', '10.213.1.12', '10.213.1.13'],
      serverAddress: '10.213.1.1',
      serverPort: 4433,
      clients: 1,
      quietMs: 0,
      jitterMs: 0,
      seed: 1,
    });
    expect(report.durationMs).toBe(Date.parse(raw.endedAt) - Date.parse(raw.startedAt));
    expect(report.client).toEqual({
      exitCode: 0,
      requestSucceeded: true,
      summary: { attempted: '3', ok: '3', failed: '0', distinct_local_addrs: '3', distinct_server_cids: '4' },
    });
  });

  it('two-paths: only the server network behind the tunnel exit sees both paths; the client-side links see one each, the underlay no QUIC', async () => {
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
    expect(report.headline).toBe(
      'linkable by identifiers: 0 of 3; by timing: 3 of 3 (window 100 ms, at server); by timing + volume: 3 of 3 (at server)',
    );
    // The direct link sees the client's direct address come back (same IP): identifiers join those two
    // flows, which are two migrations apart. No client-side link sees both ends of a switch.
    expect(scoreTable(report)).toMatchObject({
      'identifiers direct': [1, 1, 0],
      'timing direct': [0, 0, 0],
      'timing tunnel': [0, 0, 0],
      'timing tunnel-underlay': [0, 0, 0],
      'timing server': [3, 3, 3],
    });
    expect(report.linking.observers).toEqual([
      expect.objectContaining({ link: 'server', flows: 4, sits: expect.stringMatching(/behind the tunnel's exit/) }),
      expect.objectContaining({ link: 'direct', flows: 2 }),
      expect.objectContaining({ link: 'tunnel', flows: 2 }),
      expect.objectContaining({ link: 'tunnel-underlay', flows: 0, sits: expect.stringMatching(/WireGuard packets .* no QUIC/) }),
    ]);
  });

  it('rebind-port: each port is its own path, and every migration is linkable by the client address', async () => {
    const report = analyseRun(await recorded('rebind-port'));
    expect(report.migrations.every((m) => /^port \d+$/.test(m.fromPath) && /^port \d+$/.test(m.toPath))).toBe(true);
    expect(report.perPathBytes.every((p) => /^port \d+$/.test(p.path))).toBe(true);
    expect(report.linkable.map((l) => l.by)).toEqual([['client-address'], ['client-address'], ['client-address']]);
    expect(report.headline).toMatch(/^linkable by identifiers: 3 of 3 \(at server\);/);
  });

  it('four clients: each has its own addresses and phase; the timing observer picks among ~2 candidates and links all, timing + volume loses some', async () => {
    const raw = await recorded('rotate-ips-4-clients');
    const report = analyseRun(raw);
    expect(report.clients.map((c) => [c.index, c.addresses, c.phaseMs, c.requestSucceeded])).toEqual([
      [0, ['10.213.1.11', '10.213.1.12', '10.213.1.13'], 156, true],
      [1, ['10.213.1.14', '10.213.1.15', '10.213.1.16'], 0, true],
      [2, ['10.213.1.17', '10.213.1.18', '10.213.1.19'], 131, true],
      [3, ['10.213.1.20', '10.213.1.21', '10.213.1.22'], 245, true],
    ]);
    expect(report.migrations.filter((m) => m.result === 'ok').map((m) => m.client)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    expect(report.headline).toBe(
      'linkable by identifiers: 0 of 12; by timing: 12 of 12 (window 100 ms, at server); by timing + volume: 9 of 12 (at server, precision 0.90)',
    );
    expect(report.linking.best.timing).toMatchObject({ flows: 16, links: 12, correct: 12, candidates: 2.21 });
    expect(report.linking.best['timing+volume']).toMatchObject({ links: 10, correct: 9, precision: 0.9, recall: 0.75 });
    // With several clients, goodput is by client.
    expect(new Set(report.goodput.bins.map((b) => b.path))).toEqual(new Set(['client 0', 'client 1', 'client 2', 'client 3']));
    expect(summaryLines(report)[0]).toBe('rotate-ips (hard) on quiche-152.0.7977.83-128ceba3f8fd-linux-x64, 4 clients');
  });

  it('three clients on two paths: an observer inside the tunnel links two flows of different clients', async () => {
    const report = analyseRun(await recorded('two-paths-3-clients'));
    expect(scoreTable(report)).toMatchObject({ 'timing tunnel': [1, 0, 0], 'timing server': [9, 9, 9] });
    expect(report.linking.scores.find((s) => s.model === 'timing' && s.observer === 'tunnel')).toMatchObject({ precision: 0, recall: 0 });
  });

  it('a wider timing window changes the rule in the report and the links', async () => {
    const raw = await recorded('rotate-ips-4-clients');
    const wide = analyseRun(raw, { windowMs: 400 });
    expect(wide.linking.rules.timing).toMatch(/no more than 400 ms apart/);
    expect(wide.linking.best.timing!.candidates).toBeGreaterThan(analyseRun(raw).linking.best.timing!.candidates!);
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
function madeUpRun(newServerCid: string, client: Partial<RawRun['clients'][number]> = {}): RawRun {
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
    settings: {
      intervalMs: 500,
      rateMbit: 40,
      delayMs: 0,
      responseBytes: 3000,
      rates: { link: 40 },
      clients: 1,
      quietMs: 0,
      jitterMs: 0,
      seed: 7,
    },
    startedAt: new Date(T - 1000).toISOString(),
    endedAt: new Date(T + 2000).toISOString(),
    artifact: {
      name: 'a',
      fingerprint: 'f',
      build: 'c',
      backend: 'chromium',
      revisions: { src: 's', quiche: 'q' },
      patchset: 'p',
      dir: 'out/artifact',
    },
    topology: {
      clientNs: 'bqlabc123-client',
      serverNs: 'bqlabc123-server',
      paths: ['10.213.1.11', '10.213.1.12'].map((a) => ({ client: 0, name: a, localAddress: a, link: 'link' })),
      wireguard: null,
      netem: 'available',
    },
    captures: [{ point: { link: 'link', ns: 'bqlabc123-client', iface: 'bqlabc123c0', goodput: true }, pcap: 'out/link.pcap', packets }],
    clients: [
      {
        addresses: ['10.213.1.11', '10.213.1.12'],
        phaseMs: 0,
        lines: [
          `MIGRATION seq=1 trigger=timer mode=hard from=${OLD} to=${NEW} server_cid=a0a0->${newServerCid} result=ok t_ms=500 took_ms=2 quiet_ms=150`,
          'Request succeeded (200).',
        ],
        exitCode: 0,
        ...client,
      },
    ],
    serverLines: [`PEER_MIGRATION conn=a0a0 from=${OLD} to=${NEW} type=IPV4_SUBNET_CHANGE server_cid=a0a0->${newServerCid} validated=yes`],
    host: { cpus: 2, busy: 0.3, peak: 0.5 },
    notes: [],
    files: { clientLog: 'out/client.log', clientLogs: ['out/client.log'], serverLog: 'out/server.log', labLog: 'out/lab.log' },
  };
}

describe('analyseRun on made-up runs', () => {
  it('a migration to fresh connection IDs on a new address and port is not linkable by identifiers; the CIDs were checked', () => {
    const report = analyseRun(madeUpRun('b1b1'));
    expect(report.linkable).toEqual([
      {
        client: 0,
        seq: 1,
        linkable: false,
        by: [],
        observersSeeingBoth: ['link'],
        cidChecked: true,
        // The old flow's last packet is 350 ms before the new one's first: beyond the 100 ms window.
        linkedBy: { identifiers: [], timing: [], 'timing+volume': [] },
      },
    ]);
    expect(report.cidReuse).toEqual([]);
    expect(report.notes).toEqual([]);
    expect(report.migrations[0]).toMatchObject({ serverCid: { old: 'a0a0', new: 'b1b1' }, tookMs: 2, quietMs: 150, seenByServer: true });
    expect(report.headline).toBe('linkable by identifiers: 0 of 1; by timing: 0 of 1 (window 100 ms); by timing + volume: 0 of 1');
  });

  it('a window wide enough for the gap links it by timing', () => {
    const report = analyseRun(madeUpRun('b1b1'), { windowMs: 400 });
    expect(report.linkable[0]!.linkedBy.timing).toEqual(['link']);
    expect(report.headline).toMatch(/by timing: 1 of 1 \(window 400 ms, at link\)/);
  });

  it('a connection ID used on both paths links them and is flagged as reuse', () => {
    const report = analyseRun(madeUpRun('a0a0'));
    expect(report.linkable[0]).toMatchObject({ linkable: true, by: ['connection-id'], linkedBy: { identifiers: ['link'] } });
    expect(report.cidReuse).toEqual([{ dcid: 'a0a0', fourTuples: [OLD, NEW] }]);
    expect(report.headline).toMatch(/^linkable by identifiers: 1 of 1 \(at link\)/);
  });

  it('a download that did not complete is noted, with the client exit code and its log', () => {
    const report = analyseRun(madeUpRun('b1b1', { lines: ['Failed to connect'], exitCode: 1 }));
    expect(report.client).toEqual({ exitCode: 1, requestSucceeded: false, summary: null });
    expect(report.migrations).toEqual([]);
    expect(report.notes).toEqual(['the download did not complete (client exit 1); see out/client.log']);
  });

  it('without captured packets, time 0 is the start of the run, the goodput is empty and no observer has a flow', () => {
    const raw = madeUpRun('b1b1');
    const report = analyseRun({ ...raw, captures: raw.captures.map((c) => ({ ...c, packets: [] })) });
    expect(report.goodput).toEqual({ binMs: 100, bins: [], totalBytes: 0, activeMs: 0, meanMbit: 0 });
    expect(report.perPathBytes).toEqual([]);
    expect(report.notes).toEqual([NO_CIDS_NOTE]);
    expect(report.linking.best).toEqual({ identifiers: null, timing: null, 'timing+volume': null });
  });

  it('a busy host is reported as the limit', () => {
    const report = analyseRun({ ...madeUpRun('b1b1'), host: { cpus: 2, busy: 0.93, peak: 1 } });
    expect(report.host).toEqual({ cpus: 2, busy: 0.93, peak: 1, limited: true });
    expect(report.notes.at(-1)).toMatch(/^the host was the limit: its 2 CPU\(s\) were 93% busy/);
  });

  it('the truth: each client its addresses (interfaces and ports dropped) and its successful moves', () => {
    const raw = madeUpRun('b1b1');
    raw.clients[0]!.addresses = ['10.213.1.11', '10.213.9.2%bqlabcwc'];
    raw.clients[0]!.lines.push(
      `MIGRATION seq=2 trigger=timer mode=hard from=${NEW} to=10.213.9.2:0%bqlabcwc server_cid=b1b1->b1b1 result=failed`,
    );
    expect(truthOf(raw)).toEqual({ clients: [{ addresses: ['10.213.1.11', '10.213.9.2'], migrations: [{ from: OLD, to: NEW }] }] });
  });
});

describe('the headline', () => {
  it('names the window, the best observer when it linked any, and a precision below 1', () => {
    const score = (model: string, observer: string, linked: number, links: number, precision: number | null) => ({
      model,
      observer,
      flows: 9,
      links,
      correct: 0,
      migrations: 5,
      visible: 5,
      linked,
      precision,
      recall: linked / 5,
      candidates: null,
    });
    const linking = {
      options: { windowMs: 50, volumeSpanMs: 500, rateFactor: 2, sizeTolerance: 0.2 },
      rules: { identifiers: '', timing: '', 'timing+volume': '' },
      observers: [],
      scores: [],
      best: {
        identifiers: score('identifiers', 'server', 0, 2, 1),
        timing: score('timing', 'server', 5, 6, 0.83),
        'timing+volume': score('timing+volume', 'link', 4, 4, 1),
      },
    } as unknown as Parameters<typeof headlineOf>[0];
    expect(headlineOf(linking, 5)).toBe(
      'linkable by identifiers: 0 of 5; by timing: 5 of 5 (window 50 ms, at server, precision 0.83); by timing + volume: 4 of 5 (at link)',
    );
  });
});

describe('goodput and bytes per path', () => {
  const pathOf = pathNamer('rotate-ips', [{ client: 0, name: '10.213.1.11', localAddress: '10.213.1.11', link: 'link' }]);

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
      { client: 0, name: 'direct', localAddress: '10.213.1.2', link: 'direct' },
      { client: 0, name: 'wireguard', localAddress: '10.213.9.2%bqlabcwc', link: 'tunnel' },
    ]);
    expect(['10.213.1.2:4000', '10.213.9.2:4001', '10.213.7.7:4002'].map(twoPaths)).toEqual(['direct', 'wireguard', '10.213.7.7']);
    expect(pathNamer('rebind-port', [])('10.213.1.11:5555')).toBe('port 5555');
  });
});
