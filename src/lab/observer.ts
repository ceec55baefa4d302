import { exec } from '../process/exec.js';
import type { LogFile } from '../process/log-file.js';
import type { FourTupleStats, GoodputBin, Linkability, MigrationRecord, ObserverView } from './types.js';

/**
 * What an on-path observer sees, read from the captures by a real dissector (tshark's fields
 * output): per link the 4-tuples, the destination connection IDs of short-header QUIC packets,
 * bytes and packets; and from those, whether a migration could be linked to the path before it.
 */

export interface Packet {
  epochMs: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  ipBytes: number;
  udpPayload: number;
  shortHeader: boolean;
  dcid: string | undefined;
  wireguard: boolean;
}

const FIELDS = [
  'frame.number',
  'frame.time_epoch',
  'ip.src',
  'udp.srcport',
  'ip.dst',
  'udp.dstport',
  'ip.len',
  'udp.length',
  'quic.header_form',
  'quic.dcid',
  'quic.scid',
  'wg.type',
];

/** tshark's fields output, one line per packet, streamed (a capture can be millions of lines). */
async function tsharkFields(
  pcap: string,
  args: string[],
  fields: string[],
  onRow: (row: string[]) => void,
  signal?: AbortSignal,
): Promise<void> {
  await exec(
    'tshark',
    ['-r', pcap, '-n', ...args, '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])],
    {
      signal,
      env: { LC_ALL: 'C' },
      captureStdout: false,
      onLine: (line, stream) => {
        if (stream === 'stdout') onRow(line.split('\t'));
      },
    },
  );
}

const hexOf = (field: string | undefined) => (field ? field.replace(/:/g, '') : undefined);

/** Connection ID lengths learned from long headers' source CIDs, by direction. */
export interface CidLengths {
  /** The server's CIDs: what the client sends to. */
  toServer?: number;
  toClient?: number;
}

export async function readPackets(
  pcap: string,
  quicPort: number,
  options: { log?: LogFile; signal?: AbortSignal; cidLengths?: CidLengths } = {},
): Promise<Packet[]> {
  return (await readCapture(pcap, quicPort, options)).packets;
}

/**
 * Every capture of one run: a link that only carried the connection after a migration (the second
 * path, the tunnel) never saw a long header, so on its own it cannot tell where a short header's DCID
 * ends. The observers are then taken as colluding, which is the threat MIMIQ is about: the CID lengths
 * one capture learned from the handshake attribute the others' short headers.
 */
export async function readCaptures(
  pcaps: string[],
  quicPort: number,
  options: { log?: LogFile; signal?: AbortSignal } = {},
): Promise<Packet[][]> {
  // One tshark per capture, side by side: most of their time is start-up.
  const first = await Promise.all(pcaps.map((pcap) => readCapture(pcap, quicPort, options)));
  const known: CidLengths = {};
  for (const { learned } of first) {
    known.toServer ??= learned.toServer;
    known.toClient ??= learned.toClient;
  }
  return Promise.all(
    first.map(async (capture, index) => {
      const lacking = capture.packets.some((p) => p.shortHeader && !p.dcid);
      const ownLengths = capture.learned.toServer !== undefined || capture.learned.toClient !== undefined;
      if (!lacking || ownLengths || (known.toServer === undefined && known.toClient === undefined)) return capture.packets;
      options.log?.write(`tshark: ${pcaps[index]!}: no handshake here; CID lengths from the other captures`);
      return (await readCapture(pcaps[index]!, quicPort, { ...options, cidLengths: known })).packets;
    }),
  );
}

async function readCapture(
  pcap: string,
  quicPort: number,
  options: { log?: LogFile; signal?: AbortSignal; cidLengths?: CidLengths },
): Promise<{ packets: Packet[]; learned: CidLengths }> {
  const decodeAs = ['-d', `udp.port==${quicPort},quic`];
  const packets = new Map<number, Packet>();
  const learned: CidLengths = {};
  await tsharkFields(
    pcap,
    decodeAs,
    FIELDS,
    ([frame, time, src, sport, dst, dport, iplen, udplen, form, dcid, scid, wg]) => {
      if (!frame || !time || !src || !sport || !dst || !dport) return;
      const packet: Packet = {
        epochMs: Number(time) * 1000,
        src,
        dst,
        srcPort: Number(sport),
        dstPort: Number(dport),
        ipBytes: Number(iplen) || 0,
        udpPayload: Math.max(0, (Number(udplen) || 8) - 8),
        shortHeader: form === '0',
        dcid: form === '0' ? hexOf(dcid) : undefined,
        wireguard: Boolean(wg),
      };
      if (form === '1' && scid) learned[packet.srcPort === quicPort ? 'toServer' : 'toClient'] = hexOf(scid)!.length / 2;
      packets.set(Number(frame), packet);
    },
    options.signal,
  );
  const cidLength: CidLengths = {
    toServer: learned.toServer ?? options.cidLengths?.toServer,
    toClient: learned.toClient ?? options.cidLengths?.toClient,
  };

  // tshark attributes a short header only to connection IDs it has seen; the ones a migration moves
  // to travel encrypted (NEW_CONNECTION_ID), so without keys it leaves their DCID blank. An on-path
  // observer knows the length from the handshake: the DCID is the bytes after the first one.
  const unattributed = [...packets.values()].some((p) => p.shortHeader && !p.dcid);
  if (unattributed && (cidLength.toServer !== undefined || cidLength.toClient !== undefined)) {
    await tsharkFields(
      pcap,
      [...decodeAs, '-Y', 'quic.header_form == 0 && !quic.dcid'],
      ['frame.number', 'udp.payload'],
      ([frame, payload]) => {
        const packet = packets.get(Number(frame));
        if (!packet || !payload) return;
        const bytes = payload.replace(/:/g, '');
        const first = parseInt(bytes.slice(0, 2), 16);
        // Short header (form bit 0) with the fixed bit set: RFC 9000 17.3.
        if ((first & 0xc0) !== 0x40) return;
        const length = packet.dstPort === quicPort ? cidLength.toServer : cidLength.toClient;
        if (length) packet.dcid = bytes.slice(2, 2 + length * 2);
      },
      options.signal,
    );
  }
  options.log?.write(`tshark: ${pcap}: ${packets.size} packet(s)`);
  return { packets: [...packets.values()], learned };
}

export interface Endpoints {
  client: string;
  server: string;
  fromServer: boolean;
}

/** Which end is the server: the one on a known server port (QUIC, WireGuard), else the lower port. */
export function endpointsOf(p: Packet, serverPorts: number[]): Endpoints {
  const src = `${p.src}:${p.srcPort}`;
  const dst = `${p.dst}:${p.dstPort}`;
  const srcIsServer = serverPorts.includes(p.srcPort) || (!serverPorts.includes(p.dstPort) && p.srcPort < p.dstPort);
  return srcIsServer ? { client: dst, server: src, fromServer: true } : { client: src, server: dst, fromServer: false };
}

export function observerView(
  link: string,
  capturedAt: string,
  pcap: string,
  packets: Packet[],
  t0: number,
  ports: { quic: number; wireguard: number },
): ObserverView {
  const tuples = new Map<string, FourTupleStats & { dcidSet: Set<string> }>();
  let bytes = 0;
  for (const p of packets) {
    const ends = endpointsOf(p, [ports.quic, ports.wireguard]);
    const key = `${ends.client} ${ends.server}`;
    const serverPort = Number(ends.server.split(':').pop());
    let entry = tuples.get(key);
    if (!entry) {
      const kind = serverPort === ports.quic ? 'quic' : p.wireguard || serverPort === ports.wireguard ? 'wireguard' : 'other';
      entry = {
        client: ends.client,
        server: ends.server,
        packets: 0,
        bytes: 0,
        kind,
        firstMs: p.epochMs - t0,
        lastMs: p.epochMs - t0,
        dcids: [],
        dcidSet: new Set(),
      };
      tuples.set(key, entry);
    }
    entry.packets++;
    entry.bytes += p.ipBytes;
    entry.lastMs = p.epochMs - t0;
    if (p.shortHeader && p.dcid) entry.dcidSet.add(p.dcid);
    bytes += p.ipBytes;
  }
  const fourTuples = [...tuples.values()].map(({ dcidSet, ...t }) => ({
    ...t,
    firstMs: round(t.firstMs),
    lastMs: round(t.lastMs),
    dcids: [...dcidSet],
  }));
  const dcids = [...new Set(fourTuples.flatMap((t) => t.dcids))];
  return { link, capturedAt, pcap, fourTuples, dcids, bytes, packets: packets.length, quicDissected: dcids.length > 0 };
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Server-to-client QUIC payload per time bin and path, from the client-side captures. */
export function goodputBins(
  packets: Packet[],
  t0: number,
  quicPort: number,
  binMs: number,
  pathOf: (clientEndpoint: string) => string,
): GoodputBin[] {
  const bins = new Map<string, GoodputBin>();
  for (const p of packets) {
    if (p.srcPort !== quicPort) continue;
    const bin = Math.floor((p.epochMs - t0) / binMs) * binMs;
    const path = pathOf(`${p.dst}:${p.dstPort}`);
    const key = `${bin} ${path}`;
    const entry = bins.get(key) ?? { t_ms: bin, path, bytesPerSecond: 0 };
    entry.bytesPerSecond += (p.udpPayload * 1000) / binMs;
    bins.set(key, entry);
  }
  return [...bins.values()].sort((a, b) => a.t_ms - b.t_ms || a.path.localeCompare(b.path));
}

/** An endpoint's host and port ("10.0.0.2:4433"). */
export const hostOf = (endpoint: string) => endpoint.replace(/:\d+$/, '');
export const portOf = (endpoint: string) => endpoint.split(':').pop();

/**
 * For each migration: could an observer tie the new path to the old one by an identifier? The client
 * address (same IP), the client port (same port), or a connection ID seen on both 4-tuples, with every
 * observer's connection IDs pooled. The observers that saw both 4-tuples are listed; what they can do
 * with timing and volume is the observer models' part (src/lab/linking.ts).
 */
export function linkability(migrations: MigrationRecord[], observers: ObserverView[]): Array<Omit<Linkability, 'linkedBy'>> {
  const dcidsByClient = new Map<string, Set<string>>();
  for (const o of observers) {
    for (const t of o.fourTuples) {
      const set = dcidsByClient.get(t.client) ?? new Set<string>();
      for (const d of t.dcids) set.add(d);
      dcidsByClient.set(t.client, set);
    }
  }
  return migrations
    .filter((m) => m.result === 'ok')
    .map((m) => {
      const from = m.from.replace(/%.*$/, '');
      const to = m.to.replace(/%.*$/, '');
      const by: string[] = [];
      if (hostOf(from) === hostOf(to)) by.push('client-address');
      if (portOf(from) === portOf(to)) by.push('client-port');
      const oldIds = dcidsByClient.get(from) ?? new Set<string>();
      const newIds = dcidsByClient.get(to) ?? new Set<string>();
      if ([...newIds].some((d) => oldIds.has(d))) by.push('connection-id');
      const observersSeeingBoth = observers
        .filter((o) => o.fourTuples.some((t) => t.client === from) && o.fourTuples.some((t) => t.client === to))
        .map((o) => o.link);
      return {
        client: m.client,
        seq: m.seq,
        linkable: by.length > 0,
        by,
        observersSeeingBoth,
        cidChecked: oldIds.size > 0 && newIds.size > 0,
      };
    });
}

/** A destination connection ID seen on more than one client 4-tuple: the paths are linkable by it. */
export function cidReuse(observers: ObserverView[]): Array<{ dcid: string; fourTuples: string[] }> {
  const byDcid = new Map<string, Set<string>>();
  for (const o of observers) {
    for (const t of o.fourTuples) {
      if (t.kind !== 'quic') continue;
      for (const d of t.dcids) byDcid.set(d, (byDcid.get(d) ?? new Set()).add(t.client));
    }
  }
  return [...byDcid.entries()].filter(([, tuples]) => tuples.size > 1).map(([dcid, tuples]) => ({ dcid, fourTuples: [...tuples].sort() }));
}
