import path from 'node:path';
import { matchMigrations, parseEventLine } from '../smoke/event-lines.js';
import type { TimerMigrationMode } from '../smoke/migration-mode.js';
import { requestsSucceeded } from '../smoke/toy-programs.js';
import { cidReuse, goodputBins, linkability, observerView, type Packet } from './observer.js';
import { pathNamer, QUIC_PORT, SERVER_ADDRESS, WG_PORT, type CapturePoint, type LabPath } from './topology.js';
import type { WireGuardKind } from './wireguard.js';
import type { LabReport, MigrationRecord, ObserverView, Scenario } from './types.js';

/**
 * The lab's analysis: a recorded run (what the programs printed and the packets every capture point
 * saw) in, the report out. Pure: no namespaces, processes or files, so unit tests reach it with a
 * recorded or made-up run.
 */

/** Everything one lab run recorded, before any analysis (src/lab/run.ts makes it). */
export interface RawRun {
  /** The lab run's id (in its resource names), the scenario and the client's --migrate_mode. */
  runId: string;
  scenario: Scenario;
  mode: TimerMigrationMode;
  /** The options the run was made with (defaults applied); `rates`: the tbf rate of each shaped link, Mbit/s. */
  settings: { intervalMs: number; rateMbit: number; delayMs: number; responseBytes: number; rates: Record<string, number> };
  /** When the run started (before the namespaces were built) and ended (its captures read), ISO 8601. */
  startedAt: string;
  endedAt: string;
  /** The artifact, as the report names it. */
  artifact: LabReport['artifact'];
  topology: { clientNs: string; serverNs: string; paths: LabPath[]; wireguard: WireGuardKind | null; netem: string };
  /** Each capture point, its pcap, and the packets tshark read from it. */
  captures: Array<{ point: CapturePoint; pcap: string; packets: Packet[] }>;
  /** The client's output lines and exit code, and the server's lines. */
  client: { lines: string[]; exitCode: number };
  serverLines: string[];
  /** Notes made while the run was set up (netem missing, WireGuard kind, leftovers removed). */
  notes: string[];
  files: LabReport['files'];
}

export const GOODPUT_BIN_MS = 100;

const withoutInterface = (endpoint: string) => endpoint.replace(/%.*$/, '');

/** Each client MIGRATION line, with its paths and whether the server saw it (by line and by capture). */
export function migrationRecords(
  clientLines: string[],
  serverLines: string[],
  serverObserver: ObserverView | undefined,
  pathOf: (endpoint: string) => string,
): MigrationRecord[] {
  const match = matchMigrations(clientLines, serverLines);
  const serverSeen = new Set(match.matched.map((m) => m.client.raw));
  return clientLines
    .map(parseEventLine)
    .filter((e) => e?.kind === 'MIGRATION')
    .map((e) => {
      const f = e!.fields;
      const [oldCid = '', newCid = ''] = (f.server_cid ?? '').split('->');
      const to = withoutInterface(f.to ?? '');
      const seen = serverObserver?.fourTuples.find((t) => t.client === to && t.kind === 'quic');
      return {
        seq: Number(f.seq),
        t_ms: Number(f.t_ms),
        from: f.from ?? '',
        to: f.to ?? '',
        serverCid: { old: oldCid, new: newCid },
        result: f.result ?? 'unknown',
        ...(f.reason ? { reason: f.reason } : {}),
        tookMs: Number(f.took_ms),
        ...(f.paced_ms ? { pacedMs: Number(f.paced_ms) } : {}),
        fromPath: pathOf(withoutInterface(f.from ?? '')),
        toPath: pathOf(to),
        seenByServer: serverSeen.has(e!.raw),
        ...(seen ? { serverSawNewPathMs: seen.firstMs } : {}),
      };
    });
}

/** Server-to-client QUIC payload over time and in total, from the client-side captures. */
export function goodputOf(packets: Packet[], t0: number, pathOf: (endpoint: string) => string): LabReport['goodput'] {
  const bins = goodputBins(packets, t0, QUIC_PORT, GOODPUT_BIN_MS, pathOf);
  const totalBytes = packets.filter((p) => p.srcPort === QUIC_PORT).reduce((sum, p) => sum + p.udpPayload, 0);
  const activeMs = bins.length ? bins[bins.length - 1]!.t_ms + GOODPUT_BIN_MS - bins[0]!.t_ms : 0;
  return {
    binMs: GOODPUT_BIN_MS,
    bins,
    totalBytes,
    activeMs,
    meanMbit: activeMs ? Math.round(((totalBytes * 8) / (activeMs / 1000) / 1e6) * 100) / 100 : 0,
  };
}

