import { exec } from '../process/exec.js';
import type { LogFile } from '../process/log-file.js';
import type { Background } from '../process/background.js';
import type { LabResources } from './state.js';
import type { Scenario } from './types.js';
import { createTunnel, type WireGuardKind } from './wireguard.js';

/**
 * The lab's networks: two namespaces (client, server) joined by veth links, all in 10.213.0.0/16,
 * which exists only inside them. Drawings in docs/lab.md.
 *
 *   rotate-ips / rebind-port   client c0 10.213.1.11.. ── s0 10.213.1.1 server
 *   two-paths                  client c0 10.213.1.2    ── s0 10.213.1.1 server   (direct)
 *                              client c1 10.213.2.2    ── s1 10.213.2.1          (tunnel underlay)
 *                              client wc 10.213.9.2 ══ WireGuard ══ ws 10.213.9.1
 *
 * With several clients all of them share the client namespace and its links, each with its own
 * addresses: rotate-ips client k owns 10.213.1.(11 + k*A) .. (10 + (k+1)*A), rebind-port client k
 * 10.213.1.(11 + k), two-paths client k 10.213.1.(2 + k) and, in the tunnel, 10.213.9.(2 + k).
 */

export const SERVER_ADDRESS = '10.213.1.1';
/** The shaped links of each scenario, by the names --rate-mbit accepts. */
export const SHAPED_LINKS: Record<Scenario, string[]> = {
  'rotate-ips': ['link'],
  'rebind-port': ['link'],
  'two-paths': ['direct', 'tunnel'],
};
export const QUIC_PORT = 4433;
export const WG_PORT = 51820;
const WG_TABLE = '213';

export interface CapturePoint {
  /** The observer's name in the report. */
  link: string;
  ns: string;
  iface: string;
  /** Client-side captures of QUIC payload count towards goodput (the server's and the tunnel's outer packets do not). */
  goodput: boolean;
}

export interface LabPath {
  /** The client (0-based) whose path it is. */
  client: number;
  name: string;
  /** The entry for --migrate_local_addresses (IP or IP%IFNAME). */
  localAddress: string;
  link: string;
}

export interface Topology {
  clientNs: string;
  serverNs: string;
  paths: LabPath[];
  captures: CapturePoint[];
  wireguard: WireGuardKind | null;
  netem: string;
  daemons: Background[];
  /** The name of the path a client endpoint (ip:port) is on. */
  pathOf: (endpoint: string) => string;
}

export interface TopologyOptions {
  scenario: Scenario;
  addresses: number;
  clients: number;
  /** tbf rate per link name. */
  rates: Record<string, number>;
  delayMs: number;
  resources: LabResources;
  keyDir: string;
  log?: LogFile;
  signal?: AbortSignal;
  note: (message: string) => void;
}

/** An endpoint's host, without its port or interface ("10.0.0.2%wg0:4433" -> "10.0.0.2"). */
export const hostPart = (endpoint: string) => endpoint.replace(/%.*$/, '').replace(/:\d+$/, '');

/** The most clients a scenario's address plan holds (rotate-ips: divided by the pool size). */
export const MAX_CLIENT_ADDRESSES = 200;

/** Each client's local addresses, in its --migrate_local_addresses order (before the wrap-around entry). */
function clientAddresses(scenario: Scenario, clients: number, addresses: number): string[][] {
  return Array.from({ length: clients }, (_, k) => {
    if (scenario === 'rebind-port') return [`10.213.1.${11 + k}`];
    if (scenario === 'rotate-ips') {
      const pool = Math.max(2, addresses);
      return Array.from({ length: pool }, (_, i) => `10.213.1.${11 + k * pool + i}`);
    }
    return [`10.213.1.${2 + k}`, `10.213.9.${2 + k}`];
  });
}

