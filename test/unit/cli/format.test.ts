import { describe, expect, it } from 'vitest';
import { formatDuration, ProgressMeter } from '../../../src/cli/render/format.js';

describe('progress formatting', () => {
  it('prints sub-second durations as whole milliseconds', () => {
    expect(formatDuration(269.21052631578954)).toBe('269ms');
  });

  it('prints an ETA under a second without a long fraction', () => {
    const meter = new ProgressMeter();
    meter.describe({ done: 0, total: 21 }, 0);
    // 19 of 21 steps in 2.5 s: 2 steps left at 7.6/s = 263.157...ms
    expect(meter.describe({ done: 19, total: 21 }, 2500)).toBe('[19/21] 90% 7.6/s ETA 263ms');
  });
});