/** IP bytes of the QUIC connection (both ways) per path, largest first. */
export function perPathBytes(packets: Packet[], pathOf: (endpoint: string) => string): LabReport['perPathBytes'] {
  const perPath = new Map<string, number>();
  for (const p of packets) {
    if (p.srcPort !== QUIC_PORT && p.dstPort !== QUIC_PORT) continue;
    const client = p.srcPort === QUIC_PORT ? `${p.dst}:${p.dstPort}` : `${p.src}:${p.srcPort}`;
    const name = pathOf(client);
    perPath.set(name, (perPath.get(name) ?? 0) + p.ipBytes);
  }
  return [...perPath.entries()].map(([p, bytes]) => ({ path: p, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** The report of a recorded run (report.json, docs/lab.md). */
export function analyseRun(raw: RawRun): LabReport {
  const pathOf = pathNamer(raw.scenario, raw.topology.paths);
  const startedMs = Date.parse(raw.startedAt);
  // Time 0 is the first QUIC packet any observer saw.
  const quicTimes = raw.captures
    .flatMap((c) => c.packets)
    .filter((p) => p.srcPort === QUIC_PORT || p.dstPort === QUIC_PORT)
    .map((p) => p.epochMs);
  const t0 = quicTimes.length ? Math.min(...quicTimes) : startedMs;
  const ports = { quic: QUIC_PORT, wireguard: WG_PORT };
  const observers = raw.captures.map((c) =>
    observerView(c.point.link, `${c.point.ns}:${c.point.iface}`, path.basename(c.pcap), c.packets, t0, ports),
  );

  const clientLines = raw.client.lines;
  const migrations = migrationRecords(
    clientLines,
    raw.serverLines,
    observers.find((ob) => ob.link === 'server'),
    pathOf,
  );
  const goodputPackets = raw.captures.filter((c) => c.point.goodput).flatMap((c) => c.packets);
  const requestSucceeded = requestsSucceeded(clientLines) > 0;
  const notes = [...raw.notes];
  if (!observers.some((ob) => ob.quicDissected))
    notes.push(
      'no short-header QUIC connection IDs were seen on any link (expected with the fixture programs, which do not speak QUIC on the wire): the connection-ID part of the observer view is empty',
    );
  if (!requestSucceeded) notes.push(`the download did not complete (client exit ${raw.client.exitCode}); see ${raw.files.clientLog}`);

  return {
    schema: 1,
    scenario: raw.scenario,
    mode: raw.mode,
    runId: raw.runId,
    startedAt: raw.startedAt,
    durationMs: Date.parse(raw.endedAt) - startedMs,
    artifact: raw.artifact,
    settings: {
      intervalMs: raw.settings.intervalMs,
      rateMbit: raw.settings.rateMbit,
      responseBytes: raw.settings.responseBytes,
      delayMs: raw.settings.delayMs,
      addresses: raw.topology.paths.map((p) => p.localAddress),
      serverAddress: SERVER_ADDRESS,
      serverPort: QUIC_PORT,
    },
    topology: {
      namespaces: [raw.topology.clientNs, raw.topology.serverNs],
      paths: raw.topology.paths,
      wireguard: raw.topology.wireguard,
      shaping: { qdisc: 'tbf', rateMbit: raw.settings.rateMbit, rates: raw.settings.rates, netem: raw.topology.netem },
    },
    client: {
      exitCode: raw.client.exitCode,
      requestSucceeded,
      summary: clientLines.map(parseEventLine).find((e) => e?.kind === 'MIGRATION_SUMMARY')?.fields ?? null,
    },
    migrations,
    serverPathChanges: raw.serverLines.map(parseEventLine).filter((e) => e?.kind === 'PEER_MIGRATION').length,
    goodput: goodputOf(goodputPackets, t0, pathOf),
    perPathBytes: perPathBytes(goodputPackets, pathOf),
    observers,
    linkable: linkability(migrations, observers),
    cidReuse: cidReuse(observers),
    notes,
    files: raw.files,
  };
}
