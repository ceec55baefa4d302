import { writeFile } from 'node:fs/promises';

/**
 * A pcap of UDP datagrams in QUIC v1's wire format (RFC 9000 section 17: long-header Initials with
 * their connection IDs, short-header 1-RTT packets), for testing the observer analysis on tshark's
 * QUIC dissector where no QUIC stack is at hand. Payloads are random: nothing decrypts, as for a
 * real on-path observer without keys.
 */

export interface Datagram {
  ms: number;
  from: string;
  to: string;
  payload: Buffer;
}

const rand = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 73 + n * 31 + 17) & 0xff));

export function initial(dcid: string, scid: string, size = 1200): Buffer {
  const d = Buffer.from(dcid, 'hex');
  const s = Buffer.from(scid, 'hex');
  const head = Buffer.concat([Buffer.from([0xc3, 0, 0, 0, 1, d.length]), d, Buffer.from([s.length]), s, Buffer.from([0])]);
  const rest = size - head.length - 2;
  return Buffer.concat([head, Buffer.from([0x40 | (rest >> 8), rest & 0xff]), rand(rest)]);
}

export function shortHeader(dcid: string, size = 1000): Buffer {
  return Buffer.concat([Buffer.from([0x41]), Buffer.from(dcid, 'hex'), rand(size - 1 - dcid.length / 2)]);
}

function ipv4Udp(from: string, to: string, payload: Buffer): Buffer {
  const [srcIp, srcPort] = from.split(':');
  const [dstIp, dstPort] = to.split(':');
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(17, 9);
  Buffer.from(srcIp!.split('.').map(Number)).copy(ip, 12);
  Buffer.from(dstIp!.split('.').map(Number)).copy(ip, 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(Number(srcPort), 0);
  udp.writeUInt16BE(Number(dstPort), 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([ip, udp, payload]);
}

/** LINKTYPE_RAW (101): each record is a bare IPv4 packet. */
export async function writePcap(file: string, datagrams: Datagram[], startEpochS = 1_800_000_000): Promise<void> {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(101, 20);
  const records = datagrams.map((d) => {
    const packet = ipv4Udp(d.from, d.to, d.payload);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(startEpochS + Math.floor(d.ms / 1000), 0);
    rec.writeUInt32LE(Math.round((d.ms % 1000) * 1000), 4);
    rec.writeUInt32LE(packet.length, 8);
    rec.writeUInt32LE(packet.length, 12);
    return Buffer.concat([rec, packet]);
  });
  await writeFile(file, Buffer.concat([header, ...records]));
}
