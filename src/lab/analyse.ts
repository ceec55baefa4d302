import path from 'node:path';
import { matchMigrations, parseEventLine } from '../smoke/event-lines.js';
import type { TimerMigrationMode } from '../smoke/migration-mode.js';
import { requestsSucceeded } from '../smoke/toy-programs.js';
import { HOST_LIMIT_BUSY } from './host-load.js';
import {
  bestObserver,
  LINKING_DEFAULTS,
  linkObservers,
  modelRule,
  OBSERVER_MODELS,
  quicFlows,
  type Link,
  type LinkingOptions,
  type ObserverModel,
  type Truth,
} from './linking.js';
import { cidReuse, goodputBins, linkability, observerView, type Packet } from './observer.js';
import { hostPart, observerPosition, pathNamer, QUIC_PORT, SERVER_ADDRESS, WG_PORT, type CapturePoint, type LabPath } from './topology.js';
import type { WireGuardKind } from './wireguard.js';
import type { LabReport, LinkingReport, MigrationRecord, ObserverView, Scenario } from './types.js';

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
  /**
   * The options the run was made with (defaults applied); `rates`: the tbf rate of each shaped link,
   * Mbit/s; `responseBytes`: each client's download.
   */
  settings: {
    intervalMs: number;
    rateMbit: number;
    delayMs: number;
    responseBytes: number;
    rates: Record<string, number>;
    clients: number;
    quietMs: number;
    jitterMs: number;
    seed: number;
  };
  /** When the run started (before the namespaces were built) and ended (its captures read), ISO 8601. */
  startedAt: string;
  endedAt: string;
  /** The artifact, as the report names it. */
  artifact: LabReport['artifact'];
  /** `paths`: every client's paths (each names its client). */
  topology: { clientNs: string; serverNs: string; paths: LabPath[]; wireguard: WireGuardKind | null; netem: string };
  /** Each capture point, its pcap, and the packets tshark read from it. */
  captures: Array<{ point: CapturePoint; pcap: string; packets: Packet[] }>;
  /** Each client: its --migrate_local_addresses, when it started after the first (ms), its output lines and exit code. */
  clients: Array<{ addresses: string[]; phaseMs: number; lines: string[]; exitCode: number }>;
  /** The server's lines. */
  serverLines: string[];
  /** The host's CPUs and how busy they were during the download (fractions of all CPUs). */
  host: { cpus: number; busy: number | null; peak: number | null };
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
  client = 0,
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
        client,
        seq: Number(f.seq),
        t_ms: Number(f.t_ms),
        from: f.from ?? '',
        to: f.to ?? '',
        serverCid: { old: oldCid, new: newCid },
        result: f.result ?? 'unknown',
        ...(f.reason ? { reason: f.reason } : {}),
        tookMs: Number(f.took_ms),
        ...(f.paced_ms ? { pacedMs: Number(f.paced_ms) } : {}),
        ...(f.quiet_ms ? { quietMs: Number(f.quiet_ms) } : {}),
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

/** What the lab knows: whose each address is (the clients' --migrate_local_addresses) and each client's successful moves. */
export function truthOf(raw: RawRun): Truth {
  return {
    clients: raw.clients.map((c) => ({
      addresses: c.addresses.map(hostPart),
      migrations: c.lines
        .map(parseEventLine)
        .filter((e) => e?.kind === 'MIGRATION' && e.fields.result === 'ok')
        .map((e) => ({ from: withoutInterface(e!.fields.from ?? ''), to: withoutInterface(e!.fields.to ?? '') })),
    })),
  };
}

/** Every observer model at every capture point, scored against the truth (src/lab/linking.ts). */
function linkingOf(
  raw: RawRun,
  t0: number,
  options: LinkingOptions,
): { report: LinkingReport; links: Record<ObserverModel, Record<string, Link[]>> } {
  const observers = raw.captures.map((c) => ({ link: c.point.link, flows: quicFlows(c.packets, t0, QUIC_PORT, options.volumeSpanMs) }));
  const { scores, links } = linkObservers(observers, truthOf(raw), options);
  return {
    report: {
      options,
      rules: Object.fromEntries(OBSERVER_MODELS.map((m) => [m, modelRule(m, options)])) as Record<ObserverModel, string>,
      observers: observers.map((o) => ({ link: o.link, sits: observerPosition(raw.scenario, o.link), flows: o.flows.length })),
      scores,
      best: Object.fromEntries(
        OBSERVER_MODELS.map((m) => [m, observers.some((o) => o.flows.length) ? (bestObserver(scores, m) ?? null) : null]),
      ) as LinkingReport['best'],
    },
    links,
  };
}

const MODEL_NAMES: Record<ObserverModel, string> = { identifiers: 'identifiers', timing: 'timing', 'timing+volume': 'timing + volume' };

/**
 * "linkable by identifiers: 0 of 5; by timing: 5 of 5 (window 100 ms); by timing + volume: 5 of 5", each
 * at the observer that linked most, with its precision when it made links that were not all right.
 */
