/** The lab's vocabulary: scenarios, options, and the report written to report.json (docs/lab.md). */
import type { TimerMigrationMode } from '../smoke/migration-mode.js';
import type { Interval } from './interval.js';
import type { LinkingOptions, ModelScore, ObserverModel } from './linking.js';

export const SCENARIOS = ['two-paths', 'rotate-ips', 'rebind-port'] as const;
export type Scenario = (typeof SCENARIOS)[number];
/** The lab migrates on a timer: --mode is the client's --migrate_mode (the migration modes are in src/smoke/). */
export { TIMER_MIGRATION_MODES as MIGRATE_MODES } from '../smoke/migration-mode.js';
export type { TimerMigrationMode as MigrateMode } from '../smoke/migration-mode.js';

/** One line of progress for a display: the lab prints nothing itself. */
export interface LabEvent {
  /** 'step': a phase started; 'note': something worth knowing (e.g. netem missing); 'run': a sweep point. */
  kind: 'step' | 'note' | 'run';
  message: string;
}

export interface LabOptions {
  /** An artifact tarball, dist directory, store directory, URL, or an installed artifact directory. */
  artifact: string;
  scenario: Scenario;
  mode?: TimerMigrationMode;
  /** --migrate_interval_ms: how often the client migrates during the download. */
  intervalMs?: number;
  /** How long the download should last at the link rate (it sizes the response). */
  durationMs?: number;
  /** tbf rate on every link, Mbit/s. */
  rateMbit?: number;
  /** A different rate for some links, by name (rotate-ips/rebind-port: link; two-paths: direct, tunnel). */
  linkRates?: Record<string, number>;
  /** rotate-ips: how many addresses each client rotates over. */
  addresses?: number;
  /** Extra one-way delay per path in ms; needs the netem qdisc (reported when missing). */
  delayMs?: number;
  /**
   * Concurrent clients, each its own process with its own addresses, against the one server; each
   * starts after a random phase within one interval, so their migrations do not line up.
   */
  clients?: number;
  /** --migrate_quiet_ms: the client stops reading and sending this long before each migration. */
  quietMs?: number;
  /** --migrate_jitter_ms: a uniform 0..J ms added to each interval. */
  jitterMs?: number;
  /** The timing models' window (analysis only), ms. */
  timingWindowMs?: number;
  /** Seeds the clients' phases (default: random; the report records it). */
  seed?: number;
  out: string;
  signal?: AbortSignal;
  onEvent?: (event: LabEvent) => void;
  /** Where the artifact is installed (default: <out>/artifact). */
  installDir?: string;
}

export interface FourTupleStats {
  client: string;
  server: string;
  packets: number;
  bytes: number;
  /** 'quic' when the server end is the lab's QUIC port, 'wireguard' for the tunnel's outer packets. */
  kind: 'quic' | 'wireguard' | 'other';
  firstMs: number;
  lastMs: number;
  /** Destination connection IDs of short-header QUIC packets on this 4-tuple (empty when not QUIC on the wire). */
  dcids: string[];
}

export interface ObserverView {
  link: string;
  /** Where the capture ran: namespace and interface. */
  capturedAt: string;
  pcap: string;
  fourTuples: FourTupleStats[];
  dcids: string[];
  bytes: number;
  packets: number;
  /** Whether tshark dissected short-header QUIC here (false on the fixture programs and inside WireGuard). */
  quicDissected: boolean;
}

export interface MigrationRecord {
  /** Which client (0-based) made it. */
  client: number;
  seq: number;
  t_ms: number;
  from: string;
  to: string;
  serverCid: { old: string; new: string };
  result: string;
  reason?: string;
  tookMs: number;
  /** How long the client held this migration back to pace them (patch 0001's paced_ms), if it did. */
  pacedMs?: number;
  /** The quiet gap before the switch (--migrate_quiet_ms), if there was one; not part of tookMs. */
  quietMs?: number;
  /** Path names (e.g. direct, wireguard, 10.213.1.11) of the old and new local endpoint. */
  fromPath: string;
  toPath: string;
  /** The server printed a PEER_MIGRATION with the same server_cid change and new address. */
  seenByServer: boolean;
  /** When the server capture first saw the new 4-tuple, ms after the first packet of the run. */
  serverSawNewPathMs?: number;
}

