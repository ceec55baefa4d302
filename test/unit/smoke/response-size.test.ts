import { describe, expect, it } from 'vitest';
import { firstResponseBytes, grownResponseBytes, nextProbeBytes, type ShortRun } from '../../../src/smoke/response-size.js';

const idleLoopback: ShortRun = {
  // What the real client did on an idle machine: 20 MB in 350 ms, 60 ms of it start-up.
  bytes: 20_000_000,
  elapsedMs: 350,
  startUpMs: 60,
  intervalMs: 500,
  attempted: 0,
  wanted: 1,
  maxBytes: 1_000_000_000,
};

describe('grownResponseBytes', () => {
  it('sizes the next download to last the wanted intervals at the throughput seen, with margin', () => {
    // 20 MB / 290 ms of transfer, for 2 x 500 ms x 1.5 = 1.5 s: about 103 MB.
    const next = grownResponseBytes(idleLoopback)!;
    expect(next).toBeGreaterThan(100_000_000);
    expect(next).toBeLessThan(110_000_000);
  });

  it('at least doubles, and grows at most 16x when the time of a tiny download is mostly noise', () => {
    expect(grownResponseBytes({ ...idleLoopback, elapsedMs: 1000, startUpMs: 60 })).toBe(40_000_000);
    expect(grownResponseBytes({ ...idleLoopback, bytes: 20_000, elapsedMs: 61, startUpMs: 60 })).toBe(320_000);
  });

  it('stops at the cap, and once the cap was tried', () => {
    expect(grownResponseBytes({ ...idleLoopback, maxBytes: 50_000_000 })).toBe(50_000_000);
    expect(grownResponseBytes({ ...idleLoopback, bytes: 50_000_000, maxBytes: 50_000_000 })).toBeUndefined();
  });

  it('does not grow a run that migrated enough, or one that had time to migrate and did not', () => {
    expect(grownResponseBytes({ ...idleLoopback, attempted: 1 })).toBeUndefined();
    // 60 ms start-up + 1 interval + 500 ms slack = 1060 ms: a client that ran 2 s without migrating does not migrate.
    expect(grownResponseBytes({ ...idleLoopback, elapsedMs: 2000 })).toBeUndefined();
  });
});

describe('the first try of a timed run (smoke.responseBytes auto)', () => {
  it('probes 8x larger until a transfer lasts 50 ms, up to 64 MB', () => {
    expect(nextProbeBytes({ bytes: 1_000_000, transferMs: 13 })).toBe(8_000_000);
    expect(nextProbeBytes({ bytes: 8_000_000, transferMs: 107 })).toBeUndefined();
    expect(nextProbeBytes({ bytes: 1_000_000, transferMs: 60 })).toBeUndefined();
    expect(nextProbeBytes({ bytes: 64_000_000, transferMs: 10 })).toBeUndefined();
    expect(nextProbeBytes({ bytes: 16_000_000, transferMs: 10 })).toBe(64_000_000);
  });

  it('lasts two intervals with a 1.5x margin at the measured rate, between 1 MB and the cap', () => {
    // The idle machine of issue 19: 20 MB in 268-282 ms, about 75 MB/s: 112 MB, as its retries were.
    expect(firstResponseBytes({ throughput: { bytes: 8_000_000, transferMs: 107 }, intervalMs: 500, wanted: 1, maxBytes: 1e9 })).toBe(
      112_149_533,
    );
    // The test world's paced server (10 MB/s) at 200 ms intervals: 6 MB.
    expect(firstResponseBytes({ throughput: { bytes: 1_000_000, transferMs: 100 }, intervalMs: 200, wanted: 1, maxBytes: 1e9 })).toBe(
      6_000_000,
    );
    expect(firstResponseBytes({ throughput: { bytes: 1_000_000, transferMs: 5000 }, intervalMs: 200, wanted: 1, maxBytes: 1e9 })).toBe(
      1_000_000,
    );
    expect(firstResponseBytes({ throughput: { bytes: 64_000_000, transferMs: 0 }, intervalMs: 500, wanted: 1, maxBytes: 1e9 })).toBe(1e9);
  });
});
