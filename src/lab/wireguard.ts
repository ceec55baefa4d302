import { access, chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ToolError } from '../errors.js';
import { exec } from '../process/exec.js';
import type { LogFile } from '../process/log-file.js';
import { startBackground, type Background } from '../process/background.js';
import type { LabResources } from './state.js';

/**
 * A real WireGuard tunnel between two namespaces: the kernel module when it loads, else
 * wireguard-go (userspace over /dev/net/tun). Keys are fresh per run.
 */

export type WireGuardKind = 'kernel' | 'wireguard-go';

export interface WgEnd {
  ns: string;
  ifname: string;
  /** Inner addresses of this end (address/prefix); several clients each have their own. */
  addresses: string[];
  listenPort?: number;
  /** The peer's outer endpoint (underlay address:port), for the side that initiates. */
  peerEndpoint?: string;
  /** Inner addresses routed to (and accepted from) the peer at this end. */
  allowedIps: string;
}

export interface WgTunnel {
  kind: WireGuardKind;
  daemons: Background[];
}

async function genKeyPair(log: LogFile | undefined, signal?: AbortSignal): Promise<{ privateKey: string; publicKey: string }> {
  const privateKey = (await exec('wg', ['genkey'], { log: undefined, signal })).stdout.trim();
  const publicKey = (await exec('wg', ['pubkey'], { input: `${privateKey}\n`, signal })).stdout.trim();
  log?.write(`wireguard: generated a key pair (public ${publicKey})`);
  return { privateKey, publicKey };
}

async function waitForSocket(file: string, daemon: Background, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (
      await access(file).then(
        () => true,
        () => false,
      )
    )
      return;
    if (daemon.exited()) throw new ToolError(`wireguard-go exited before creating ${file}.`, { tail: daemon.lines.slice(-20) });
    if (Date.now() > deadline)
      throw new ToolError(`wireguard-go did not create ${file} within ${timeoutMs} ms.`, { tail: daemon.lines.slice(-20) });
    await sleep(20);
  }
}

/** Create the interface in its namespace: kernel first, wireguard-go when the module is not there. */
async function createInterface(
  end: WgEnd,
  resources: LabResources,
  log: LogFile | undefined,
  signal: AbortSignal | undefined,
  kind?: WireGuardKind,
): Promise<{ kind: WireGuardKind; daemon?: Background }> {
  if (kind !== 'wireguard-go') {
    const kernel = await exec('ip', ['-n', end.ns, 'link', 'add', end.ifname, 'type', 'wireguard'], { log, signal, allowFailure: true });
    if (kernel.exitCode === 0) return { kind: 'kernel' };
  }
  await resources.recordWgSocket(end.ifname);
  const daemon = startBackground(`wireguard-go ${end.ifname}`, 'ip', ['netns', 'exec', end.ns, 'wireguard-go', '-f', end.ifname], {
    log,
    signal,
  });
  await waitForSocket(`/var/run/wireguard/${end.ifname}.sock`, daemon, 5000);
  return { kind: 'wireguard-go', daemon };
}

export async function createTunnel(
  a: WgEnd,
  b: WgEnd,
  options: { resources: LabResources; keyDir: string; log?: LogFile; signal?: AbortSignal },
): Promise<WgTunnel> {
  const { log, signal, resources } = options;
  const first = await createInterface(a, resources, log, signal);
  const second = await createInterface(b, resources, log, signal, first.kind);
  const daemons = [first.daemon, second.daemon].filter((d): d is Background => d !== undefined);
  const keys = [await genKeyPair(log, signal), await genKeyPair(log, signal)];
  const ends = [a, b];
  for (const [i, end] of ends.entries()) {
    // wg reads the private key from a file; it lives in the run directory, readable by root only.
    const keyFile = path.join(options.keyDir, `${end.ifname}.key`);
    await writeFile(keyFile, `${keys[i]!.privateKey}\n`, { mode: 0o600 });
    await chmod(keyFile, 0o600);
    const args = ['netns', 'exec', end.ns, 'wg', 'set', end.ifname, 'private-key', keyFile];
    if (end.listenPort) args.push('listen-port', String(end.listenPort));
    args.push('peer', keys[1 - i]!.publicKey, 'allowed-ips', end.allowedIps);
    if (end.peerEndpoint) args.push('endpoint', end.peerEndpoint);
    await exec('ip', args, { log, signal });
    for (const address of end.addresses) await exec('ip', ['-n', end.ns, 'addr', 'add', address, 'dev', end.ifname], { log, signal });
    await exec('ip', ['-n', end.ns, 'link', 'set', end.ifname, 'up'], { log, signal });
  }
  return { kind: first.kind, daemons };
}
