/**
 * The fake world's siso remote execution behaves like Chromium's and fails when a setting does not
 * arrive: DEPS' reapi_* custom vars -> the configure_siso hook -> .sisoenv and backend.star; autoninja
 * turns -j into -remote_jobs; the fake siso checks what real siso needs (credentials, TLS files, a
 * backend.star with platform properties), runs the credential helper as the Bazel spec says, and,
 * with no REAPI service here, builds locally and records what it would have sent.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { cachedUpstream, TAG_150, TAG_152, type UpstreamInfo } from '../../../testkit/build.js';
import { createWorkspace, removeTempDirs, run, syncArgs, tempDir, type RunResult, type Workspace } from '../../../testkit/helpers.js';
import { startUpstreamServer, type UpstreamServer } from '../../../testkit/server.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 240_000 });

const TARGETS = ['net:quic_client', 'net:quic_server'];
const ARGS = 'is_debug=false\nis_component_build=false\nsymbol_level=0\ntreat_warnings_as_errors=false\nuse_siso=true\n';

let info: UpstreamInfo;
let server: UpstreamServer;
let dir: string;
let ws: Workspace;
let backend: string;
let helper: string;
const requests = () => join(dir, 'helper-requests.log');

async function script(name: string, body: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

async function workspaceAt(tag: string, customVars: Record<string, unknown>): Promise<Workspace> {
  const w = await createWorkspace({
    baseUrl: server.baseUrl,
    info,
    customVars,
    depotToolsRevision: info.tags[tag as typeof TAG_152].depotToolsRevision,
  });
  for (const args of [syncArgs(tag), ['runhooks']]) {
    const result = await w.gclient(args);
    if (result.exitCode !== 0) throw new Error(`gclient ${args.join(' ')} failed:\n${result.all}`);
  }
  const gn = join(w.src, 'buildtools/linux64/gn');
  await mkdir(join(w.src, 'buildtools/linux64'), { recursive: true });
  await symlink((await run('which', ['gn'])).stdout.trim(), gn);
  return w;
}

function tool(w: Workspace, name: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return run(join(w.depotTools, name), args, { cwd: w.src, env: { ...w.env, ...env }, timeout: 170_000 });
}

async function genOutDir(w: Workspace, name: string, args: string): Promise<void> {
  await mkdir(join(w.src, 'out', name), { recursive: true });
  await writeFile(join(w.src, 'out', name, 'args.gn'), args);
  const result = await tool(w, 'gn', ['gen', `out/${name}`]);
  if (result.exitCode !== 0) throw new Error(`gn gen out/${name} failed:\n${result.all}`);
}

const report = async (w: Workspace, out: string) => JSON.parse(await readFile(join(w.src, 'out', out, 'siso_fake_remote.json'), 'utf8'));

beforeAll(async () => {
  info = await cachedUpstream();
  server = await startUpstreamServer({ reposDir: info.reposDir });
  dir = await tempDir('bq-siso-remote-');
  backend = join(dir, 'my-backend.star');
  await writeFile(
    backend,
    '# my REAPI workers\nload("@builtin//struct.star", "module")\n\ndef __p(ctx):\n    return {"default": {"OSFamily": "Linux"}}\n\nbackend = module("backend", platform_properties = __p)\n',
  );
  helper = await script(
    'helper.sh',
    `[ "$1" = get ] || exit 2\ncat >> ${requests()}\necho >> ${requests()}\necho '{"headers": {"x-buildbuddy-api-key": ["not-a-real-key"]}}'`,
  );
  ws = await workspaceAt(TAG_152, {
    reapi_address: '127.0.0.1:50051',
    reapi_instance: 'main',
    reapi_backend_config_path: backend,
    reapi_credential_helper: helper,
  });
  await genOutDir(ws, 'Remote', `${ARGS}use_remoteexec=true\n`);
});

afterAll(async () => {
  await server?.close();
  await removeTempDirs();
});

describe('the configure_siso hook', () => {
  test('writes the reapi_* custom vars into .sisoenv and copies the backend config to backend.star', async () => {
    const sisoenv = await readFile(join(ws.src, 'build/config/siso/.sisoenv'), 'utf8');
    expect(sisoenv).toBe(`SISO_REAPI_INSTANCE=main\nSISO_REAPI_ADDRESS=127.0.0.1:50051\nSISO_CREDENTIAL_HELPER=${helper}\n`);
    expect(await readFile(join(ws.src, 'build/config/siso/backend_config/backend.star'), 'utf8')).toBe(await readFile(backend, 'utf8'));
  });

  test("copies google.star for Google's RBE projects (the default rbe_instance)", async () => {
    const plain = await workspaceAt(TAG_152, {});
    expect(await readFile(join(plain.src, 'build/config/siso/.sisoenv'), 'utf8')).toBe(
      'SISO_PROJECT=rbe-chrome-untrusted\nSISO_REAPI_INSTANCE=default_instance\n',
    );
    expect(await readFile(join(plain.src, 'build/config/siso/backend_config/backend.star'), 'utf8')).toContain('chops-public-images-prod');
  });

  test("fails with Chromium's message when a non-Google backend has no backend config", async () => {
    const script = join(ws.src, 'build/config/siso/configure_siso.py');
    const sisoDir = join(ws.src, 'build/config/siso');
    const saved = await readFile(join(sisoDir, 'backend_config/backend.star'));
    try {
      await rm(join(sisoDir, 'backend_config/backend.star'));
      const result = await run('python3', [
        script,
        '--rbe_instance',
        'projects/rbe-chrome-untrusted/instances/default_instance',
        '--reapi_address',
        'remote.example:443',
        '--reapi_instance',
        'default',
        '--reapi_backend_config_path',
        '',
      ]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('Need to provide');
      expect(result.stderr).toContain('(by reapi_backend_config_path custom_var) for your backend remote.example:443 instance=default');
    } finally {
      await writeFile(join(sisoDir, 'backend_config/backend.star'), saved);
      await run('python3', [
        script,
        '--reapi_address',
        '127.0.0.1:50051',
        '--reapi_instance',
        'main',
        '--reapi_backend_config_path',
        backend,
        '--credential-helper',
        helper,
      ]);
    }
  });
});

describe('autoninja and the fake siso with use_remoteexec=true', () => {
  const built = (() => {
    let promise: Promise<RunResult> | undefined;
    return () => (promise ??= tool(ws, 'autoninja', ['-C', 'out/Remote', '-remote_jobs=7', '-local_jobs=2', ...TARGETS]));
  })();

  test('builds locally and records what it would have sent to the REAPI service', async () => {
    const result = await built();
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toMatch(/local:\d+ remote:[1-9]\d* cache:0/);
    expect(result.stdout).toContain('no REAPI service runs here');
    const sent = await report(ws, 'Remote');
    expect(sent).toMatchObject({
      address: '127.0.0.1:50051',
      instance: 'main',
      project: '',
      insecure: false,
      credential_helper: helper,
      credential_header_names: ['x-buildbuddy-api-key'],
      remote_jobs: 7,
      local_jobs: 2,
      re_exec_enable: true,
      strict_remote: false,
      gn_args: { use_remoteexec: true, use_siso: true, use_reclient: null },
      exit_code: 0,
    });
    expect(sent.steps.would_run_remotely).toBeGreaterThan(0);
    // The Bazel credential helper protocol: `get`, and the service's URI on stdin.
    expect(JSON.parse((await readFile(requests(), 'utf8')).trim().split('\n').pop()!)).toEqual({ uri: 'https://127.0.0.1:50051' });
    expect(existsSync(join(ws.src, 'out/Remote/quic_client'))).toBe(true);
  });

  test('autoninja turns -j into -remote_jobs, as the real one does', async () => {
    await built();
    const result = await tool(ws, 'autoninja', ['-C', 'out/Remote', '-j', '5', ...TARGETS]);
    expect(result.exitCode, result.all).toBe(0);
    expect(await report(ws, 'Remote')).toMatchObject({ remote_jobs: 5, local_jobs: null });
  });

  test('records the cache-only, strict and keep-stream flags', async () => {
    await built();
    const result = await tool(ws, 'autoninja', ['-C', 'out/Remote', '-re_exec_enable=false', '-reapi_keep_exec_stream', ...TARGETS]);
    expect(result.exitCode, result.all).toBe(0);
    expect(await report(ws, 'Remote')).toMatchObject({ re_exec_enable: false, reapi_keep_exec_stream: true, strict_remote: false });
  });

  test('refuses -j in remote mode', async () => {
    await built();
    const result = await tool(ws, 'siso', ['ninja', '-C', 'out/Remote', '-j', '4', ...TARGETS]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('-j is not supported. use -remote_jobs and -local_jobs instead');
  });

  test.each([
    ['a credential helper that fails', { SISO_CREDENTIAL_HELPER: 'FAILING' }, 'failed: exit status 3: no token for you'],
    ['a credential helper that answers without headers', { SISO_CREDENTIAL_HELPER: 'EMPTY' }, 'returned no headers'],
    [
      'a credential helper that is not there',
      { SISO_CREDENTIAL_HELPER: '/nonexistent/helper' },
      'failed to run credential helper /nonexistent/helper',
    ],
    [
      'a client certificate without its key',
      { RBE_tls_client_auth_cert: 'CERT' },
      'tls_client_auth_cert is set, but tls_client_auth_key is not set',
    ],
    ['an unreadable CA bundle', { RBE_tls_ca_cert: '/nonexistent/ca.pem' }, "failed to read CA cert '/nonexistent/ca.pem'"],
  ])('fails like siso with %s', async (_what, env, message) => {
    await built();
    const files: Record<string, string> = {
      FAILING: await script('failing.sh', 'echo "no token for you" >&2\nexit 3'),
      EMPTY: await script('empty.sh', "echo '{}'"),
      CERT: join(dir, 'client.pem'),
    };
    await writeFile(files.CERT!, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const resolvedEnv = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, files[v] ?? v]));
    // .sisoenv goes over the environment, as depot_tools' siso.py does: move the helper out of it for this test.
    const sisoenv = join(ws.src, 'build/config/siso/.sisoenv');
    const saved = await readFile(sisoenv, 'utf8');
    await writeFile(sisoenv, saved.replace(/^SISO_CREDENTIAL_HELPER=.*\n/m, ''));
    try {
      const result = await tool(ws, 'autoninja', ['-C', 'out/Remote', ...TARGETS], { SISO_CREDENTIAL_HELPER: helper, ...resolvedEnv });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('siso: failed to start remote execution');
      expect(result.stderr).toContain(message);
    } finally {
      await writeFile(sisoenv, saved);
    }
  });

  test('in insecure mode sends no credentials: the helper is not run', async () => {
    await built();
    await rm(requests(), { force: true });
    const result = await tool(ws, 'autoninja', ['-C', 'out/Remote', ...TARGETS], { RBE_service_no_security: 'true' });
    expect(result.exitCode, result.all).toBe(0);
    expect(await report(ws, 'Remote')).toMatchObject({ insecure: true, credential_helper: null, credential_header_names: [] });
    expect(existsSync(requests())).toBe(false);
  });

  test('fails when backend.star defines no platform properties, or is missing', async () => {
    await built();
    const star = join(ws.src, 'build/config/siso/backend_config/backend.star');
    const saved = await readFile(star);
    try {
      await writeFile(star, '# nothing here\n');
      const empty = await tool(ws, 'autoninja', ['-C', 'out/Remote', ...TARGETS]);
      expect(empty.exitCode).toBe(1);
      expect(empty.stderr).toContain('backend.platform_properties is not defined');
      await rm(star);
      const missing = await tool(ws, 'autoninja', ['-C', 'out/Remote', ...TARGETS]);
      expect(missing.exitCode).toBe(1);
      expect(missing.stderr).toContain('build/config/siso/backend_config/backend.star does not exist.');
    } finally {
      await writeFile(star, saved);
    }
  });

  test("without a reapi_address in .sisoenv siso goes to Google's RBE and needs a login", async () => {
    await built();
    const sisoenv = join(ws.src, 'build/config/siso/.sisoenv');
    const saved = await readFile(sisoenv, 'utf8');
    await writeFile(sisoenv, 'SISO_PROJECT=rbe-chrome-untrusted\nSISO_REAPI_INSTANCE=default_instance\n');
    try {
      const result = await tool(ws, 'autoninja', ['-C', 'out/Remote', ...TARGETS]);
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('need to login: run `siso login`');
    } finally {
      await writeFile(sisoenv, saved);
    }
  });
});

describe('an older pin (150): the 2024 shape', () => {
  let old: Workspace;
  beforeAll(async () => {
    old = await workspaceAt(TAG_150, {
      reapi_address: '127.0.0.1:50051',
      reapi_instance: 'main',
      reapi_backend_config_path: backend,
      reapi_credential_helper: helper,
    });
  });

  test('its configure_siso hook takes no credential helper: .sisoenv has none', async () => {
    expect(await readFile(join(old.src, 'build/config/siso/.sisoenv'), 'utf8')).toBe(
      'SISO_REAPI_INSTANCE=main\nSISO_REAPI_ADDRESS=127.0.0.1:50051\n',
    );
  });

  test('use_remoteexec alone means reclient there, which autoninja cannot run; use_reclient=false is accepted', async () => {
    await genOutDir(old, 'Reclient', `${ARGS}use_remoteexec=true\n`);
    const refused = await tool(old, 'autoninja', ['-C', 'out/Reclient', ...TARGETS]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('use_reclient=false');
    await genOutDir(old, 'Siso', `${ARGS}use_remoteexec=true\nuse_reclient=false\n`);
    const dry = await tool(old, 'autoninja', ['-C', 'out/Siso', '-n', ...TARGETS]);
    expect(dry.exitCode, dry.all).toBe(0);
  });
});
