import { describe, expect, it } from 'vitest';
import { BUNDLED_SERIES } from '../../src/config/load.js';
import { checkPatches } from '../../src/patches/check.js';
import { parseSeries } from '../../src/patches/series.js';

/**
 * The shipped patches/ series. Parsing always runs; applying needs a real quiche clone holding the
 * supported pins (github.com/google/quiche is enough): BUILD_QUICHE_QUICHE_CLONE=<dir>.
 */
const clone = process.env.BUILD_QUICHE_QUICHE_CLONE;
const PINS = {
  '152.0.7977.83': '1ba0d99a5c2fec4f4dbb7f98f251b05dcf4e2968',
  '150.0.7871.114': '997d654308b6a1a17435e472ef5190aecb12e3eb',
  '143.0.7499.169': '42cbfedd76691c19af012a3d717fca07d7b09cc9',
};

describe('the shipped patch series', () => {
  it('parses: every patch is a quiche patch with a subject and a description', async () => {
    const series = await parseSeries(BUNDLED_SERIES);
    expect(series.patches.length).toBeGreaterThan(0);
    for (const patch of series.patches) {
      expect(patch).toMatchObject({ repo: 'quiche', problems: [] });
      expect(patch.subject).not.toBe('');
      expect(patch.description).not.toBe('');
    }
  });

  it.skipIf(!clone).each(Object.entries(PINS))('applies at %s (needs BUILD_QUICHE_QUICHE_CLONE)', async (_version, revision) => {
    const result = await checkPatches({ series: BUNDLED_SERIES, quicheDir: clone!, quicheRev: revision });
    expect(result.report?.problems ?? []).toEqual([]);
  });
});
