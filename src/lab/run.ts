import { existsSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { installArtifact, verifyInstalled, type InstalledArtifact } from '../artifacts/install.js';
import { buildLabel, manifestBackend, serverCertsOf } from '../artifacts/manifest.js';
import { SmokeTestError, ToolError, UsageError } from '../errors.js';
import { LogFile } from '../process/log-file.js';
import { seededRandom } from '../util/seeded-random.js';
import { ensureTestCerts } from '../smoke/certs.js';
import { helpText } from '../smoke/help-text.js';
import { TIMER_MIGRATION_MODES } from '../smoke/migration-mode.js';
import { parseEventLine } from '../smoke/event-lines.js';
import {
  clientArgs,
  clientOffers,
  pairsAmong,
  probeServer,
  runClient,
  startServer,
  timerMigrationFlags,
  type ClientOffers,
  type ClientRun,
  type ServerOffers,
  type ToyProgram,
  type ToyServer,
} from '../smoke/toy-programs.js';
import { analyseRun, type RawRun } from './analyse.js';
import { startCapture, type Capture } from './capture.js';
import { BASE_TOOLS, requireLabPrivileges, requireTools, WIREGUARD_TOOLS } from './host.js';
import { sampleHostLoad } from './host-load.js';
import { readCaptures } from './observer.js';
import { writeReport } from './report.js';
import { cleanupLeftovers, LabResources, newLabId } from './state.js';
import { buildTopology, MAX_CLIENT_ADDRESSES, QUIC_PORT, SERVER_ADDRESS, SHAPED_LINKS, type Topology } from './topology.js';
import { SCENARIOS, type LabEvent, type LabOptions, type LabReport, type LabResult } from './types.js';

export const LAB_DEFAULTS = {
  mode: 'hard',
  intervalMs: 500,
  durationMs: 3000,
  rateMbit: 40,
  addresses: 4,
  delayMs: 0,
  clients: 1,
  quietMs: 0,
  jitterMs: 0,
  timingWindowMs: 100,
} as const;
/** More clients than this on one host measure the host, not the migration (and the address plan ends). */
export const MAX_CLIENTS = 32;
/** The options with the defaults applied. */
type LabSettings = LabOptions & Required<Pick<LabOptions, keyof typeof LAB_DEFAULTS>>;

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
    ['clients', o.clients, 1],
    ['quiet-ms', o.quietMs, 0],
    ['jitter-ms', o.jitterMs, 0],
    ['timing-window-ms', o.timingWindowMs, 1],
  ] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value < min))
      throw new UsageError(`--${name} must be a number >= ${min} (got ${value}).`);
  }
  const clients = o.clients ?? LAB_DEFAULTS.clients;
  if (!Number.isInteger(clients) || clients > MAX_CLIENTS)
    throw new UsageError(`--clients must be a whole number from 1 to ${MAX_CLIENTS} (got ${clients}).`);
  const pool = o.scenario === 'rotate-ips' ? Math.max(2, o.addresses ?? LAB_DEFAULTS.addresses) : 1;
  if (clients * pool > MAX_CLIENT_ADDRESSES)
    throw new UsageError(
      `${clients} clients with ${pool} addresses each need more than the lab's ${MAX_CLIENT_ADDRESSES} client addresses.`,
      {
        hint: 'Use fewer --clients or fewer --addresses.',
      },
    );
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new UsageError(`--seed must be a whole number (got ${o.seed}).`);
  if (!o.out) throw new UsageError('The lab needs an output directory (--out).');
  for (const [link, rate] of Object.entries(o.linkRates ?? {})) {
    if (!SHAPED_LINKS[o.scenario].includes(link))
      throw new UsageError(`${o.scenario} has no link "${link}" to rate-limit.`, {
        hint: `Its links: ${SHAPED_LINKS[o.scenario].join(', ')}.`,
      });
    if (!Number.isFinite(rate) || rate < 1) throw new UsageError(`--rate-mbit ${link}= must be a number >= 1 (got ${rate}).`);
  }
}

/** An option given as undefined (an unset CLI flag) keeps its default. */
const withDefaults = (options: LabOptions): LabSettings =>
  ({ ...LAB_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) }) as LabSettings;

/** An installed artifact directory is used in place (verified); anything else goes through install. */
async function artifactFor(o: LabOptions, reportDir: string): Promise<InstalledArtifact> {
  if (existsSync(path.join(o.artifact, 'manifest.json'))) return verifyInstalled(o.artifact);
  return installArtifact(o.artifact, { to: o.installDir ?? path.join(reportDir, 'artifact'), signal: o.signal });
}