/** Where a capture point sits and what it can see (the observer models' table, docs/lab.md). */
export function observerPosition(scenario: Scenario, link: string): string {
  const positions: Record<string, string> =
    scenario === 'two-paths'
      ? {
          direct: "the client side of the direct link: only the direct path's 4-tuples",
          tunnel: "inside the WireGuard tunnel, as its far end (the tunnel's provider) sees it: only the tunnel path's 4-tuples",
          'tunnel-underlay': 'the network that carries the tunnel: WireGuard packets to the tunnel endpoint, no QUIC',
          server:
            "the server's network behind the tunnel's exit (every interface of the server namespace): both paths' 4-tuples, every client's",
        }
      : {
          link: "the clients' side of their one link (their access network): every client's 4-tuples",
          server: "the server's link: every client's 4-tuples",
        };
  return positions[link] ?? link;
}

/**
 * The name of the path a client endpoint (ip:port) is on: the path whose local address has its host
 * (direct, wireguard; in rotate-ips each address is a path named by itself), else the host. In
 * rebind-port the address stays: each port is its own path.
 */
export function pathNamer(scenario: Scenario, paths: LabPath[]): (endpoint: string) => string {
  if (scenario === 'rebind-port') return (e) => `port ${e.split(':').pop()}`;
  return (e) => paths.find((p) => hostPart(p.localAddress) === hostPart(e))?.name ?? hostPart(e);
}

export async function buildTopology(options: TopologyOptions): Promise<Topology> {
  const { resources, log, signal } = options;
  const ip = (...args: string[]) => exec('ip', args, { log, signal });
  const clientNs = resources.name('-client');
  const serverNs = resources.name('-server');
  for (const ns of [clientNs, serverNs]) {
    await resources.recordNamespace(ns);
    await ip('netns', 'add', ns);
    // Replies on the tunnel arrive from the server's direct address: loose reverse-path checks.
    await exec('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'], {
      log,
      signal,
    });
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
  }

  const veth = async (n: number, clientAddrs: string[], serverAddr: string) => {
    const [c, s] = [resources.name(`c${n}`), resources.name(`s${n}`)];
    await ip('link', 'add', c, 'netns', clientNs, 'type', 'veth', 'peer', 'name', s, 'netns', serverNs);
    for (const a of clientAddrs) await ip('-n', clientNs, 'addr', 'add', `${a}/24`, 'dev', c);
    await ip('-n', serverNs, 'addr', 'add', `${serverAddr}/24`, 'dev', s);
    await ip('-n', clientNs, 'link', 'set', c, 'up');
    await ip('-n', serverNs, 'link', 'set', s, 'up');
    return { c, s };
  };

  const netem = await probeNetem(clientNs, log, signal);
  if (options.delayMs > 0 && netem !== 'available')
    options.note(`netem is not available here (${netem}): --delay-ms ${options.delayMs} is not applied, links are only rate-limited`);
  const shape = async (ns: string, dev: string, link: string) =>
    shapeLink(ns, dev, options.rates[link]!, netem === 'available' ? options.delayMs : 0, log, signal);

  const owned = clientAddresses(options.scenario, options.clients, options.addresses);
  if (options.scenario !== 'two-paths') {
    const addrs = owned.flat();
    const { c, s } = await veth(0, addrs, SERVER_ADDRESS);
    await shape(clientNs, c, 'link');
    await shape(serverNs, s, 'link');
    const paths = owned.flatMap((list, client) => list.map((a) => ({ client, name: a, localAddress: a, link: 'link' })));
    return {
      clientNs,
      serverNs,
      paths,
      captures: [
        { link: 'server', ns: serverNs, iface: s, goodput: false },
        { link: 'link', ns: clientNs, iface: c, goodput: true },
      ],
      wireguard: null,
      netem,
      daemons: [],
      pathOf: pathNamer(options.scenario, paths),
    };
  }

  const direct = await veth(
    0,
    owned.map(([directAddress]) => directAddress!),
    SERVER_ADDRESS,
  );
  const underlay = await veth(1, ['10.213.2.2'], '10.213.2.1');
  // The tunnel's rate is the underlay's: WireGuard adds its overhead inside it, as on a real link.
  for (const [ns, dev, link] of [
    [clientNs, direct.c, 'direct'],
    [serverNs, direct.s, 'direct'],
    [clientNs, underlay.c, 'tunnel'],
    [serverNs, underlay.s, 'tunnel'],
  ] as const)
    await shape(ns, dev, link);
  const wgClient = resources.name('wc');
  const wgServer = resources.name('ws');
  const tunnel = await createTunnel(
    {
      ns: clientNs,
      ifname: wgClient,
      addresses: owned.map(([, tunnelAddress]) => `${tunnelAddress!}/24`),
      peerEndpoint: `10.213.2.1:${WG_PORT}`,
      allowedIps: '10.213.0.0/16',
    },
    { ns: serverNs, ifname: wgServer, addresses: ['10.213.9.1/24'], listenPort: WG_PORT, allowedIps: '10.213.9.0/24' },
    { resources, keyDir: options.keyDir, log, signal },
  );
  // A client reaches the server's one address over either path: packets from a tunnel address take
  // the tunnel (policy routing); the server answers tunnel peers from that same address.
  await ip('-n', clientNs, 'rule', 'add', 'from', '10.213.9.0/24', 'lookup', WG_TABLE);
  await ip('-n', clientNs, 'route', 'add', 'default', 'dev', wgClient, 'table', WG_TABLE);
  await ip('-n', serverNs, 'route', 'replace', '10.213.9.0/24', 'dev', wgServer, 'src', SERVER_ADDRESS);
  const paths = owned.flatMap(([directAddress, tunnelAddress], client) => [
    { client, name: 'direct', localAddress: directAddress!, link: 'direct' },
    { client, name: 'wireguard', localAddress: `${tunnelAddress!}%${wgClient}`, link: 'tunnel' },
  ]);
  return {
    clientNs,
    serverNs,
    paths,
    captures: [
      { link: 'server', ns: serverNs, iface: 'any', goodput: false },
      { link: 'direct', ns: clientNs, iface: direct.c, goodput: true },
      { link: 'tunnel', ns: clientNs, iface: wgClient, goodput: true },
      { link: 'tunnel-underlay', ns: clientNs, iface: underlay.c, goodput: false },
    ],
    wireguard: tunnel.kind,
    netem,
    daemons: tunnel.daemons,
    pathOf: pathNamer(options.scenario, paths),
  };
}

