import { describe, expect, it } from 'vitest';
import { runCli } from '../../../src/cli/main.js';
import { BUNDLED_SERIES } from '../../../src/config/load.js';
import { parseSeries } from '../../../src/patches/series.js';

/**
 * The shipped patches/ series. Parsing always runs. Applying needs a real quiche clone that holds
 * the supported pins (a clone of github.com/google/quiche is enough): QUICHE_DIR=<clone> npm test.
 */
const quicheDir = process.env.QUICHE_DIR;
const PINS = {
  '152.0.7977.83': '1ba0d99a5c2fec4f4dbb7f98f251b05dcf4e2968',
  '150.0.7871.114': '997d654308b6a1a17435e472ef5190aecb12e3eb',
  '143.0.7499.169': '42cbfedd76691c19af012a3d717fca07d7b09cc9',
};

if (!quicheDir) {
  console.warn('SKIPPED: `patches check` against real quiche (set QUICHE_DIR=<quiche clone> to run it).');
}

describe('the shipped patch series', () => {
  it('parses: every patch is a quiche patch with a subject and a description', async () => {
    const series = await parseSeries(BUNDLED_SERIES);
    expect(series.patches.map((p) => p.name)).toEqual(['0001-client-intentional-migration.patch', '0002-server-migration-log.patch']);
    for (const patch of series.patches) {
      expect(patch).toMatchObject({ repo: 'quiche', problems: [] });
      expect(patch.subject).not.toBe('');
      expect(patch.description).toMatch(/Relies on quiche APIs/);
    }
  });

  it.skipIf(!quicheDir).each(Object.entries(PINS))(
    '`patches check --quiche` passes at %s (needs QUICHE_DIR)',
    async (_version, revision) => {
      const out: string[] = [];
      const io = { stdout: (l: string) => out.push(l), stderr: (l: string) => out.push(l), isTTY: false, env: {} };
      const code = await runCli(['patches', 'check', '--quiche', quicheDir!, '--rev', revision], io);
      expect(out.join('\n')).not.toMatch(/does not apply/);
      expect(code).toBe(0);
    },
  );
});
