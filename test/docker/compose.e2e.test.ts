/**
 * examples/docker-compose, run for real: podman-compose (Debian's) builds the builder image's
 * install stage and the demo image on a local debootstrap Debian, starts the server and the client
 * with a WireGuard tunnel between them, and the client migrates its download between the direct
 * path and the tunnel. With the fixture artifact (the real one when BQ_LAB_REAL_ARTIFACT names a
 * tarball of it). Minutes long: the docker tier (`npm run test:docker`); it skips, saying why, where
 * podman or podman-compose cannot run.
 */
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { detectCaBundle, ensureImage, IMAGE_INPUTS } from '../../src/docker/index.js';
import { readPackets } from '../../src/lab/observer.js';
import { matchMigrations, parseEventLine } from '../../src/smoke/event-lines.js';
import { fixtureArtifact } from '../support/fixture-artifact.js';
import { BASE_IMAGE, createPodmanSandbox, podmanUnavailable, REPO_ROOT, type PodmanSandbox } from '../support/podman.js';

vi.setConfig({ testTimeout: 1_800_000, hookTimeout: 3_600_000 });

async function composeUnavailable(): Promise<string | undefined> {
  const podman = await podmanUnavailable();
  if (podman) return podman;
  const which = await execa('sh', ['-c', 'command -v podman-compose'], { reject: false });
  if (which.exitCode !== 0) return 'podman-compose is not installed (apt-get install -y podman-compose; scripts/setup.sh --docker)';
  if (!existsSync('/dev/net/tun')) return 'no /dev/net/tun for wireguard-go';
  return undefined;
}

const unavailable = await composeUnavailable();
if (unavailable) console.warn(`test/docker/compose.e2e.test.ts: skipped: ${unavailable}.`);

const PROJECT = 'bqdemo';

/** The CNI bridges podman made on the host (cni-podman<N>): the ones this test made are removed after it. */
async function cniBridges(): Promise<string[]> {
  const links = await execa('ip', ['-o', 'link', 'show', 'type', 'bridge'], { reject: false });
  return [...String(links.stdout).matchAll(/^\d+: (cni-podman\d+)[:@]/gm)].map((m) => m[1]!);
}
const realArtifact = process.env.BQ_LAB_REAL_ARTIFACT?.endsWith('.tar.gz') ? process.env.BQ_LAB_REAL_ARTIFACT : undefined;

