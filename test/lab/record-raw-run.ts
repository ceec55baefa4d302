// Records a lab run for the analysis's unit tests (test/unit/lab/fixtures/): the run's RawRun,
// with its output directory written as "out" so that no machine path lands in a fixture. As root:
//   npx tsx test/lab/record-raw-run.ts <scenario> <fixture.json> [clients=N] [quiet=Q] [artifact=...]
//   (then npx prettier --write <fixture.json>)
// The artifact defaults to the fixture artifact; the run is short and slow (1 s at 1 Mbit/s per client)
// to keep the file small.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { recordLab } from '../../src/lab/run.js';
import type { Scenario } from '../../src/lab/types.js';
import { fixtureArtifact } from '../support/fixture-artifact.js';
import { writeRawRunFixture } from '../support/raw-run-fixture.js';

const [scenario, fixture, ...rest] = process.argv.slice(2);
if (!scenario || !fixture) throw new Error('usage: record-raw-run.ts <scenario> <fixture.json> [clients=N] [quiet=Q] [artifact=...]');
const extra = Object.fromEntries(rest.map((arg) => arg.split('=', 2) as [string, string]));
const clients = Number(extra.clients ?? 1);
const out = await mkdtemp(path.join(os.tmpdir(), 'bq-lab-record-'));
try {
  const { raw } = await recordLab({
    artifact: extra.artifact ?? (await fixtureArtifact()),
    scenario: scenario as Scenario,
    out,
    durationMs: 1000,
    intervalMs: 250,
    rateMbit: clients,
    addresses: 3,
    clients,
    quietMs: Number(extra.quiet ?? 0),
    seed: 1,
    onEvent: (e) => console.log(e.message),
  });
  await writeRawRunFixture(fixture, JSON.parse(JSON.stringify(raw).replaceAll(out, 'out')) as typeof raw);
  console.log(`${fixture}: ${raw.captures.map((c) => `${c.point.link} ${c.packets.length} packets`).join(', ')}`);
} finally {
  await rm(out, { recursive: true, force: true });
}
