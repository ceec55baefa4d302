/**
 * The fixture tree builds with system gn/ninja and with the fake autoninja (siso and ninja
 * modes), and the four binaries really talk to each other on loopback, before and after the
 * fixture migration series.
 */
import { execa, type ResultPromise } from 'execa';
import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { readdir, rename, symlink, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { cachedUpstream, FIXTURE_PATCHES_DIR, TAG_152, type UpstreamInfo } from '../../../testkit/build.js';
import { createWorkspace, git, removeTempDirs, run, syncArgs, tempDir, type RunResult, type Workspace } from '../../../testkit/helpers.js';
import { startUpstreamServer, type UpstreamServer } from '../../../testkit/server.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });

const TARGETS = [
  'net:quic_client',
  'net:quic_server',
  'net/third_party/quiche:epoll_quic_client',
  'net/third_party/quiche:epoll_quic_server',
];
const BINARIES = ['quic_client', 'quic_server', 'epoll_quic_client', 'epoll_quic_server'];
const RELEASE_ARGS =
  'is_debug=false\nis_component_build=false\nsymbol_level=0\ndcheck_always_on=false\ntreat_warnings_as_errors=false\nuse_remoteexec=false\n';

let info: UpstreamInfo;
let upstream: UpstreamServer;
let ws: Workspace;
let certs: { cert: string; key: string };
const servers: ResultPromise[] = [];

beforeAll(async () => {
  info = await cachedUpstream();
  upstream = await startUpstreamServer({ reposDir: info.reposDir });
  ws = await createWorkspace({ baseUrl: upstream.baseUrl, info });
  for (const args of [syncArgs(TAG_152), ['runhooks']]) {
    const result = await ws.gclient(args);
    if (result.exitCode !== 0) throw new Error(`gclient ${args.join(' ')} failed:\n${result.all}`);
  }
  certs = await makeCerts();
});

afterAll(async () => {
  for (const server of servers) server.kill('SIGKILL');
  await upstream?.close();
  await removeTempDirs();
});

/** depot_tools' gn finds gn at src/buildtools/linux64/gn (a CIPD dep in Chromium): use the system gn. */
async function installSystemGn(): Promise<void> {
  const link = join(ws.src, 'buildtools/linux64/gn');
  if (existsSync(link)) return;
  await mkdir(join(ws.src, 'buildtools/linux64'), { recursive: true });
  const which = await run('which', ['gn']);
  await symlink(which.stdout.trim(), link);
}

function tool(name: string, args: string[]): Promise<RunResult> {
  return run(join(ws.depotTools, name), args, { cwd: ws.src, env: ws.env, timeout: 170_000 });
}

async function genOutDir(name: string, args: string): Promise<string> {
  await installSystemGn();
  const dir = join(ws.src, 'out', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'args.gn'), args);
  const result = await tool('gn', ['gen', `out/${name}`]);
  if (result.exitCode !== 0) throw new Error(`gn gen out/${name} failed:\n${result.all}`);
  return dir;
}

function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= fn());
}

/** out/Ninja: use_siso=false, built by the system ninja directly. */
const ninjaBuild = once(async () => {
  const dir = await genOutDir('Ninja', `${RELEASE_ARGS}use_siso=false\n`);
  const result = await run('ninja', ['-C', dir, ...TARGETS], { cwd: ws.src, env: ws.env, timeout: 170_000 });
  return { dir, result };
});

/** out/Siso: no use_siso in args.gn, so //.gn's default (siso) applies; built by autoninja. */
const sisoBuild = once(async () => {
  const dir = await genOutDir('Siso', RELEASE_ARGS);
  const result = await tool('autoninja', ['-C', 'out/Siso', ...TARGETS]);
  return { dir, result };
});

