/**
 * distcc host specifications as DISTCC_HOSTS spells them (distcc(1), "HOST SPECIFICATIONS"), read into
 * what build-quiche needs: how to reach a host, how many jobs it takes at a time, and whether it is on
 * a private network. Only plain mode: pump mode (`,cpp`) preprocesses on the hosts and needs their
 * headers to match ours, which nothing checks. `localhost[/N]` is this machine compiling too, N jobs at
 * a time, without a daemon (distcc(1): list it first unless the client is weaker than a fifth of the
 * whole; on a small cluster its cores are worth having).
 */
import { isIP } from 'node:net';
import { ConfigError } from '../errors.js';

/** distcc's default when a host gives no /LIMIT (distcc(1): "defaults to four per host"). */
export const DEFAULT_SLOTS = 4;
/** distccd's port. */
export const DISTCC_PORT = 3632;
/** distcc's default slots for localhost. */
export const DEFAULT_LOCAL_SLOTS = 2;

export interface DistccHost {
  /** As written in the config; distcc names the host by this string in its log. */
  spec: string;
  /** TCP to a distccd, distccd started over ssh (`[USER]@HOST`), or this machine (`localhost`). */
  kind: 'tcp' | 'ssh' | 'local';
  user?: string;
  /** Name or address. */
  host: string;
  /** TCP port (3632 unless given). */
  port: number;
  /** Jobs at a time (/LIMIT). */
  slots: number;
  /** ,lzo ,auth ... */
  options: string[];
}

export interface HostList {
  hosts: DistccHost[];
  /** Global options distcc reads from the same list (--randomize, --localslots_cpp=N), kept in order. */
  globals: string[];
}

const GLOBALS = /^(--randomize|--localslots_cpp=\d+)$/;
const KNOWN_OPTIONS = new Set(['lzo', 'zstd', 'auth']);

/** One host spec; a ConfigError names what is wrong with it. */
export function parseHostSpec(spec: string): DistccHost {
  const bad = (why: string, hint?: string) =>
    new ConfigError(`distributed.hosts: '${spec}' ${why}.`, {
      hint: hint ?? "Write a distcc host as 'HOST[:PORT][/SLOTS][,lzo]' (TCP) or '[USER]@HOST[/SLOTS][,lzo]' (ssh).",
    });
  const local = /^localhost(?:\/(\d+))?$/.exec(spec);
  if (local) {
    if (local[1] !== undefined && Number(local[1]) < 1) throw bad('has a slot count that is not a positive number');
    return { spec, kind: 'local', host: 'localhost', port: 0, slots: local[1] ? Number(local[1]) : DEFAULT_LOCAL_SLOTS, options: [] };
  }
  const [main = '', ...options] = spec.split(',');
  for (const option of options) {
    if (option === 'cpp') {
      throw bad(
        'asks for pump mode',
        "Drop ',cpp': build-quiche uses plain mode (pump mode needs identical headers on every host, and ccache does not work with it).",
      );
    }
    if (!KNOWN_OPTIONS.has(option)) throw bad(`has an option distcc does not know (${option})`);
  }
  const ssh = main.includes('@');
  let rest = main;
  let user: string | undefined;
  if (ssh) {
    const at = rest.indexOf('@');
    user = rest.slice(0, at) || undefined;
    rest = rest.slice(at + 1);
  }
  let slots = DEFAULT_SLOTS;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const limit = rest.slice(slash + 1);
    // ssh hosts may add :COMMAND after the limit; keep it out of the number.
    const digits = /^(\d+)(:.*)?$/.exec(limit);
    if (!digits || Number(digits[1]) < 1) throw bad('has a slot count that is not a positive number');
    slots = Number(digits[1]);
    rest = rest.slice(0, slash);
  }
  let port = DISTCC_PORT;
  if (!ssh) {
    const colon = /^(.*):(\d+)$/.exec(rest);
    if (colon && isIP(rest) !== 6) {
      rest = colon[1]!;
      port = Number(colon[2]);
    }
  } else {
    rest = rest.replace(/:.*$/, '');
  }
  const host = rest.replace(/^\[(.*)\]$/, '$1');
  if (!host || !/^[A-Za-z0-9.\-:]+$/.test(host)) throw bad('has no host name or address');
  if (host === 'localhost' || host === '127.0.0.1' || host === '::1') {
    throw bad(
      'names this machine through a daemon',
      "Write 'localhost/N' for compiles here (distcc runs them without a daemon); a daemon on this machine, for tests, by another of its addresses.",
    );
  }
  return { spec, kind: ssh ? 'ssh' : 'tcp', ...(user ? { user } : {}), host, port, slots, options };
}

/** The config's list: hosts and distcc's global options. At least one host (the schema says so too). */
export function parseHostList(specs: readonly string[]): HostList {
  const globals = specs.filter((s) => GLOBALS.test(s));
  const hosts = specs.filter((s) => !GLOBALS.test(s)).map(parseHostSpec);
  if (hosts.length && hosts.every((h) => h.kind === 'local')) {
    throw new ConfigError('distributed.hosts names only localhost.', {
      hint: 'List the other machines to compile on (localhost adds this one).',
    });
  }
  const seen = new Set<string>();
  for (const host of hosts) {
    const key = host.kind === 'local' ? 'local' : `${host.kind}:${host.user ?? ''}@${host.host}:${host.port}`;
    if (seen.has(key))
      throw new ConfigError(`distributed.hosts names ${host.host} twice.`, {
        hint: 'List each host once; its /SLOTS says how many jobs it takes.',
      });
    seen.add(key);
  }
  return { hosts, globals };
}

/** The name distcc's log uses for a host ("compile x.cc on 10.0.0.5/8,lzo completed ok"), shortened. */
export const hostLabel = (host: Pick<DistccHost, 'host' | 'port'>) =>
  host.port === DISTCC_PORT || host.port === 0 ? host.host : `${host.host}:${host.port}`;

/** Jobs the other machines take at a time. */
export const remoteSlots = (hosts: readonly DistccHost[]) => hosts.filter((h) => h.kind !== 'local').reduce((sum, h) => sum + h.slots, 0);

/** Jobs this machine compiles at a time when `localhost/N` is listed (0 when not). */
export const localSlots = (hosts: readonly DistccHost[]) => hosts.filter((h) => h.kind === 'local').reduce((sum, h) => sum + h.slots, 0);

const v4 = (address: string) => address.split('.').map(Number) as [number, number, number, number];

/**
 * RFC 1918 private, loopback, link-local, the shared CGNAT range (RFC 6598), and IPv6 unique-local and
 * link-local. A name must be resolved first (the caller's job): only addresses are judged.
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) {
    const [a, b] = v4(address);
    return (
      a === 10 ||
      a === 127 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (family === 6) {
    const lower = address.toLowerCase();
    if (lower === '::1') return true;
    if (lower.startsWith('::ffff:')) return isPrivateAddress(lower.slice(7));
    return /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower);
  }
  return false;
}
