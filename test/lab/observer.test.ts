import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LINKING_DEFAULTS, linksOf, quicFlows } from '../../src/lab/linking.js';
import { cidReuse, linkability, observerView, readCaptures, readPackets } from '../../src/lab/observer.js';
import type { MigrationRecord } from '../../src/lab/types.js';
import { workspace } from '../../testkit/world.js';
import { initial, shortHeader, writePcap, type Datagram } from '../support/quic-pcap.js';

const SERVER = '10.213.1.1:4433';
const OLD = '10.213.1.11:40000';
const NEW = '10.213.1.12:40001';
const PORTS = { quic: 4433, wireguard: 51820 };
const CLIENT_CID = 'c1c1c1c1c1c1c1c1';
const SERVER_CIDS = ['a0a0a0a0a0a0a0a0', 'b1b1b1b1b1b1b1b1'];

/** A handshake on OLD, data both ways, then a migration to NEW that uses `newServerCid`. */
function connection(newServerCid: string, newClientCid: string): Datagram[] {
  const d: Datagram[] = [
    { ms: 0, from: OLD, to: SERVER, payload: initial('0102030405060708', CLIENT_CID) },
    { ms: 1, from: SERVER, to: OLD, payload: initial(CLIENT_CID, SERVER_CIDS[0]!) },
  ];
  for (let i = 0; i < 5; i++)
    d.push(
      { ms: 10 + i, from: SERVER, to: OLD, payload: shortHeader(CLIENT_CID) },
      { ms: 10 + i, from: OLD, to: SERVER, payload: shortHeader(SERVER_CIDS[0]!, 60) },
    );
  for (let i = 0; i < 5; i++)
    d.push(
      { ms: 500 + i, from: NEW, to: SERVER, payload: shortHeader(newServerCid, 60) },
      { ms: 500 + i, from: SERVER, to: NEW, payload: shortHeader(newClientCid) },
    );
  return d;
}

const migration: MigrationRecord = {
  client: 0,
  seq: 1,
  t_ms: 500,
  from: OLD,
  to: NEW,
  serverCid: { old: SERVER_CIDS[0]!, new: SERVER_CIDS[1]! },
  result: 'ok',
  tookMs: 1,
  fromPath: '10.213.1.11',
  toPath: '10.213.1.12',
  seenByServer: true,
};

describe('observer view from QUIC-format captures, dissected by tshark', () => {
  let ws: { dir: string; remove(): Promise<void> };
  beforeAll(async () => {
    ws = await workspace('bq-lab-observer-');
  });
  afterAll(async () => ws.remove());

  async function view(name: string, datagrams: Datagram[]) {
    const pcap = path.join(ws.dir, `${name}.pcap`);
    await writePcap(pcap, datagrams);
    const packets = await readPackets(pcap, PORTS.quic);
    return observerView('link', 'test', pcap, packets, Math.min(...packets.map((p) => p.epochMs)), PORTS);
  }

  test('lists each 4-tuple with its short-header DCIDs, including the fresh ones tshark cannot attribute by itself', async () => {
    const observer = await view('fresh', connection(SERVER_CIDS[1]!, 'c2c2c2c2c2c2c2c2'));
    expect(observer.quicDissected).toBe(true);
    const byClient = Object.fromEntries(observer.fourTuples.map((t) => [t.client, t.dcids.sort()]));
    expect(byClient).toEqual({ [OLD]: [SERVER_CIDS[0], CLIENT_CID].sort(), [NEW]: [SERVER_CIDS[1], 'c2c2c2c2c2c2c2c2'].sort() });
    expect(observer.packets).toBe(22);
  });

  test('a link that only carried the connection after a migration gets its DCIDs from the CID lengths another capture saw in the handshake', async () => {
    const all = connection(SERVER_CIDS[1]!, 'c2c2c2c2c2c2c2c2');
    const onlyNew = all.filter((d) => d.from === NEW || d.to === NEW);
    const [handshakePcap, newPathPcap] = [path.join(ws.dir, 'all.pcap'), path.join(ws.dir, 'new-path.pcap')];
    await writePcap(handshakePcap, all);
    await writePcap(newPathPcap, onlyNew);
    // Alone, the new path's capture cannot tell where a short header's DCID ends.
    expect((await readPackets(newPathPcap, PORTS.quic)).filter((p) => p.dcid)).toEqual([]);
    const [, newPath] = await readCaptures([handshakePcap, newPathPcap], PORTS.quic);
    expect([...new Set(newPath!.map((p) => p.dcid))].sort()).toEqual([SERVER_CIDS[1], 'c2c2c2c2c2c2c2c2'].sort());
  });

  test('a migration to fresh connection IDs on a new address and port is not linkable; the shared observer is named', async () => {
    const observer = await view('fresh2', connection(SERVER_CIDS[1]!, 'c2c2c2c2c2c2c2c2'));
    expect(linkability([migration], [observer])).toEqual([
      { client: 0, seq: 1, linkable: false, by: [], observersSeeingBoth: ['link'], cidChecked: true },
    ]);
    expect(cidReuse([observer])).toEqual([]);
  });

  test('a connection ID used on both paths links them and is flagged as reuse', async () => {
    const observer = await view('reused', connection(SERVER_CIDS[1]!, CLIENT_CID));
    expect(linkability([migration], [observer])[0]).toMatchObject({ linkable: true, by: ['connection-id'] });
    expect(cidReuse([observer])).toEqual([{ dcid: CLIENT_CID, fourTuples: [OLD, NEW] }]);
  });

  test('the observer models on a dissected capture: a reused connection ID links by identifiers, a new 4-tuple right after the old one by timing', async () => {
    const pcap = path.join(ws.dir, 'models.pcap');
    // connection(): the old 4-tuple's last packet at 14 ms, the new one's first at 500 ms; move the new one up to 40 ms.
    await writePcap(
      pcap,
      connection(SERVER_CIDS[1]!, CLIENT_CID).map((d) => (d.ms >= 500 ? { ...d, ms: d.ms - 460 } : d)),
    );
    const packets = await readPackets(pcap, PORTS.quic);
    const flows = quicFlows(packets, Math.min(...packets.map((p) => p.epochMs)), PORTS.quic, LINKING_DEFAULTS.volumeSpanMs);
    expect(flows.map((f) => [f.client, f.firstMs, f.lastMs])).toEqual([
      [OLD, 0, 14],
      [NEW, 40, 44],
    ]);
    expect(linksOf('identifiers', flows, LINKING_DEFAULTS).links).toEqual([{ from: OLD, to: NEW, gapMs: 26, by: ['connection-id'] }]);
    expect(linksOf('timing', flows, LINKING_DEFAULTS).links).toEqual([{ from: OLD, to: NEW, gapMs: 26 }]);
  });
});