async function makeCerts(): Promise<{ cert: string; key: string }> {
  const dir = await tempDir('bq-certs-');
  const cert = join(dir, 'cert.pem');
  const pem = join(dir, 'key.pem');
  const key = join(dir, 'key.pkcs8');
  // Chromium's servers take a PEM certificate and a PKCS#8 DER key (--key_file); so does the fixture.
  const made = await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-days',
    '2',
    '-keyout',
    pem,
    '-out',
    cert,
  ]);
  if (made.exitCode !== 0) throw new Error(`openssl req failed: ${made.stderr}`);
  const der = await run('openssl', ['pkcs8', '-topk8', '-nocrypt', '-outform', 'DER', '-in', pem, '-out', key]);
  if (der.exitCode !== 0) throw new Error(`openssl pkcs8 failed: ${der.stderr}`);
  return { cert, key };
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Not async: awaiting an execa child waits for it to exit. */
function startQuicServer(binary: string, port: number): ResultPromise {
  const child = execa(
    binary,
    [`--port=${port}`, `--certificate_file=${certs.cert}`, `--key_file=${certs.key}`, '--generate_dynamic_responses'],
    { reject: false, all: true },
  );
  servers.push(child);
  return child;
}

describe('gn and ninja', () => {
  test("depot_tools gn fails with gn.py's message while buildtools/linux64/gn is missing", async () => {
    const link = join(ws.src, 'buildtools/linux64/gn');
    const moved = existsSync(link) ? `${link}.away` : null;
    if (moved) await rename(link, moved);
    try {
      const result = await tool('gn', ['gen', 'out/NoGn']);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(`gn.py: Could not find gn executable at: ${link}`);
    } finally {
      if (moved) await rename(moved, link);
    }
  });

  test('gn gen warns about unknown args but succeeds, as real gn does', async () => {
    await installSystemGn();
    const dir = join(ws.src, 'out/Unknown');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'args.gn'), `${RELEASE_ARGS}no_such_arg = true\n`);
    const result = await tool('gn', ['gen', 'out/Unknown']);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain('Build argument has no effect');
  });

  test('gn gen + ninja build the four binaries', async () => {
    const { dir, result } = await ninjaBuild();
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(/^\[\d+\/\d+\] CXX /m);
    for (const binary of BINARIES) expect(existsSync(join(dir, binary)), binary).toBe(true);
  });

  test('the unpatched clients fetch from the unpatched servers over loopback', async () => {
    const { dir } = await ninjaBuild();
    for (const [client, serverBinary] of [
      ['epoll_quic_client', 'quic_server'],
      ['quic_client', 'epoll_quic_server'],
    ] as const) {
      const port = await freeUdpPort();
      const server = startQuicServer(join(dir, serverBinary), port);
      const result = await run(join(dir, client), [
        '--host=127.0.0.1',
        `--port=${port}`,
        '--disable_certificate_verification',
        '--num_requests=2',
        '--quiet',
        'https://localhost/1000000',
      ]);
      server.kill('SIGTERM');
      const serverResult = await server;
      expect(result.exitCode, result.all).toBe(0);
      expect(result.stdout.match(/^Request succeeded \(200\)\.$/gm)).toHaveLength(2);
      expect(serverResult.exitCode, String(serverResult.all)).toBe(0);
    }
  });

  test('the unpatched client has no migration flags and fails without --disable_certificate_verification', async () => {
    const { dir } = await ninjaBuild();
    const help = await run(join(dir, 'quic_client'), ['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('--disable_certificate_verification');
    expect(help.stdout).not.toContain('--migrate_local_addresses');
    const port = await freeUdpPort();
    const server = startQuicServer(join(dir, 'quic_server'), port);
    const result = await run(join(dir, 'quic_client'), ['--host=127.0.0.1', `--port=${port}`, 'https://localhost/10']);
    server.kill('SIGTERM');
    await server;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('QUIC_HANDSHAKE_FAILED');
  });

  test('the server refuses to start without a readable certificate', async () => {
    const { dir } = await ninjaBuild();
    const result = await run(join(dir, 'quic_server'), ['--port=0', '--certificate_file=/nonexistent.pem', `--key_file=${certs.key}`]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('Failed to load certificate chain from --certificate_file=/nonexistent.pem');
  });
});

describe('autoninja', () => {
  test('builds with siso by default, printing [N/M] progress and keeping siso state', async () => {
    const { dir, result } = await sisoBuild();
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(/^\[\d+\/\d+\] \d+\.\d+s CXX /m);
    expect(result.stdout).toContain('build finished');
    for (const binary of BINARIES) expect(existsSync(join(dir, binary)), binary).toBe(true);
    expect(existsSync(join(dir, '.siso_deps'))).toBe(true);
    expect(existsSync(join(dir, '.ninja_deps'))).toBe(false);
  });

  test('-n reports no work left after a siso build', async () => {
    await sisoBuild();
    const result = await tool('autoninja', ['-C', 'out/Siso', '-n', ...TARGETS]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).not.toMatch(/^\[\d+\/\d+\]/m);
    expect(result.stdout).toContain('everything is up-to-date');
  });

  test('with use_siso=false builds with ninja, and -n reports no work after the build', async () => {
    await ninjaBuild();
    const result = await tool('autoninja', ['-C', 'out/Ninja', '-n', ...TARGETS]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain('ninja: no work to do.');
  });

  test('-n lists the steps a build would run', async () => {
    await genOutDir('Fresh', `${RELEASE_ARGS}use_siso=false\n`);
    const result = await tool('autoninja', ['-C', 'out/Fresh', '-n', 'net:quic_server']);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(/^\[\d+\/\d+\] LINK \.\/quic_server$/m);
    expect(existsSync(join(ws.src, 'out/Fresh/quic_server'))).toBe(false);
  });

  test('refuses to switch a ninja-built out dir to siso until gn clean', async () => {
    const { dir } = await ninjaBuild();
    const copy = join(ws.src, 'out/NinjaToSiso');
    await execa('cp', ['-a', dir, copy]);
    await writeFile(join(copy, 'args.gn'), `${RELEASE_ARGS}use_siso=true\n`);
    const refused = await tool('autoninja', ['-C', 'out/NinjaToSiso', ...TARGETS]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('out/NinjaToSiso contains Ninja state file');
    expect(refused.stderr).toContain('gn clean out/NinjaToSiso');

    expect((await tool('gn', ['clean', 'out/NinjaToSiso'])).exitCode).toBe(0);
    expect((await tool('gn', ['gen', 'out/NinjaToSiso'])).exitCode).toBe(0);
    const after = await tool('autoninja', ['-C', 'out/NinjaToSiso', '-n', 'net:quic_server']);
    expect(after.exitCode, after.all).toBe(0);
    expect(after.stdout).toMatch(/^\[\d+\/\d+\] \d+\.\d+s /m);
  });

  test('refuses to switch a siso-built out dir to ninja', async () => {
    const { dir } = await sisoBuild();
    const copy = join(ws.src, 'out/SisoToNinja');
    await execa('cp', ['-a', dir, copy]);
    await writeFile(join(copy, 'args.gn'), `${RELEASE_ARGS}use_siso=false\n`);
    const refused = await tool('autoninja', ['-C', 'out/SisoToNinja', ...TARGETS]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('out/SisoToNinja contains Siso state file');
    expect(refused.stderr).toContain('gn clean out/SisoToNinja');
  });

  test('fails clearly without build/config/siso/.sisoenv (the configure_siso hook)', async () => {
    await genOutDir('NoSisoEnv', RELEASE_ARGS);
    const sisoenv = join(ws.src, 'build/config/siso/.sisoenv');
    await rename(sisoenv, `${sisoenv}.away`);
    try {
      const result = await tool('autoninja', ['-C', 'out/NoSisoEnv', 'net:quic_server']);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('Could not find .sisoenv');
      expect(result.stderr).toContain('gclient runhooks');
    } finally {
      await rename(`${sisoenv}.away`, sisoenv);
    }
  });

  test('fails without credentials when use_remoteexec=true', async () => {
    await genOutDir('Remote', 'is_debug=false\nuse_remoteexec=true\n');
    const result = await tool('autoninja', ['-C', 'out/Remote', 'net:quic_server']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('siso login');
  });

  test.each(['true', 'false'])("passes a failing build's exit code through (use_siso=%s)", async (useSiso) => {
    await genOutDir(`Broken${useSiso}`, `${RELEASE_ARGS}use_siso=${useSiso}\ncc_wrapper="false"\n`);
    const result = await tool('autoninja', ['-C', `out/Broken${useSiso}`, 'net:quic_server']);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('FAILED');
  });
});

describe('the migration series on the fixture binaries', () => {
  const applied = once(async () => {
    await sisoBuild();
    const patches = (await readdir(join(FIXTURE_PATCHES_DIR, 'migration'))).filter((f) => f.endsWith('.patch')).sort();
    await git(ws.quiche, ['apply', ...patches.map((p) => join(FIXTURE_PATCHES_DIR, 'migration', p))]);
    const result = await tool('autoninja', ['-C', 'out/Siso', ...TARGETS]);
    if (result.exitCode !== 0) throw new Error(`patched build failed:\n${result.all}`);
    return join(ws.src, 'out/Siso');
  });

  test('the patched client lists --migrate_local_addresses in --help', async () => {
    const dir = await applied();
    for (const client of ['quic_client', 'epoll_quic_client']) {
      const help = await run(join(dir, client), ['--help']);
      expect(help.stdout).toContain('--migrate_local_addresses');
    }
  });

  test.each([
    ['epoll_quic_client', 'quic_server'],
    ['quic_client', 'epoll_quic_server'],
  ])('%s migrates across 127.0.0.1-3 mid-download and %s sees each migration', async (client, serverBinary) => {
    const dir = await applied();
    const port = await freeUdpPort();
    const server = startQuicServer(join(dir, serverBinary), port);
    const result = await run(join(dir, client), [
      '--host=127.0.0.1',
      `--port=${port}`,
      '--disable_certificate_verification',
      '--quiet',
      '--quic_version=RFCv1',
      '--migrate_local_addresses=127.0.0.1,127.0.0.2,127.0.0.3',
      '--migrate_interval_ms=200',
      'https://localhost/8000000',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.kill('SIGTERM');
    const serverResult = await server;
    const serverOut = String(serverResult.stdout ?? '');
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain('Request succeeded (200).');

    const migrations = [
      ...result.stdout.matchAll(
        /^MIGRATION seq=(\d+) trigger=timer mode=hard from=([\d.]+):\d+ to=([\d.]+):\d+ server_cid=(\w+)->(\w+) result=ok t_ms=\d+ took_ms=\d+$/gm,
      ),
    ];
    expect(migrations.length, result.stdout).toBeGreaterThanOrEqual(2);
    const peer = [
      ...serverOut.matchAll(
        /^PEER_MIGRATION conn=(\w+) from=([\d.]+:\d+) to=([\d.]+:\d+) type=(\w+) server_cid=(\w+)->(\w+) validated=yes$/gm,
      ),
    ];
    for (const m of migrations) {
      expect(m[2]).not.toBe(m[3]);
      const match = peer.find((p) => p[5] === m[4] && p[6] === m[5]);
      expect(match, `no PEER_MIGRATION for ${m[0]}\nserver:\n${serverOut}`).toBeDefined();
      expect(match![2]!.split(':')[0]).toBe(m[2]);
      expect(match![3]!.split(':')[0]).toBe(m[3]);
    }
    expect(result.stdout).toMatch(
      new RegExp(
        `^MIGRATION_SUMMARY attempted=${migrations.length} ok=${migrations.length} failed=0 distinct_local_addrs=3 distinct_server_cids=${migrations.length + 1}$`,
        'm',
      ),
    );
    expect(serverOut).toMatch(new RegExp(`^PEER_MIGRATION_SUMMARY conn=${peer[0]![1]} validated=${peer.length} invalid=0$`, 'm'));
  });

  test('the patched client migrates after every N requests', async () => {
    const dir = await applied();
    const port = await freeUdpPort();
    const server = startQuicServer(join(dir, 'quic_server'), port);
    const result = await run(join(dir, 'epoll_quic_client'), [
      '--host=127.0.0.1',
      `--port=${port}`,
      '--disable_certificate_verification',
      '--quiet',
      '--num_requests=3',
      '--migrate_every_n_requests=1',
      '--migrate_local_addresses=127.0.0.1,127.0.0.2',
      'https://localhost/1000',
    ]);
    server.kill('SIGTERM');
    await server;
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout.match(/^MIGRATION seq=\d+ trigger=requests .* result=ok /gm)).toHaveLength(2);
  });
});