export interface Linkability {
  client: number;
  seq: number;
  /** By an identifier, with the connection IDs of every observer pooled (the colluding observers of the CID note). */
  linkable: boolean;
  /** How an observer could link old and new path: 'client-address', 'client-port', 'connection-id'. */
  by: string[];
  /** Observer links that saw both the old and the new 4-tuple (timing correlation is possible there). */
  observersSeeingBoth: string[];
  /** Whether the connection-ID part could be judged (the dissector saw short-header DCIDs). */
  cidChecked: boolean;
  /** Per observer model, the observers that linked this migration's new 4-tuple to its old one. */
  linkedBy: Record<ObserverModel, string[]>;
}

/** Where a capture point sits, as the observer models' table names it. */
export interface ObserverPosition {
  link: string;
  sits: string;
  /** QUIC 4-tuples it saw. */
  flows: number;
}

export interface LinkingReport {
  options: LinkingOptions;
  rules: Record<ObserverModel, string>;
  observers: ObserverPosition[];
  /** Every model at every observer. */
  scores: ModelScore[];
  /** Per model, the observer that linked most (the headline's); null when no observer saw a QUIC flow. */
  best: Record<ObserverModel, ModelScore | null>;
}

export interface ClientRecord {
  index: number;
  /** Its --migrate_local_addresses (entry 0 first). */
  addresses: string[];
  /** How long after the first client it started, ms. */
  phaseMs: number;
  exitCode: number;
  requestSucceeded: boolean;
  summary: Record<string, string> | null;
}

/** How busy the host was while the clients ran: with many clients on few cores, the host is the limit. */
export interface HostLoad {
  cpus: number;
  /** Mean fraction of all CPUs busy during the download (any process), and the busiest half second. */
  busy: number | null;
  peak: number | null;
  /** busy >= HOST_LIMIT_BUSY: the numbers measure the host as much as the migration. */
  limited: boolean;
}

export interface GoodputBin {
  t_ms: number;
  path: string;
  /** Server-to-client UDP payload received on the client side in this bin, as bytes per second. */
  bytesPerSecond: number;
}

export interface LabReport {
  schema: 2;
  scenario: Scenario;
  mode: TimerMigrationMode;
  runId: string;
  startedAt: string;
  durationMs: number;
  artifact: {
    name: string;
    fingerprint: string;
    /** What the build is called (a Chromium version, or quiche-<commit12>) and the backend that made it. */
    build: string;
    backend: string;
    revisions: { src: string; quiche: string };
    patchset: string;
    dir: string;
  };
  settings: {
    intervalMs: number;
    rateMbit: number;
    responseBytes: number;
    delayMs: number;
    addresses: string[];
    serverAddress: string;
    serverPort: number;
    clients: number;
    quietMs: number;
    jitterMs: number;
    seed: number;
  };
  topology: {
    namespaces: string[];
    paths: Array<{ client: number; name: string; localAddress: string; link: string }>;
    wireguard: 'kernel' | 'wireguard-go' | null;
    /** `rates`: the tbf rate of each link, Mbit/s. */
    shaping: { qdisc: 'tbf'; rateMbit: number; rates: Record<string, number>; netem: string };
  };
  /** All clients together: the first non-zero exit code, whether every download completed, client 0's summary. */
  client: { exitCode: number; requestSucceeded: boolean; summary: Record<string, string> | null };
  clients: ClientRecord[];
  host: HostLoad;
  migrations: MigrationRecord[];
  serverPathChanges: number;
  goodput: { binMs: number; bins: GoodputBin[]; totalBytes: number; activeMs: number; meanMbit: number };
  perPathBytes: Array<{ path: string; bytes: number }>;
  observers: ObserverView[];
  linkable: Linkability[];
  linking: LinkingReport;
  /** The report's first line on linkability: per model, how many migrations the best observer linked. */
  headline: string;
  cidReuse: Array<{ dcid: string; fourTuples: string[] }>;
  notes: string[];
  /** `clientLog`: client 0's log; `clientLogs`: every client's (client.log, or client-<k>.log with several). */
  files: { clientLog: string; clientLogs: string[]; serverLog: string; labLog: string };
}

export type { Interval, ModelScore, ObserverModel };

export interface LabResult {
  report: LabReport;
  reportDir: string;
}
