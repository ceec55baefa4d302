import { describe, expect, it } from 'vitest';
import { checkPatches } from '../../../src/patches/check.js';
import { gitRevisionSource } from '../../../src/patches/sources.js';
import { LEGACY, makePatch, tempDir, useQuiche, writeSeries } from '../../support/patch-repos.js';

const fixture = useQuiche();

describe('patches check', () => {
  it('passes a series that applies to a local quiche clone at its HEAD', async () => {
    const series = await writeSeries(await tempDir(), [{ name: '0001-flag.patch', content: fixture.patches.clientFlag }]);
    const result = await checkPatches({ series, sources: { quiche: await gitRevisionSource(fixture.quiche.dir) } });
    expect(result).toMatchObject({ ok: true, checked: ['0001-flag.patch'], skipped: [], report: undefined });
    expect(result.text).toMatch(/^1 of 1 patch in .* applies to .* at HEAD \([0-9a-f]{12}\)/);
  });

  it('checks at a given revision of the clone', async () => {
    const series = await writeSeries(await tempDir(), [{ name: '0001-legacy.patch', content: fixture.patches.legacy }]);
    expect(
      (await checkPatches({ series, sources: { quiche: await gitRevisionSource(fixture.quiche.dir, fixture.quiche.oldPin) } })).ok,
    ).toBe(true);
    const atHead = await checkPatches({ series, sources: { quiche: await gitRevisionSource(fixture.quiche.dir) } });
    expect(atHead.ok).toBe(false);
    expect(atHead.report?.problems).toEqual([expect.objectContaining({ file: LEGACY, reason: 'missing-file' })]);
    expect(atHead.text).toContain('missing file in quiche/quic/core/legacy_path.cc');
  });

  it('lists repo=src patches as not checked when only a quiche clone is given', async () => {
    const srcPatch = await makePatch(fixture.quiche.dir, fixture.quiche.oldPin, 'pretend src change', [
      { file: 'quiche/common/README.md', replace: [['fake', 'faux']] },
    ]);
    const series = await writeSeries(await tempDir(), [
      { name: '0001-flag.patch', content: fixture.patches.clientFlag },
      { name: 'src-0001.patch', content: srcPatch, repo: 'src' },
    ]);
    const result = await checkPatches({ series, sources: { quiche: await gitRevisionSource(fixture.quiche.dir) } });
    expect(result).toMatchObject({ ok: true, checked: ['0001-flag.patch'], skipped: [{ patch: 'src-0001.patch', repo: 'src' }] });
    expect(result.text).toContain('Not checked (no src files given): src-0001.patch');
  });
});
