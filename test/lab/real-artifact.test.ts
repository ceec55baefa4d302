import { describe, expect, test } from 'vitest';
import { runLab } from '../../src/lab/run.js';
import type { MigrateMode, Scenario } from '../../src/lab/types.js';
import { workspace } from '../../testkit/world.js';
import { labUnavailable } from '../support/fixture-artifact.js';

/**
 * The real-build tier: the lab on an artifact of the real binaries (standalone-quiche backend),
 * where QUIC is on the wire and the connection-ID analysis is live. Point BQ_LAB_REAL_ARTIFACT at
 * the artifact (tarball, dist dir, URL or installed dir).
 */
const artifact = process.env.BQ_LAB_REAL_ARTIFACT;
const skip = labUnavailable() ?? (artifact ? undefined : 'BQ_LAB_REAL_ARTIFACT is not set (an artifact of the real binaries)');
if (skip) console.log(`skipping the real-binary lab tier: ${skip}`);

const CASES: Array<[Scenario, MigrateMode]> = [
  ['two-paths', 'hard'],
  ['two-paths', 'validate'],
  ['rotate-ips', 'hard'],
  ['rotate-ips', 'validate'],
];

describe.skipIf(skip)('migration lab on the real binaries', () => {
  test.each(CASES)('%s in %s mode: every migration succeeds, each path has its own connection IDs, none reused', async (scenario, mode) => {
    const ws = await workspace('bq-lab-real-');
    try {
      const { report } = await runLab({ artifact: artifact!, scenario, mode, out: ws.dir, durationMs: 3000, intervalMs: 500 });
      expect(report.client.requestSucceeded).toBe(true);
      expect(report.migrations.length).toBeGreaterThanOrEqual(3);
      expect(report.migrations.filter((m) => m.result !== 'ok')).toEqual([]);
      expect(report.migrations.every((m) => m.seenByServer)).toBe(true);
      const quicLinks = report.observers.filter((o) => o.link !== 'tunnel-underlay' && o.link !== 'server');
      for (const link of quicLinks) {
        const tuples = link.fourTuples.filter((t) => t.kind === 'quic' && t.packets > 10);
        expect(tuples.every((t) => t.dcids.length > 0)).toBe(true);
      }
      expect(report.cidReuse).toEqual([]);
      expect(report.linkable.every((l) => l.cidChecked && !l.by.includes('connection-id'))).toBe(true);
      // Every observer model, with precision and recall, at every capture point; no migration linked by identifiers.
      expect(report.linking.scores).toHaveLength(3 * report.observers.length);
      expect(report.linking.best.identifiers!.linked).toBe(0);
      expect(report.linking.best.timing!.recall).not.toBeNull();
      expect(report.headline).toMatch(
        /^linkable by identifiers: 0 of \d+; by timing: \d+ of \d+ \(window 100 ms.*; by timing \+ volume: \d+ of \d+/,
      );
    } finally {
      await ws.remove();
    }
  });
});
