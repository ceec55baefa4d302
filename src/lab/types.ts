/** The lab's vocabulary: scenarios, options, and the report written to report.json (docs/lab.md). */
import type { TimerMigrationMode } from '../smoke/migration-mode.js';

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
  /** rotate-ips: how many client addresses on the link. */
  addresses?: number;
  /** Extra one-way delay per path in ms; needs the netem qdisc (reported when missing). */
  delayMs?: number;
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
  /** Path names (e.g. direct, wireguard, 10.213.1.11) of the old and new local endpoint. */
  fromPath: string;
  toPath: string;
  /** The server printed a PEER_MIGRATION with the same server_cid change and new address. */
  seenByServer: boolean;
  /** When the server capture first saw the new 4-tuple, ms after the first packet of the run. */
  serverSawNewPathMs?: number;
}

export interface Linkability {
  seq: number;
  linkable: boolean;
  /** How an observer could link old and new path: 'client-address', 'client-port', 'connection-id'. */
  by: string[];
  /** Observer links that saw both the old and the new 4-tuple (timing correlation is possible there). */
  observersSeeingBoth: string[];
  /** Whether the connection-ID part could be judged (the dissector saw short-header DCIDs). */
  cidChecked: boolean;
}

export interface GoodputBin {
  t_ms: number;
  path: string;
  /** Server-to-client UDP payload received on the client side in this bin, as bytes per second. */
  bytesPerSecond: number;
}

export interface LabReport {
  schema: 1;
  scenario: Scenario;
  mode: TimerMigrationMode;
  runId: string;
  startedAt: string;
  durationMs: number;
  artifact: {
    name: string;
    fingerprint: string;
    chromium: string;
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
  };
  topology: {
    namespaces: string[];
    paths: Array<{ name: string; localAddress: string; link: string }>;
    wireguard: 'kernel' | 'wireguard-go' | null;
    /** `rates`: the tbf rate of each link, Mbit/s. */
    shaping: { qdisc: 'tbf'; rateMbit: number; rates: Record<string, number>; netem: string };
  };
  client: { exitCode: number; requestSucceeded: boolean; summary: Record<string, string> | null };
  migrations: MigrationRecord[];
  serverPathChanges: number;
  goodput: { binMs: number; bins: GoodputBin[]; totalBytes: number; activeMs: number; meanMbit: number };
  perPathBytes: Array<{ path: string; bytes: number }>;
  observers: ObserverView[];
  linkable: Linkability[];
  cidReuse: Array<{ dcid: string; fourTuples: string[] }>;
  notes: string[];
  files: { clientLog: string; serverLog: string; labLog: string };
}

export interface LabResult {
  report: LabReport;
  reportDir: string;
}
