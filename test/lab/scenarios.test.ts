import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { readPackets, type Packet } from '../../src/lab/observer.js';
import { runLab } from '../../src/lab/run.js';
import type { LabReport } from '../../src/lab/types.js';
import { workspace } from '../../testkit/world.js';
import { fixtureArtifact, labUnavailable } from '../support/fixture-artifact.js';

const skip = labUnavailable();
if (skip) console.log(`skipping the migration lab scenarios: ${skip}`);

/** Short runs: 1.5 s of download at 40 Mbit/s, a migration every 300 ms. */
const SHORT = { durationMs: 1500, intervalMs: 300, rateMbit: 40 };

const quicTuples = (report: LabReport, link: string) =>
  report.observers.find((o) => o.link === link)!.fourTuples.filter((t) => t.kind === 'quic');
const ok = (report: LabReport) => report.migrations.filter((m) => m.result === 'ok');

describe.skipIf(skip)('migration lab on the fixture artifact (real namespaces, veth, tcpdump, tshark)', () => {
  let artifact: string;
  beforeAll(async () => {
    artifact = await fixtureArtifact();
  });

  test('rotate-ips: the client rotates over the address pool and the link observer sees one 4-tuple per path', async () => {
    const ws = await workspace('bq-lab-');
    try {
      const { report, reportDir } = await runLab({ artifact, scenario: 'rotate-ips', addresses: 3, out: ws.dir, ...SHORT });
      expect(report.client.requestSucceeded).toBe(true);
      const migrations = ok(report);
      expect(migrations.length).toBeGreaterThanOrEqual(3);
      expect(migrations.every((m) => m.seenByServer)).toBe(true);
      expect(report.serverPathChanges).toBe(migrations.length);
      // A new address each time, round-robin over the pool of three.
      expect(new Set(migrations.map((m) => m.toPath))).toEqual(new Set(['10.213.1.11', '10.213.1.12', '10.213.1.13']));
      expect(migrations.every((m) => m.fromPath !== m.toPath)).toBe(true);
      const tuples = quicTuples(report, 'link');
      expect(tuples).toHaveLength(migrations.length + 1);
      expect(new Set(tuples.map((t) => t.client)).size).toBe(tuples.length);
      // Neither address nor port is shared, and the fixture leaves no CIDs to link by.
      expect(report.linkable.every((l) => !l.linkable && l.observersSeeingBoth.includes('link'))).toBe(true);
      expect(report.goodput.totalBytes).toBeGreaterThanOrEqual(report.settings.responseBytes);
      expect(JSON.parse(await readFile(path.join(reportDir, 'report.json'), 'utf8'))).toMatchObject({
        scenario: 'rotate-ips',
        migrations: report.migrations,
      });
    } finally {
      await ws.remove();
    }
  });

  test('rebind-port: same address, a new port at every migration, linkable by the client address', async () => {
    const ws = await workspace('bq-lab-');
    try {
      const { report } = await runLab({ artifact, scenario: 'rebind-port', out: ws.dir, ...SHORT });
      const migrations = ok(report);
      expect(migrations.length).toBeGreaterThanOrEqual(3);
      expect(report.serverPathChanges).toBe(migrations.length);
      const hosts = new Set(migrations.flatMap((m) => [m.from, m.to]).map((e) => e.replace(/:\d+$/, '')));
      expect([...hosts]).toEqual(['10.213.1.11']);
      const tuples = quicTuples(report, 'link');
      expect(tuples).toHaveLength(migrations.length + 1);
      expect(new Set(tuples.map((t) => t.client.split(':')[1])).size).toBe(tuples.length);
      expect(report.linkable.every((l) => l.linkable && l.by.includes('client-address') && !l.by.includes('client-port'))).toBe(true);
    } finally {
      await ws.remove();
    }
  });

  test('two-paths: the client alternates between the direct veth and a wireguard-go tunnel; the underlay observer sees only the tunnel', async () => {
    const ws = await workspace('bq-lab-');
    try {
      const { report } = await runLab({ artifact, scenario: 'two-paths', out: ws.dir, ...SHORT });
      expect(report.topology.wireguard).toMatch(/^(kernel|wireguard-go)$/);
      expect(report.client.requestSucceeded).toBe(true);
      const migrations = ok(report);
      expect(migrations.length).toBeGreaterThanOrEqual(3);
      expect(migrations.every((m) => m.seenByServer && m.fromPath !== m.toPath)).toBe(true);
      expect(new Set(migrations.map((m) => m.toPath))).toEqual(new Set(['direct', 'wireguard']));
      expect(report.serverPathChanges).toBe(migrations.length);
      const direct = quicTuples(report, 'direct');
      const tunnel = quicTuples(report, 'tunnel');
      expect(direct.every((t) => t.client.startsWith('10.213.1.2:'))).toBe(true);
      expect(tunnel.every((t) => t.client.startsWith('10.213.9.2:'))).toBe(true);
      // One 4-tuple per path used; a move in the last moments of the download may carry no packet before
      // the transfer ends, so the last path can be missing from the capture.
      expect(direct.length + tunnel.length).toBeGreaterThanOrEqual(migrations.length);
      expect(direct.length + tunnel.length).toBeLessThanOrEqual(migrations.length + 1);
      // On the underlay there is no QUIC at all: one WireGuard 4-tuple carries every tunnelled path.
      const underlay = report.observers.find((o) => o.link === 'tunnel-underlay')!;
      expect(underlay.fourTuples.map((t) => t.kind)).toEqual(['wireguard']);
      expect(report.perPathBytes.map((p) => p.path).sort()).toEqual(['direct', 'wireguard']);
      expect(report.linkable.every((l) => !l.linkable)).toBe(true);
    } finally {
      await ws.remove();
    }
  });

  test('two-paths with three clients: each its own direct and tunnel address over the one tunnel; the server network sees every 4-tuple', async () => {
    const ws = await workspace('bq-lab-');
    try {
      const { report } = await runLab({ artifact, scenario: 'two-paths', clients: 3, seed: 5, out: ws.dir, ...SHORT });
      expect(report.clients.map((c) => [c.addresses, c.requestSucceeded])).toEqual([
        [['10.213.1.2', expect.stringMatching(/^10\.213\.9\.2%bql\w+wc$/)], true],
        [['10.213.1.3', expect.stringMatching(/^10\.213\.9\.3%/)], true],
        [['10.213.1.4', expect.stringMatching(/^10\.213\.9\.4%/)], true],
      ]);
      expect(new Set(report.clients.map((c) => c.phaseMs)).size).toBeGreaterThan(1);
      const ok = report.migrations.filter((m) => m.result === 'ok');
      for (const client of [0, 1, 2]) expect(ok.filter((m) => m.client === client).length).toBeGreaterThanOrEqual(2);
      expect(ok.every((m) => m.seenByServer)).toBe(true);
      // Every client's tunnel path goes through the one WireGuard 4-tuple on the underlay.
      expect(report.observers.find((o) => o.link === 'tunnel-underlay')!.fourTuples.map((t) => t.kind)).toEqual(['wireguard']);
      const server = report.linking.observers.find((o) => o.link === 'server')!;
      expect(server.flows).toBe(quicTuples(report, 'server').length);
      expect(report.linking.scores).toHaveLength(3 * report.observers.length);
      expect(report.headline).toMatch(/^linkable by identifiers: \d+ of \d+; by timing: \d+ of \d+ \(window 100 ms/);
      expect(report.files.clientLogs.map((f) => path.basename(f))).toEqual(['client-0.log', 'client-1.log', 'client-2.log']);
    } finally {
      await ws.remove();
    }
  });

  test('a quiet gap: the client stops before each switch (quiet_ms on every line) while the server keeps sending on the old path', async () => {
    const ws = await workspace('bq-lab-');
    try {
      const { report, reportDir } = await runLab({
        artifact,
        scenario: 'rotate-ips',
        addresses: 3,
        quietMs: 250,
        out: ws.dir,
        ...SHORT,
        durationMs: 2000,
      });
      const migrations = ok(report);
      expect(migrations.length).toBeGreaterThanOrEqual(2);
      expect(migrations.every((m) => m.quietMs === 250)).toBe(true);
      expect(report.settings.quietMs).toBe(250);
      // On the old 4-tuple the client falls silent about 250 ms before the new 4-tuple starts, but the
      // fixture server keeps sending into the gap (it cannot know the client went quiet).
      const packets = await readPackets(path.join(reportDir, 'link.pcap'), 4433);
      const [from, to] = [migrations[0]!.from, migrations[0]!.to];
      const at = (p: Packet) => p.epochMs;
      const fromClient = packets.filter((p) => `${p.src}:${p.srcPort}` === from).map(at);
      const toClient = packets.filter((p) => `${p.dst}:${p.dstPort}` === from).map(at);
      const newStart = Math.min(...packets.filter((p) => `${p.src}:${p.srcPort}` === to || `${p.dst}:${p.dstPort}` === to).map(at));
      expect(newStart - Math.max(...fromClient)).toBeGreaterThanOrEqual(200);
      expect(toClient.filter((t) => t > Math.max(...fromClient) + 50 && t < newStart).length).toBeGreaterThan(0);
    } finally {
      await ws.remove();
    }
  });

  test('validate mode on the fixture client is refused before any namespace is made, naming the reason', async () => {
    const ws = await workspace('bq-lab-');
    try {
      await expect(runLab({ artifact, scenario: 'rotate-ips', mode: 'validate', out: ws.dir })).rejects.toMatchObject({
        failureClass: 'usage',
        message: expect.stringContaining('does not support --migrate_mode=validate'),
      });
    } finally {
      await ws.remove();
    }
  });
});
