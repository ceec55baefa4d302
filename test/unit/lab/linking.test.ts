import { describe, expect, it } from 'vitest';
import {
  bestObserver,
  LINKING_DEFAULTS,
  linkObservers,
  linksOf,
  modelRule,
  quicFlows,
  scoreLinks,
  type Flow,
  type Truth,
} from '../../../src/lab/linking.js';
import type { Packet } from '../../../src/lab/observer.js';

/** The observer models on made-up flows: each rule, and the scores against a known truth. */

const SERVER = '10.213.1.1:4433';
const O = LINKING_DEFAULTS;

/** A flow at a steady 1 MB/s of 1000-byte packets unless told otherwise. */
function flow(client: string, firstMs: number, lastMs: number, more: Partial<Flow> = {}): Flow {
  const volume = { bytesPerSecond: 1_000_000, medianSize: 1000 };
  return { client, server: SERVER, firstMs, lastMs, packets: 10, bytes: 10_000, dcids: [], head: volume, tail: volume, ...more };
}

const pairs = (links: Array<{ from: string; to: string }>) => links.map((l) => `${l.from} -> ${l.to}`);

describe('identifiers', () => {
  it('links a flow to the latest earlier flow sharing a connection ID, the client address or the client port', () => {
    const flows = [
      flow('10.0.0.1:1000', 0, 100, { dcids: ['aa'] }),
      flow('10.0.0.2:2000', 100, 200, { dcids: ['aa'] }),
      flow('10.0.0.3:3000', 200, 300),
      flow('10.0.0.3:4000', 300, 400),
      flow('10.0.0.4:4000', 400, 500),
      flow('10.0.0.5:5000', 500, 600),
    ];
    const { links } = linksOf('identifiers', flows, O);
    expect(links.map((l) => [l.from, l.to, l.by])).toEqual([
      ['10.0.0.1:1000', '10.0.0.2:2000', ['connection-id']],
      ['10.0.0.3:3000', '10.0.0.3:4000', ['client-address']],
      ['10.0.0.3:4000', '10.0.0.4:4000', ['client-port']],
    ]);
  });
});

describe('timing', () => {
  it('links the flow whose end is nearest the new start, within the window either way (an overlap counts)', () => {
    const flows = [flow('a:1', 0, 500), flow('b:1', 560, 900), flow('c:1', 850, 1200), flow('d:1', 1400, 1500)];
    const { links } = linksOf('timing', flows, O);
    // b starts 60 ms after a ends; c starts 50 ms before b ends (overlap); d starts 200 ms after c: too late.
    expect(pairs(links)).toEqual(['a:1 -> b:1', 'b:1 -> c:1']);
    expect(links.map((l) => l.gapMs)).toEqual([60, -50]);
  });

  it('gives each flow one predecessor and one successor, nearest pairs first, and counts the candidates', () => {
    const flows = [flow('a:1', 0, 500), flow('b:1', 0, 520), flow('x:1', 530, 900), flow('y:1', 540, 900)];
    const { links, candidates } = linksOf('timing', flows, O);
    // x is nearest b's end (10 ms), so y gets a (40 ms) although b is nearer y too.
    expect(pairs(links).sort()).toEqual(['a:1 -> y:1', 'b:1 -> x:1']);
    expect(Object.fromEntries(candidates!)).toEqual({ 'x:1': 2, 'y:1': 2 });
  });

  it('only links flows to the same server endpoint', () => {
    const flows = [flow('a:1', 0, 500), flow('b:1', 510, 900, { server: '10.213.2.1:51820' })];
    expect(linksOf('timing', flows, O).links).toEqual([]);
  });
});

