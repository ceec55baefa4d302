import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { installArtifact, verifyInstalled, type InstalledArtifact } from '../artifacts/install.js';
import { serverCertsOf } from '../artifacts/manifest.js';
import { SmokeTestError, ToolError, UsageError } from '../errors.js';
import { LogFile } from '../process/log-file.js';
import { ensureTestCerts } from '../smoke/certs.js';
import { TIMER_MIGRATION_MODES } from '../smoke/migration-mode.js';
import { matchMigrations, parseEventLine } from '../smoke/event-lines.js';
import {
  clientArgs,
  pairsAmong,
  probeClient,
  probeServer,
  requestsSucceeded,
  runClient,
  startServer,
  timerMigrationFlags,
  type ClientOffers,
  type ToyProgram,
  type ToyServer,
} from '../smoke/toy-programs.js';
import { startCapture, type Capture } from './capture.js';
import { BASE_TOOLS, requireLabPrivileges, requireTools, WIREGUARD_TOOLS } from './host.js';
import { cidReuse, goodputBins, linkability, observerView, readCaptures, type Packet } from './observer.js';
import { writeReport } from './report.js';
import { cleanupLeftovers, LabResources, newLabId } from './state.js';
import { buildTopology, QUIC_PORT, SERVER_ADDRESS, SHAPED_LINKS, type Topology } from './topology.js';
import { SCENARIOS, type LabOptions, type LabReport, type LabResult, type MigrationRecord } from './types.js';

export const LAB_DEFAULTS = { mode: 'hard', intervalMs: 500, durationMs: 3000, rateMbit: 40, addresses: 4, delayMs: 0 } as const;
const GOODPUT_BIN_MS = 100;
const WG_PORT = 51820;

function checkOptions(o: LabOptions): void {
  if (!SCENARIOS.includes(o.scenario))
    throw new UsageError(`Unknown scenario "${o.scenario}".`, { hint: `Use one of: ${SCENARIOS.join(', ')}.` });
  if (o.mode && !TIMER_MIGRATION_MODES.includes(o.mode))
    throw new UsageError(`Unknown migration mode "${o.mode}".`, { hint: 'Use hard or validate.' });
  for (const [name, value, min] of [
    ['interval-ms', o.intervalMs, 10],
    ['duration', o.durationMs, 200],
    ['rate-mbit', o.rateMbit, 1],
    ['addresses', o.addresses, 2],
  ] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value < min))
      throw new UsageError(`--${name} must be a number >= ${min} (got ${value}).`);
  }
  if (!o.out) throw new UsageError('The lab needs an output directory (--out).');
  for (const [link, rate] of Object.entries(o.linkRates ?? {})) {
    if (!SHAPED_LINKS[o.scenario].includes(link))
      throw new UsageError(`${o.scenario} has no link "${link}" to rate-limit.`, {
        hint: `Its links: ${SHAPED_LINKS[o.scenario].join(', ')}.`,
      });
    if (!Number.isFinite(rate) || rate < 1) throw new UsageError(`--rate-mbit ${link}= must be a number >= 1 (got ${rate}).`);
  }
}

/** An installed artifact directory is used in place (verified); anything else goes through install. */
async function artifactFor(o: LabOptions, reportDir: string): Promise<InstalledArtifact> {
  if (existsSync(path.join(o.artifact, 'manifest.json'))) return verifyInstalled(o.artifact);
  return installArtifact(o.artifact, { to: o.installDir ?? path.join(reportDir, 'artifact'), signal: o.signal });
}

function pickBinaries(artifact: InstalledArtifact): { client: ToyProgram; server: ToyProgram } {
  const [pair] = pairsAmong((name) => !!artifact.binaries[name]);
  if (pair) {
    return {
      client: { name: pair.client, path: artifact.binaries[pair.client]! },
      server: { name: pair.server, path: artifact.binaries[pair.server]! },
    };
  }
  throw new UsageError(`${artifact.name} has no client/server pair (epoll_quic_client + epoll_quic_server).`, {
    hint: 'Build an artifact with the default targets.',
  });
}