export function headlineOf(linking: LinkingReport, migrations: number): string {
  const parts = OBSERVER_MODELS.map((model) => {
    const best = linking.best[model];
    const notes = [
      ...(model === 'timing' ? [`window ${linking.options.windowMs} ms`] : []),
      ...(best && best.linked > 0 ? [`at ${best.observer}`] : []),
      ...(best && best.precision !== null && best.precision < 1 ? [`precision ${best.precision.toFixed(2)}`] : []),
    ];
    return `${model === 'identifiers' ? 'linkable by' : 'by'} ${MODEL_NAMES[model]}: ${best?.linked ?? 0} of ${migrations}${notes.length ? ` (${notes.join(', ')})` : ''}`;
  });
  return parts.join('; ');
}

/** The report of a recorded run (report.json, docs/lab.md); `linking` overrides the observer models' parameters. */
export function analyseRun(raw: RawRun, linking: Partial<LinkingOptions> = {}): LabReport {
  const linkingOptions = { ...LINKING_DEFAULTS, ...linking };
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
  const serverObserver = observers.find((ob) => ob.link === 'server');
  const migrations = raw.clients.flatMap((c, index) => migrationRecords(c.lines, raw.serverLines, serverObserver, pathOf, index));
  const goodputPackets = raw.captures.filter((c) => c.point.goodput).flatMap((c) => c.packets);
  // With several clients the goodput plot shows who got the bytes; with one, which path carried them.
  // Looked up once per captured packet: a map, not a search of every client's addresses.
  const owners = new Map<string, string>();
  for (const [index, c] of raw.clients.entries())
    for (const a of c.addresses) if (!owners.has(hostPart(a))) owners.set(hostPart(a), `client ${index}`);
  const clientOf = (endpoint: string) => owners.get(hostPart(endpoint)) ?? hostPart(endpoint);
  const clients = raw.clients.map((c, index) => ({
    index,
    addresses: c.addresses,
    phaseMs: c.phaseMs,
    exitCode: c.exitCode,
    requestSucceeded: requestsSucceeded(c.lines) > 0,
    summary: c.lines.map(parseEventLine).find((e) => e?.kind === 'MIGRATION_SUMMARY')?.fields ?? null,
  }));
  const requestSucceeded = clients.every((c) => c.requestSucceeded);
  const exitCode = clients.find((c) => c.exitCode !== 0)?.exitCode ?? 0;
  const notes = [...raw.notes];
  if (!observers.some((ob) => ob.quicDissected))
    notes.push(
      'no short-header QUIC connection IDs were seen on any link (expected with the fixture programs, which do not speak QUIC on the wire): the connection-ID part of the observer view is empty',
    );
  for (const c of clients.filter((c) => !c.requestSucceeded))
    notes.push(
      `the download did not complete (${raw.clients.length > 1 ? `client ${c.index}, ` : ''}client exit ${c.exitCode}); see ${raw.files.clientLog}`,
    );
  const host = { ...raw.host, limited: (raw.host.busy ?? 0) >= HOST_LIMIT_BUSY };
  if (host.limited)
    notes.push(
      `the host was the limit: its ${host.cpus} CPU(s) were ${Math.round(host.busy! * 100)}% busy during the download (${raw.clients.length} client(s), the server, tcpdump${raw.topology.wireguard === 'wireguard-go' ? ', wireguard-go' : ''} and anything else on the machine), so timings and rates measure the host as much as the migration`,
    );
  const { report: linkingReport, links } = linkingOf(raw, t0, linkingOptions);
  const okMigrations = migrations.filter((m) => m.result === 'ok');
  const linkedBy = (m: MigrationRecord) => {
    const from = withoutInterface(m.from);
    const to = withoutInterface(m.to);
    return Object.fromEntries(
      OBSERVER_MODELS.map((model) => [
        model,
        Object.entries(links[model])
          .filter(([, list]) => list.some((l) => l.from === from && l.to === to))
          .map(([observer]) => observer),
      ]),
    ) as Record<ObserverModel, string[]>;
  };

  return {
    schema: 2,
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
      clients: raw.settings.clients,
      quietMs: raw.settings.quietMs,
      jitterMs: raw.settings.jitterMs,
      seed: raw.settings.seed,
    },
    topology: {
      namespaces: [raw.topology.clientNs, raw.topology.serverNs],
      paths: raw.topology.paths,
      wireguard: raw.topology.wireguard,
      shaping: { qdisc: 'tbf', rateMbit: raw.settings.rateMbit, rates: raw.settings.rates, netem: raw.topology.netem },
    },
    client: { exitCode, requestSucceeded, summary: clients[0]?.summary ?? null },
    clients,
    host,
    migrations,
    serverPathChanges: raw.serverLines.map(parseEventLine).filter((e) => e?.kind === 'PEER_MIGRATION').length,
    goodput: goodputOf(goodputPackets, t0, raw.clients.length > 1 ? clientOf : pathOf),
    perPathBytes: perPathBytes(goodputPackets, pathOf),
    observers,
    // linkability() keeps the successful migrations in order: row i is okMigrations[i].
    linkable: linkability(migrations, observers).map((l, i) => ({ ...l, linkedBy: linkedBy(okMigrations[i]!) })),
    linking: linkingReport,
    headline: headlineOf(linkingReport, okMigrations.length),
    cidReuse: cidReuse(observers),
    notes,
    files: raw.files,
  };
}
