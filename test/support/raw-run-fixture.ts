import { readFile, writeFile } from 'node:fs/promises';
import type { RawRun } from '../../src/lab/analyse.js';
import type { Packet } from '../../src/lab/observer.js';

/**
 * A recorded lab run (RawRun) as a fixture file: the same JSON, except that each packet is one short
 * array, so a capture of a few hundred packets stays a few hundred lines (test/lab/record-raw-run.ts
 * writes them, the analysis's unit tests read them).
 */

type PacketRow = [number, string, string, number, number, number, number, boolean, string | null, boolean];

const toRow = (p: Packet): PacketRow => [
  p.epochMs,
  p.src,
  p.dst,
  p.srcPort,
  p.dstPort,
  p.ipBytes,
  p.udpPayload,
  p.shortHeader,
  p.dcid ?? null,
  p.wireguard,
];

const fromRow = ([epochMs, src, dst, srcPort, dstPort, ipBytes, udpPayload, shortHeader, dcid, wireguard]: PacketRow): Packet => ({
  epochMs,
  src,
  dst,
  srcPort,
  dstPort,
  ipBytes,
  udpPayload,
  shortHeader,
  dcid: dcid ?? undefined,
  wireguard,
});

export async function writeRawRunFixture(file: string, raw: RawRun): Promise<void> {
  const rows = { ...raw, captures: raw.captures.map((c) => ({ ...c, packets: c.packets.map(toRow) })) };
  await writeFile(file, `${JSON.stringify(rows, null, 2)}\n`);
}

export async function readRawRunFixture(file: string): Promise<RawRun> {
  const rows = JSON.parse(await readFile(file, 'utf8')) as Omit<RawRun, 'captures'> & {
    captures: Array<Omit<RawRun['captures'][number], 'packets'> & { packets: PacketRow[] }>;
  };
  return { ...rows, captures: rows.captures.map((c) => ({ ...c, packets: c.packets.map(fromRow) })) };
}