describe('timing + volume', () => {
  it('keeps only the candidates whose rate and packet sizes match across the switch', () => {
    const slow = { bytesPerSecond: 100_000, medianSize: 1000 };
    const small = { bytesPerSecond: 1_000_000, medianSize: 500 };
    const flows = [
      flow('fast:1', 0, 500),
      flow('slow:1', 0, 505, { tail: slow }),
      flow('new:1', 510, 900),
      flow('newsmall:1', 512, 900, { head: small }),
    ];
    expect(pairs(linksOf('timing', flows, O).links).sort()).toEqual(['fast:1 -> newsmall:1', 'slow:1 -> new:1']);
    // The slow flow's rate (10x lower) and the small packets do not match anything: only fast -> new is left.
    expect(pairs(linksOf('timing+volume', flows, O).links)).toEqual(['fast:1 -> new:1']);
  });

  it('says each rule with its parameters', () => {
    expect(modelRule('timing', O)).toMatch(/no more than 100 ms apart/);
    expect(modelRule('timing+volume', { ...O, rateFactor: 3, sizeTolerance: 0.1 })).toMatch(/within a factor of 3.*differ by at most 10%/);
  });
});

describe('flows from packets', () => {
  const T = 1_800_000_000_000;
  const p = (ms: number, src: string, dst: string, bytes: number, dcid?: string): Packet => {
    const [s, sp] = src.split(':');
    const [d, dp] = dst.split(':');
    return {
      epochMs: T + ms,
      src: s!,
      dst: d!,
      srcPort: Number(sp),
      dstPort: Number(dp),
      ipBytes: bytes,
      udpPayload: bytes - 28,
      shortHeader: !!dcid,
      dcid,
      wireguard: false,
    };
  };

  it('one flow per QUIC 4-tuple, with its connection IDs and the rate and median size at both ends; other UDP is not a flow', () => {
    const packets = [
      p(0, '10.0.0.1:5000', SERVER, 100, 'aa'),
      p(100, SERVER, '10.0.0.1:5000', 1200),
      p(200, SERVER, '10.0.0.1:5000', 1200),
      p(1000, SERVER, '10.0.0.1:5000', 1200),
      p(50, '10.213.2.2:6000', '10.213.2.1:51820', 200),
    ];
    expect(quicFlows(packets, T, 4433, 500)).toEqual([
      {
        client: '10.0.0.1:5000',
        server: SERVER,
        firstMs: 0,
        lastMs: 1000,
        packets: 4,
        bytes: 3700,
        dcids: ['aa'],
        // First 500 ms: 2500 bytes over 200 ms; last 500 ms: one packet, no rate.
        head: { bytesPerSecond: 12_500, medianSize: 1200 },
        tail: { bytesPerSecond: 0, medianSize: 1200 },
      },
    ]);
  });
});

describe('scores against the truth', () => {
  const truth: Truth = {
    clients: [
      { addresses: ['10.0.0.1', '10.0.0.2'], migrations: [{ from: '10.0.0.1:1', to: '10.0.0.2:2' }] },
      { addresses: ['10.0.1.1', '10.0.1.2'], migrations: [{ from: '10.0.1.1:1', to: '10.0.1.2:2' }] },
    ],
  };

  it('precision over the links made, recall over every migration; a link across clients is wrong', () => {
    // Client 1's new flow starts nearer client 0's end than its own: the observer picks wrong for both.
    const flows = [flow('10.0.0.1:1', 0, 500), flow('10.0.1.1:1', 0, 530), flow('10.0.1.2:2', 505, 900), flow('10.0.0.2:2', 535, 900)];
    const score = scoreLinks('timing', 'server', flows, linksOf('timing', flows, O), truth);
    expect(score).toEqual({
      model: 'timing',
      observer: 'server',
      flows: 4,
      links: 2,
      correct: 0,
      migrations: 2,
      visible: 2,
      linked: 0,
      precision: 0,
      recall: 0,
      candidates: 2,
    });
  });

  it('no link: no precision; an observer that saw one side only cannot link the migration', () => {
    const score = scoreLinks('timing', 'direct', [flow('10.0.0.1:1', 0, 500)], { links: [] }, truth);
    expect(score).toMatchObject({ links: 0, precision: null, visible: 0, recall: 0 });
  });

  it('the best observer links most, then is more precise', () => {
    const flows = [flow('10.0.0.1:1', 0, 500), flow('10.0.0.2:2', 510, 900)];
    const { scores } = linkObservers(
      [
        { link: 'direct', flows: flows.slice(0, 1) },
        { link: 'server', flows },
      ],
      truth,
      O,
    );
    expect(bestObserver(scores, 'timing')).toMatchObject({ observer: 'server', linked: 1, recall: 0.5, precision: 1 });
  });
});