/** The client's --help (or --helpfull) decides which flags it gets (the real and the fixture clients differ in a few). */
async function clientCapabilities(client: ToyProgram, mode: string): Promise<ClientOffers> {
  const offers = await probeClient(client);
  if (!offers.migration) {
    throw new UsageError(`${client.name} has no --migrate_local_addresses: this artifact was built without the migration patch.`, {
      hint: 'Use an artifact built with patches/0001-client-intentional-migration.patch (the default series).',
    });
  }
  if (mode === 'validate' && !offers.validate) {
    throw new UsageError(`${client.name} in this artifact does not support --migrate_mode=validate (its --help does not offer it).`, {
      hint: 'Use --mode hard with this artifact, or an artifact of the real binaries (standalone backend), whose client validates the new path first.',
    });
  }
  return offers;
}

/** Entry 0 is where the connection starts; the client rotates over the rest, so the first comes back last. */
function migrateAddresses(topology: Topology): string[] {
  const list = topology.paths.map((p) => p.localAddress);
  return list.length > 1 ? [...list, list[0]!] : list;
}

/**
 * The migration lab: install the artifact, build the scenario's namespaces, run the server and a
 * migrating client in them with tcpdump on every link, analyse the captures, and write report.json
 * and report.html. Everything created is removed before it returns, whatever happens.
 */
