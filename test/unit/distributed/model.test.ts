import { describe, expect, it } from 'vitest';
import { predictBuild, predictPhase, saturationWorkers, type PhaseCosts } from '../../../bench/distcc-model.js';

// Round numbers: 400 units of 4 s here; sent out, 0.5 s of client time and 3.6 s of worker time each.
const quiche: PhaseCosts = { name: 'quiche', units: 400, full: 4, client: 0.5, remote: 3.6, serial: 30 };

describe('the distcc scaling model', () => {
  it('without workers is the local build: units x full / cores + serial', () => {
    expect(predictPhase(quiche, { clientCores: 1, workers: 0 }).seconds).toBeCloseTo(30 + 1600 + 4, 5);
    expect(predictPhase(quiche, { clientCores: 2, workers: 0 }).seconds).toBeCloseTo(30 + 800 + 4, 5);
  });

  it('one worker core: the client feeds it and compiles with what is left', () => {
    const p = predictPhase(quiche, { clientCores: 1, workers: 1 });
    // r = 1/3.6 units/s out; the client spends r*0.5 of its core on them, the rest compiles here at 1/4.
    const r = 1 / 3.6;
    const l = (1 - r * 0.5) / 4;
    expect(p.remoteRate).toBeCloseTo(r, 9);
    expect(p.localRate).toBeCloseTo(l, 9);
    expect(p.bound).toBe('workers');
    expect(1630 / (p.seconds - 4)).toBeGreaterThan(1.6);
  });

  it('stops scaling where the client cannot feed more workers; the serial steps are the floor', () => {
    expect(saturationWorkers([quiche], 1)).toBeCloseTo(7.2, 5);
    const at = (n: number) => predictBuild([quiche], { clientCores: 1, workers: n }).seconds;
    expect(at(4)).toBeLessThan(at(2));
    expect(at(8)).toBeCloseTo(at(32), 5);
    expect(predictPhase(quiche, { clientCores: 1, workers: 32 }).bound).toBe('client');
    expect(at(32)).toBeGreaterThan(30 + 400 * 0.5);
  });
});