/** The artifact as the report names it. */
function artifactRecord(artifact: InstalledArtifact): LabReport['artifact'] {
  return {
    name: artifact.name,
    fingerprint: artifact.manifest.fingerprint,
    build: buildLabel(artifact.manifest),
    backend: manifestBackend(artifact.manifest),
    revisions: { src: artifact.manifest.inputs.src ?? 'none', quiche: artifact.manifest.inputs.quiche },
    patchset: artifact.manifest.patches.patchset,
    dir: artifact.dir,
  };
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
async function clientCapabilities(client: ToyProgram, o: LabSettings): Promise<ClientOffers> {
  const help = await helpText(client.path);
  const offers = clientOffers(help);
  const mode = o.mode;
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
  // The researcher's knobs of patch 0001: an artifact built before them has not got them.
  for (const [flag, value] of [
    ['--migrate_quiet_ms', o.quietMs],
    ['--migrate_jitter_ms', o.jitterMs],
  ] as const) {
    if (value > 0 && !help.includes(flag.slice(2)))
      throw new UsageError(`${client.name} in this artifact has no ${flag} (its --help does not offer it).`, {
        hint: 'Use an artifact built with the current patches/0001-client-intentional-migration.patch, or leave the option out.',
      });
  }
  return offers;
}

/** A client's paths: entry 0 is where its connection starts. */
const clientPaths = (topology: Topology, client: number) => topology.paths.filter((p) => p.client === client).map((p) => p.localAddress);

/** Entry 0 is where the connection starts; the client rotates over the rest, so the first comes back last. */
function migrateAddresses(list: string[]): string[] {
  return list.length > 1 ? [...list, list[0]!] : list;
}

/** When each client starts, ms after the first: one client starts at once; several at random phases within one interval. */
function clientPhases(clients: number, intervalMs: number, seed: number): number[] {
  if (clients === 1) return [0];
  const random = seededRandom(seed);
  return Array.from({ length: clients }, () => Math.floor(random() * intervalMs));
}

/** Progress for the display, and the notes the report keeps. */
interface Progress {
  say: (kind: 'step' | 'note', message: string) => void;
  note: (message: string) => void;
  notes: string[];
}

function progressOf(onEvent: ((event: LabEvent) => void) | undefined): Progress {
  const say = (kind: 'step' | 'note', message: string) => onEvent?.({ kind, message });
  const notes: string[] = [];
  return {
    say,
    notes,
    note: (message) => {
      notes.push(message);
      say('note', message);
    },
  };
}

/** What is settled before anything is created: the host can run the lab, the artifact, its programs, certs. */
interface Prepared {
  reportDir: string;
  artifact: InstalledArtifact;
  binaries: { client: ToyProgram; server: ToyProgram };
  offers: ClientOffers;
  serverOffers: ServerOffers;
  certs: { certificate: string; key: string };
}

async function prepare(o: LabSettings, progress: Progress): Promise<Prepared> {
  await requireLabPrivileges();
  await requireTools(o.scenario === 'two-paths' ? [...BASE_TOOLS, ...WIREGUARD_TOOLS] : BASE_TOOLS);
  const reportDir = path.resolve(o.out);
  await mkdir(reportDir, { recursive: true });
  const cleaned = await cleanupLeftovers();
  if (cleaned.length) progress.note(`removed leftovers of interrupted lab run(s) ${cleaned.join(', ')}`);

  progress.say('step', `verifying the artifact ${o.artifact}`);
  const artifact = await artifactFor(o, reportDir);
  const binaries = pickBinaries(artifact);
  const offers = await clientCapabilities(binaries.client, o);
  const serverOffers = await probeServer(binaries.server);
  const shipped = serverCertsOf(artifact.dir, artifact.manifest);
  const certs = existsSync(shipped.key) ? shipped : await ensureTestCerts(path.join(reportDir, 'certs'));
  return { reportDir, artifact, binaries, offers, serverOffers, certs };
}

/** The server in its namespace on the lab's port; the fixture server is paced under the slowest link. */
function startLabServer(
  prepared: Prepared,
  ns: string,
  o: { perConnectionMbit: number; log: LogFile; signal?: AbortSignal },
): Promise<ToyServer> {
  return startServer(prepared.binaries.server, {
    via: ['ip', 'netns', 'exec', ns],
    port: QUIC_PORT,
    certificate: prepared.certs.certificate,
    key: prepared.certs.key,
    // The fixture server paces each connection; keep the sum under the link rate so tbf shapes, not drops.
    extraArgs: prepared.serverOffers.sendRate ? [`--fixture_send_rate_mbps=${Math.max(1, Math.floor(o.perConnectionMbit * 0.9))}`] : [],
    log: o.log,
    signal: o.signal,
    settleMs: 300,
    exitedAtStart: (failed) => new ToolError(`${failed.name} exited at start.`, { tail: failed.lines.slice(-20), logPath: o.log.path }),
  });
}

/** One migrating client in the client namespace: one download of `responseBytes`; each MIGRATION line is a step. */
function runLabClient(
  prepared: Prepared,
  topology: Topology,
  o: LabSettings,
  run: { index: number; phaseMs: number; responseBytes: number; log: LogFile; say: Progress['say'] },
): Promise<ClientRun> {
  const url = `https://localhost/${run.responseBytes}`;
  const args = clientArgs({ host: SERVER_ADDRESS, port: QUIC_PORT, offers: prepared.offers, url }, [
    ...timerMigrationFlags(migrateAddresses(clientPaths(topology, run.index)), o.intervalMs, o.mode),
    ...(o.quietMs > 0 ? [`--migrate_quiet_ms=${o.quietMs}`] : []),
    ...(o.jitterMs > 0 ? [`--migrate_jitter_ms=${o.jitterMs}`] : []),
  ]);
  const who = o.clients > 1 ? `client ${run.index} ` : '';
  return runClient(prepared.binaries.client, args, {
    via: ['ip', 'netns', 'exec', topology.clientNs],
    log: run.log,
    signal: o.signal,
    timeoutMs: o.durationMs * 5 + 20_000,
    onLine: (line) => {
      const event = parseEventLine(line);
      if (event?.kind === 'MIGRATION')
        run.say(
          'step',
          `${who}migration ${event.fields.seq}: ${event.fields.from} -> ${event.fields.to} ${event.fields.result}${event.fields.took_ms ? ` (${event.fields.took_ms} ms)` : ''}`,
        );
    },
  });
}

/** The clients, each after its phase, side by side. */
async function runLabClients(
  prepared: Prepared,
  topology: Topology,
  o: LabSettings,
  run: { phases: number[]; responseBytes: number; logs: LogFile[]; say: Progress['say'] },
): Promise<RawRun['clients']> {
  return Promise.all(
    run.phases.map(async (phaseMs, index) => {
      if (phaseMs > 0) await sleep(phaseMs, undefined, { signal: o.signal });
      const client = await runLabClient(prepared, topology, o, {
        index,
        phaseMs,
        responseBytes: run.responseBytes,
        log: run.logs[index]!,
        say: run.say,
      });
      return { addresses: clientPaths(topology, index), phaseMs, lines: client.lines.filter(Boolean), exitCode: client.exitCode };
    }),
  );
}

/**
 * Setup, run, teardown: the scenario's namespaces, tcpdump on every link, the server and a migrating
 * client in them; then everything created is removed, whatever happened, and the captures are read
 * with tshark. Returns what was recorded, for analyseRun.
 */
async function record(o: LabSettings, prepared: Prepared, progress: Progress): Promise<RawRun> {
  const { reportDir } = prepared;
  const { say, note } = progress;
  const runId = newLabId();
  const log = new LogFile(path.join(reportDir, 'lab.log'));
  // One client: client.log; several: client-<k>.log each.
  const clientLogs = Array.from({ length: o.clients }, (_, k) => path.join(reportDir, o.clients > 1 ? `client-${k}.log` : 'client.log'));
  const files = { clientLog: clientLogs[0]!, clientLogs, serverLog: path.join(reportDir, 'server.log'), labLog: log.path };
  const serverLog = new LogFile(files.serverLog);
  const clientLogFiles = clientLogs.map((file) => new LogFile(file));
  const seed = o.seed ?? randomInt(2 ** 31);
  const phases = clientPhases(o.clients, o.intervalMs, seed);
  const resources = new LabResources(runId);
  // WireGuard private keys live only as long as the tunnel.
  const keyDir = path.join(reportDir, `.keys-${runId}`);
  await mkdir(keyDir, { recursive: true, mode: 0o700 });
  const rates = Object.fromEntries(SHAPED_LINKS[o.scenario].map((link) => [link, o.linkRates?.[link] ?? o.rateMbit]));
  // Sized (and, on the fixture, paced) for each client's share of the slowest link, so each download
  // lasts about --duration.
  const share = Math.min(...Object.values(rates)) / o.clients;
  const responseBytes = Math.round(((share * 1e6) / 8) * (o.durationMs / 1000) * 0.9);
  // lab.log stays open until the captures are read (tshark's notes go there too).
  try {
    const startedAt = new Date();
    let topology: Topology | undefined;
    const captures: Capture[] = [];
    let server: ToyServer | undefined;
    let ran: Pick<RawRun, 'topology' | 'clients' | 'serverLines' | 'host'>;
    try {
      say('step', `building the ${o.scenario} topology (run ${runId})`);
      topology = await buildTopology({
        scenario: o.scenario,
        addresses: o.addresses,
        clients: o.clients,
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

      server = await startLabServer(prepared, topology.serverNs, { perConnectionMbit: share, log: serverLog, signal: o.signal });
      say(
        'step',
        `${o.clients > 1 ? `${o.clients} clients ` : ''}downloading ${(responseBytes / 1e6).toFixed(1)} MB${o.clients > 1 ? ' each' : ''} at ${Object.entries(
          rates,
        )
          .map(([link, rate]) => `${link} ${rate}`)
          .join(', ')} Mbit/s, migrating every ${o.intervalMs} ms (${o.mode})${o.quietMs ? `, ${o.quietMs} ms quiet before each` : ''}${
          o.jitterMs ? `, jitter 0..${o.jitterMs} ms` : ''
        }${o.clients > 1 ? `; phases ${phases.join(', ')} ms (seed ${seed})` : ''}`,
      );
      const load = await sampleHostLoad();
      const clients = await runLabClients(prepared, topology, o, { phases, responseBytes, logs: clientLogFiles, say });
      const host = await load.stop();
      await sleep(300); // the server's last PEER_ lines and the final packets
      const { clientNs, serverNs, paths, wireguard, netem } = topology;
      ran = {
        topology: { clientNs, serverNs, paths, wireguard, netem },
        clients,
        // The server's lines until it stops (below): its summary comes at the end.
        serverLines: server.lines,
        host,
      };
    } finally {
      say('step', 'stopping processes and removing the namespaces');
      await server?.stop().catch(() => undefined);
      for (const c of captures) await c.stop().catch(() => undefined);
      for (const d of topology?.daemons ?? []) await d.stop().catch(() => undefined);
      await resources.release();
      await rm(keyDir, { recursive: true, force: true });
      for (const file of [serverLog, ...clientLogFiles]) await file.close().catch(() => undefined);
    }
    say('step', 'analysing the captures with tshark');
    const packets = await readCaptures(
      captures.map((c) => c.pcap),
      QUIC_PORT,
      { signal: o.signal, log },
    );
    return {
      runId,
      scenario: o.scenario,
      mode: o.mode,
      settings: {
        intervalMs: o.intervalMs,
        rateMbit: o.rateMbit,
        delayMs: o.delayMs,
        responseBytes,
        rates,
        clients: o.clients,
        quietMs: o.quietMs,
        jitterMs: o.jitterMs,
        seed,
      },
      startedAt: startedAt.toISOString(),
      endedAt: new Date().toISOString(),
      artifact: artifactRecord(prepared.artifact),
      topology: ran.topology,
      captures: captures.map((c, index) => ({ point: c.point, pcap: c.pcap, packets: packets[index]! })),
      clients: ran.clients,
      serverLines: ran.serverLines,
      host: ran.host,
      notes: [...progress.notes],
      files,
    };
  } finally {
    await log.close().catch(() => undefined);
  }
}

/**
 * A lab run without its report: check the options, prepare, and record (setup, run, teardown, the
 * captures read). runLab analyses what it returns; it is exported for recording runs to analyse
 * later (test/lab/record-raw-run.ts).
 */
export async function recordLab(options: LabOptions): Promise<{ raw: RawRun; reportDir: string }> {
  checkOptions(options);
  const o = withDefaults(options);
  const progress = progressOf(options.onEvent);
  const prepared = await prepare(o, progress);
  return { raw: await record(o, prepared, progress), reportDir: prepared.reportDir };
}

/**
 * The migration lab: install the artifact, build the scenario's namespaces, run the server and a
 * migrating client in them with tcpdump on every link, analyse the captures (src/lab/analyse.ts), and
 * write report.json and report.html. Everything created is removed before it returns, whatever happens.
 */
export async function runLab(options: LabOptions): Promise<LabResult> {
  const { raw, reportDir } = await recordLab(options);
  const report = analyseRun(raw, { windowMs: options.timingWindowMs ?? LAB_DEFAULTS.timingWindowMs });
  options.onEvent?.({ kind: 'step', message: 'writing report.json and report.html' });
  await writeReport(report, reportDir);
  const failed = report.clients.find((c) => !c.requestSucceeded && !report.migrations.some((m) => m.client === c.index));
  if (failed) {
    const who = raw.clients.length > 1 ? `Client ${failed.index}` : 'The client';
    throw new SmokeTestError(`${who} did not complete the download and reported no migration (exit ${failed.exitCode}).`, {
      logPath: raw.files.clientLogs[failed.index],
      tail: raw.clients[failed.index]!.lines.slice(-20),
    });
  }
  return { report, reportDir };
}
