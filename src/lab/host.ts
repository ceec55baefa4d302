import { readFile } from 'node:fs/promises';
import { PreflightError } from '../errors.js';
import { findOnPath } from '../process/find-on-path.js';

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;

/** Effective capabilities of this process, from /proc/self/status. */
async function effectiveCaps(): Promise<bigint> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  return hex ? BigInt(`0x${hex}`) : 0n;
}

const has = (caps: bigint, bit: number) => (caps >> BigInt(bit)) & 1n;

/**
 * Named network namespaces need CAP_SYS_ADMIN (`ip netns add` mounts) and links need CAP_NET_ADMIN:
 * in practice root. Refuse with exit 8 before touching anything.
 */
export async function requireLabPrivileges(): Promise<void> {
  const caps = await effectiveCaps();
  if (!has(caps, CAP_NET_ADMIN) || !has(caps, CAP_SYS_ADMIN)) {
    throw new PreflightError(
      'The migration lab needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces, veth links and WireGuard tunnels.',
      {
        hint: 'Run it as root (sudo build-quiche lab ...) or in a container started with --cap-add NET_ADMIN --cap-add SYS_ADMIN.',
      },
    );
  }
}

/** Which tools are on PATH; a missing one is a preflight error naming the Debian package. */
export async function requireTools(tools: Array<{ name: string; pkg: string }>): Promise<void> {
  const missing: string[] = [];
  for (const tool of tools) {
    if (!(await findOnPath(tool.name))) missing.push(`${tool.name} (Debian package ${tool.pkg})`);
  }
  if (missing.length) {
    throw new PreflightError(`The migration lab needs ${missing.join(', ')}.`, {
      hint: `Install them: apt-get install ${tools
        .filter((t) => missing.some((m) => m.startsWith(`${t.name} `)))
        .map((t) => t.pkg)
        .join(' ')}`,
    });
  }
}

export const BASE_TOOLS = [
  { name: 'ip', pkg: 'iproute2' },
  { name: 'tc', pkg: 'iproute2' },
  { name: 'tcpdump', pkg: 'tcpdump' },
  { name: 'tshark', pkg: 'tshark' },
];
export const WIREGUARD_TOOLS = [{ name: 'wg', pkg: 'wireguard-tools' }];
