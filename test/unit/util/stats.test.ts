import { describe, expect, it } from 'vitest';
import { median, quantile } from '../../../src/util/stats.js';

describe('median and quantile', () => {
  it('interpolate between neighbours of an ascending list, to one decimal', () => {
    expect(median([1, 2, 3, 10])).toBe(2.5);
    expect(quantile([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(quantile([1, 2], 0.9)).toBe(1.9);
    expect(quantile([0, 1], 1 / 3)).toBe(0.3);
  });

  it('are undefined for an empty list', () => {
    expect(median([])).toBeUndefined();
    expect(quantile([], 0.9)).toBeUndefined();
  });
});