export async function runLab(options: LabOptions): Promise<LabResult> {
  checkOptions(options);
  // An option given as undefined (an unset CLI flag) keeps its default.
  const o = { ...LAB_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof LAB_DEFAULTS &
    LabOptions;
  const say = (kind: 'step' | 'note', message: string) => options.onEvent?.({ kind, message });
  const notes: string[] = [];
  const note = (message: string) => {
    notes.push(message);
    say('note', message);
  };

  await requireLabPrivileges();
  await requireTools(o.scenario === 'two-paths' ? [...BASE_TOOLS, ...WIREGUARD_TOOLS] : BASE_TOOLS);
  const reportDir = path.resolve(o.out);
  await mkdir(reportDir, { recursive: true });
  const cleaned = await cleanupLeftovers();
  if (cleaned.length) note(`removed leftovers of interrupted lab run(s) ${cleaned.join(', ')}`);

  say('step', `verifying the artifact ${o.artifact}`);
  const artifact = await artifactFor(o, reportDir);
  const binaries = pickBinaries(artifact);
  const offers = await clientCapabilities(binaries.client, o.mode);
  const serverOffers = await probeServer(binaries.server);
  const shipped = serverCertsOf(artifact.dir, artifact.manifest);
  const certs = existsSync(shipped.key) ? shipped : await ensureTestCerts(path.join(reportDir, 'certs'));

  const runId = newLabId();
  const log = new LogFile(path.join(reportDir, 'lab.log'));
  const files = { clientLog: path.join(reportDir, 'client.log'), serverLog: path.join(reportDir, 'server.log'), labLog: log.path };
  const serverLog = new LogFile(files.serverLog);
  const clientLog = new LogFile(files.clientLog);
  const resources = new LabResources(runId);
  // WireGuard private keys live only as long as the tunnel.
  const keyDir = path.join(reportDir, `.keys-${runId}`);
  await mkdir(keyDir, { recursive: true, mode: 0o700 });
  const rates = Object.fromEntries(SHAPED_LINKS[o.scenario].map((link) => [link, o.linkRates?.[link] ?? o.rateMbit]));
  // Sized (and, on the fixture, paced) for the slowest link, so the download lasts about --duration.
  const slowest = Math.min(...Object.values(rates));
  const responseBytes = Math.round(((slowest * 1e6) / 8) * (o.durationMs / 1000) * 0.9);
  const startedAt = new Date();
  let topology: Topology | undefined;
  const captures: Capture[] = [];
  let server: ToyServer | undefined;
  let clientLines: string[];
  let clientExit: number | undefined;
  try {
    say('step', `building the ${o.scenario} topology (run ${runId})`);
    topology = await buildTopology({
      scenario: o.scenario,
      addresses: o.addresses,
      rates,
      delayMs: o.delayMs,
      resources,
      keyDir,
      log,
      signal: o.signal,
      note,
    });
    if (topology.wireguard)
      note(`WireGuard: ${topology.wireguard === 'kernel' ? 'the kernel module' : 'wireguard-go (userspace; no kernel module here)'}`);
    if (!topology.netem.startsWith('available')) note(`netem ${topology.netem}; shaping uses tbf only`);

    say('step', `starting tcpdump on ${topology.captures.map((c) => c.link).join(', ')}`);
    for (const point of topology.captures)
      captures.push(await startCapture(point, path.join(reportDir, `${point.link}.pcap`), { log, signal: o.signal }));

    server = await startServer(binaries.server, {
      via: ['ip', 'netns', 'exec', topology.serverNs],
      port: QUIC_PORT,
      certificate: certs.certificate,
      key: certs.key,
      // The fixture server paces itself; keep it under the link rate so tbf shapes, not drops.
      extraArgs: serverOffers.sendRate ? [`--fixture_send_rate_mbps=${Math.max(1, Math.floor(slowest * 0.9))}`] : [],
      log: serverLog,
      signal: o.signal,
      settleMs: 300,
      exitedAtStart: (failed) =>
        new ToolError(`${failed.name} exited at start.`, { tail: failed.lines.slice(-20), logPath: files.serverLog }),
    });

    const url = `https://localhost/${responseBytes}`;
    const args = clientArgs(
      { host: SERVER_ADDRESS, port: QUIC_PORT, offers, url },
      timerMigrationFlags(migrateAddresses(topology), o.intervalMs, o.mode),
    );
    say(
      'step',
      `downloading ${(responseBytes / 1e6).toFixed(1)} MB at ${Object.entries(rates)
        .map(([link, rate]) => `${link} ${rate}`)
        .join(', ')} Mbit/s, migrating every ${o.intervalMs} ms (${o.mode})`,
    );
    const result = await runClient(binaries.client, args, {
      via: ['ip', 'netns', 'exec', topology.clientNs],
      log: clientLog,
      signal: o.signal,
      timeoutMs: o.durationMs * 5 + 20_000,
      onLine: (line) => {
        const event = parseEventLine(line);
        if (event?.kind === 'MIGRATION')
          say(
            'step',
            `migration ${event.fields.seq}: ${event.fields.from} -> ${event.fields.to} ${event.fields.result}${event.fields.took_ms ? ` (${event.fields.took_ms} ms)` : ''}`,
          );
      },
    });
    clientLines = result.lines;
    clientExit = result.exitCode;
    await sleep(300); // the server's last PEER_ lines and the final packets
  } finally {
    say('step', 'stopping processes and removing the namespaces');
    await server?.stop().catch(() => undefined);
    for (const c of captures) await c.stop().catch(() => undefined);
    for (const d of topology?.daemons ?? []) await d.stop().catch(() => undefined);
    await resources.release();
    await rm(keyDir, { recursive: true, force: true });
    for (const file of [log, serverLog, clientLog]) await file.close().catch(() => undefined);
  }
  clientLines = clientLines.filter(Boolean);

  say('step', 'analysing the captures with tshark');
  const read = await readCaptures(
    captures.map((c) => c.pcap),
    QUIC_PORT,
    { signal: o.signal, log },
  );
  const packetsByLink = new Map<string, Packet[]>(captures.map((c, index) => [c.point.link, read[index]!]));
  const quicTimes = [...packetsByLink.values()]
    .flat()
    .filter((p) => p.srcPort === QUIC_PORT || p.dstPort === QUIC_PORT)
    .map((p) => p.epochMs);
  const t0 = quicTimes.length ? Math.min(...quicTimes) : startedAt.getTime();
  const ports = { quic: QUIC_PORT, wireguard: WG_PORT };
  const observers = captures.map((c) =>
    observerView(c.point.link, `${c.point.ns}:${c.point.iface}`, path.basename(c.pcap), packetsByLink.get(c.point.link) ?? [], t0, ports),
  );

  const serverLines = server?.lines ?? [];
  const match = matchMigrations(clientLines, serverLines);
  const serverSeen = new Set(match.matched.map((m) => m.client.raw));
  const serverObserver = observers.find((ob) => ob.link === 'server');
  const migrations: MigrationRecord[] = clientLines
    .map(parseEventLine)
    .filter((e) => e?.kind === 'MIGRATION')
    .map((e) => {
      const f = e!.fields;
      const [oldCid = '', newCid = ''] = (f.server_cid ?? '').split('->');
      const to = (f.to ?? '').replace(/%.*$/, '');
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
        fromPath: topology!.pathOf((f.from ?? '').replace(/%.*$/, '')),
        toPath: topology!.pathOf(to),
        seenByServer: serverSeen.has(e!.raw),
        ...(seen ? { serverSawNewPathMs: seen.firstMs } : {}),
      };
    });

  const goodputPackets = captures.filter((c) => c.point.goodput).flatMap((c) => packetsByLink.get(c.point.link) ?? []);
  const bins = goodputBins(goodputPackets, t0, QUIC_PORT, GOODPUT_BIN_MS, topology!.pathOf);
  const totalBytes = goodputPackets.filter((p) => p.srcPort === QUIC_PORT).reduce((sum, p) => sum + p.udpPayload, 0);
  const activeMs = bins.length ? bins[bins.length - 1]!.t_ms + GOODPUT_BIN_MS - bins[0]!.t_ms : 0;
  const perPath = new Map<string, number>();
  for (const p of goodputPackets) {
    if (p.srcPort !== QUIC_PORT && p.dstPort !== QUIC_PORT) continue;
    const client = p.srcPort === QUIC_PORT ? `${p.dst}:${p.dstPort}` : `${p.src}:${p.srcPort}`;
    const name = topology!.pathOf(client);
    perPath.set(name, (perPath.get(name) ?? 0) + p.ipBytes);
  }
  const summaryLine = clientLines.map(parseEventLine).find((e) => e?.kind === 'MIGRATION_SUMMARY');
  const report: LabReport = {
    schema: 1,
    scenario: o.scenario,
    mode: o.mode,
    runId,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    artifact: {
      name: artifact.name,
      fingerprint: artifact.manifest.fingerprint,
      chromium: artifact.manifest.chromium.version,
      revisions: { src: artifact.manifest.inputs.src ?? 'none', quiche: artifact.manifest.inputs.quiche },
      patchset: artifact.manifest.patches.patchset,
      dir: artifact.dir,
    },
    settings: {
      intervalMs: o.intervalMs,
      rateMbit: o.rateMbit,
      responseBytes,
      delayMs: o.delayMs,
      addresses: topology!.paths.map((p) => p.localAddress),
      serverAddress: SERVER_ADDRESS,
      serverPort: QUIC_PORT,
    },
    topology: {
      namespaces: [topology!.clientNs, topology!.serverNs],
      paths: topology!.paths,
      wireguard: topology!.wireguard,
      shaping: { qdisc: 'tbf', rateMbit: o.rateMbit, rates, netem: topology!.netem },
    },
    client: {
      exitCode: clientExit,
      requestSucceeded: requestsSucceeded(clientLines) > 0,
      summary: summaryLine?.fields ?? null,
    },
    migrations,
    serverPathChanges: serverLines.map(parseEventLine).filter((e) => e?.kind === 'PEER_MIGRATION').length,
    goodput: {
      binMs: GOODPUT_BIN_MS,
      bins,
      totalBytes,
      activeMs,
      meanMbit: activeMs ? Math.round(((totalBytes * 8) / (activeMs / 1000) / 1e6) * 100) / 100 : 0,
    },
    perPathBytes: [...perPath.entries()].map(([p, bytes]) => ({ path: p, bytes })).sort((a, b) => b.bytes - a.bytes),
    observers,
    linkable: linkability(migrations, observers),
    cidReuse: cidReuse(observers),
    notes,
    files,
  };
  if (!observers.some((ob) => ob.quicDissected))
    notes.push(
      'no short-header QUIC connection IDs were seen on any link (expected with the fixture programs, which do not speak QUIC on the wire): the connection-ID part of the observer view is empty',
    );
  if (!report.client.requestSucceeded) notes.push(`the download did not complete (client exit ${clientExit}); see ${files.clientLog}`);
  say('step', 'writing report.json and report.html');
  await writeReport(report, reportDir);
  if (!report.client.requestSucceeded && migrations.length === 0) {
    throw new SmokeTestError(`The client did not complete the download and reported no migration (exit ${clientExit}).`, {
      logPath: files.clientLog,
      tail: clientLines.slice(-20),
    });
  }
  return { report, reportDir };
}