describe.skipIf(unavailable !== undefined)('examples/docker-compose under podman-compose', () => {
  let sandbox: PodmanSandbox;
  let example: string;
  let env: NodeJS.ProcessEnv;
  let up: { exitCode: number; output: string };
  let clientLines: string[];
  let serverLines: string[];
  const timings: Record<string, number> = {};

  const compose = (args: string[], timeoutMs = 1_800_000) =>
    execa('podman-compose', ['-p', PROJECT, ...args], {
      cwd: example,
      env,
      extendEnv: false,
      reject: false,
      all: true,
      timeout: timeoutMs,
    });

  let bridgesBefore: string[] = [];

  beforeAll(async () => {
    bridgesBefore = await cniBridges();
    sandbox = await createPodmanSandbox();
    Object.assign(timings, sandbox.timings);
    // The builder image the demo's install stage runs build-quiche in, from this checkout.
    const context = path.join(sandbox.dir, 'context');
    for (const input of IMAGE_INPUTS) await cp(path.join(REPO_ROOT, input), path.join(context, input), { recursive: true });
    const started = Date.now();
    const engine = { command: 'podman', kind: 'podman' as const, rootless: false, version: '' };
    const builder = await ensureImage({
      engine,
      spec: { contextDir: context, baseImage: BASE_IMAGE, uid: 1000, gid: 1000 },
      env: sandbox.env,
      logDir: sandbox.dir,
      network: 'host',
      // A TLS-intercepting proxy's CA, as `build-quiche --docker` passes it (Node.js comes from the npm registry).
      caBundle: detectCaBundle(process.env),
    });
    timings['builder image'] = Date.now() - started;

    example = path.join(sandbox.dir, 'example');
    await cp(path.join(REPO_ROOT, 'examples', 'docker-compose'), example, { recursive: true });
    const artifact = realArtifact ?? (await fixtureArtifact());
    await cp(artifact, path.join(example, 'artifacts', path.basename(artifact)));
    await mkdir(path.join(example, 'captures'));
    env = {
      ...sandbox.env,
      ARTIFACT: path.basename(artifact),
      BUILDER_IMAGE: builder.tag,
      BASE_IMAGE,
      MIGRATE_INTERVAL_MS: '300',
      // The fixture server sends 80 Mbit/s: 20 MB last about two seconds, six migrations.
      RESPONSE_BYTES: '20000000',
    };
    const upStarted = Date.now();
    // podman-compose 1.0.3 returns when the client exits but leaves the server's `podman start -a`
    // attached to its output: into a file, not a pipe this test would wait on until `down`.
    const upLog = path.join(sandbox.dir, 'up.log');
    const result = await execa('sh', ['-c', `podman-compose -p ${PROJECT} up --build --exit-code-from client > "$UP_LOG" 2>&1`], {
      cwd: example,
      env: { ...env, UP_LOG: upLog },
      extendEnv: false,
      reject: false,
      timeout: 1_800_000,
    });
    up = { exitCode: result.exitCode ?? -1, output: await readFile(upLog, 'utf8') };
    timings['podman-compose up'] = Date.now() - upStarted;
    const logs = async (service: string) =>
      String((await sandbox.podman(['logs', `${PROJECT}_${service}_1`])).stdout)
        .split('\n')
        .filter(Boolean);
    clientLines = await logs('client');
    serverLines = await logs('server');
  });

  afterAll(async () => {
    if (example) await compose(['down', '-v'], 300_000);
    await sandbox?.close();
    for (const bridge of (await cniBridges()).filter((b) => !bridgesBefore.includes(b)))
      await execa('ip', ['link', 'del', bridge], { reject: false });
    console.log(
      `compose test timings:\n${Object.entries(timings)
        .map(([step, ms]) => `  ${step.padEnd(28)} ${Math.round(ms / 100) / 10} s`)
        .join('\n')}`,
    );
  });

  test('the client completes its download, migrating between the direct path and the tunnel', () => {
    expect(up.exitCode, up.output.slice(-4000)).toBe(0);
    expect(clientLines).toContain('Request succeeded (200).');
    const ok = clientLines.map(parseEventLine).filter((e) => e?.kind === 'MIGRATION' && e.fields.result === 'ok');
    expect(ok.length, clientLines.join('\n')).toBeGreaterThanOrEqual(3);
    const hosts = ok.map((e) => e!.fields.to!.replace(/:\d+(%.*)?$/, ''));
    // Alternating: the tunnel first, then direct, tunnel, ...
    expect(hosts.slice(0, 3)).toEqual(['10.213.9.2', '10.213.1.2', '10.213.9.2']);
  });

  test('the server saw every migration (PEER_MIGRATION with the same connection IDs)', () => {
    const match = matchMigrations(clientLines, serverLines);
    expect(match.clientOk.length).toBeGreaterThanOrEqual(3);
    expect(match.unmatched, serverLines.join('\n')).toEqual([]);
    expect(match.matched).toHaveLength(match.clientOk.length);
  });

  test("the server's capture has the QUIC 4-tuples of both paths and the WireGuard packets of the underlay", async () => {
    const packets = await readPackets(path.join(example, 'captures', 'server.pcap'), 4433);
    const quicClients = new Set(packets.filter((p) => p.dstPort === 4433).map((p) => p.src));
    expect([...quicClients].sort()).toEqual(['10.213.1.2', '10.213.9.2']);
    const wireguard = packets.filter((p) => p.dstPort === 51820 || p.srcPort === 51820);
    expect(wireguard.length).toBeGreaterThan(100);
    expect(new Set(wireguard.map((p) => (p.dstPort === 51820 ? p.src : p.dst)))).toEqual(new Set(['10.213.2.2']));
  });
});