/** netem is a separate kernel module that many hosts lack: try it on the namespace's loopback. */
async function probeNetem(ns: string, log?: LogFile, signal?: AbortSignal): Promise<string> {
  const probe = await exec('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '0ms'], {
    log,
    signal,
    allowFailure: true,
  });
  if (probe.exitCode !== 0) return `unavailable: ${probe.stderr.trim().split('\n')[0] || `tc exit ${probe.exitCode}`}`;
  await exec('tc', ['-n', ns, 'qdisc', 'del', 'dev', 'lo', 'root'], { log, signal, allowFailure: true });
  return 'available';
}

/** Egress rate limit with tbf (10 ms of burst), under a netem delay when one is asked for and available. */
async function shapeLink(ns: string, dev: string, rateMbit: number, delayMs: number, log?: LogFile, signal?: AbortSignal): Promise<void> {
  const burstBytes = Math.max(16_000, Math.round((rateMbit * 1e6) / 8 / 100));
  const tbf = ['tbf', 'rate', `${rateMbit}mbit`, 'burst', String(burstBytes), 'latency', '100ms'];
  if (delayMs > 0) {
    await exec('tc', ['-n', ns, 'qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'netem', 'delay', `${delayMs}ms`], { log, signal });
    await exec('tc', ['-n', ns, 'qdisc', 'add', 'dev', dev, 'parent', '1:1', 'handle', '10:', ...tbf], { log, signal });
  } else {
    await exec('tc', ['-n', ns, 'qdisc', 'add', 'dev', dev, 'root', ...tbf], { log, signal });
  }
}
