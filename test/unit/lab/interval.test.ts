import { describe, expect, it } from 'vitest';
import { formatInterval, medianInterval } from '../../../src/lab/interval.js';

describe('the median and its interval over K runs', () => {
  it('five runs: [min, max], which holds the median with probability 1 - 2/32', () => {
    expect(medianInterval([3, 1, 2, 5, 4])).toEqual({ n: 5, median: 3, low: 1, high: 5, coverage: 0.938 });
  });

  it('ten runs: the second smallest to the second largest (97.9%); 20 runs narrower still', () => {
    expect(medianInterval([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual({ n: 10, median: 5.5, low: 2, high: 9, coverage: 0.979 });
    const twenty = medianInterval(Array.from({ length: 20 }, (_, i) => i + 1));
    expect([twenty.low, twenty.high, twenty.coverage]).toEqual([6, 15, 0.959]);
  });

  it('too few runs for 95%: [min, max] with the coverage it has; one run: no interval', () => {
    expect(medianInterval([0.5, 1, 0.75])).toEqual({ n: 3, median: 0.75, low: 0.5, high: 1, coverage: 0.75 });
    expect(medianInterval([0.4])).toEqual({ n: 1, median: 0.4, low: 0.4, high: 0.4, coverage: 0 });
  });

  it('runs without the quantity (no link made: no precision) are left out; none at all is no median', () => {
    expect(medianInterval([null, 1, undefined, 0.5])).toMatchObject({ n: 2, median: 0.75 });
    expect(medianInterval([null])).toEqual({ n: 0, median: null, low: null, high: null, coverage: 0 });
  });

  it('prints as median [low, high], one value for one run, - for none', () => {
    expect(formatInterval(medianInterval([0.8, 1, 0.9, 0.85, 0.95]))).toBe('0.9 [0.8, 1]');
    expect(formatInterval(medianInterval([12.345]), 1)).toBe('12.3');
    expect(formatInterval(medianInterval([]))).toBe('-');
  });
});
