import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserConfig } from '../../src/config/schema.js';
import { ConfigError, EXIT_CODES } from '../../src/errors.js';
import { offlineConfig, resolved, runBuild, startWorld, TAG_150, workspace, type World } from '../../testkit/world.js';

/**
 * Siso remote execution through the whole chromium pipeline against the test world: the settings
 * arrive in .gclient, args.gn and siso's flags and environment, the fake siso checks and records them
 * (no REAPI service runs here: it builds locally), and none of it changes the build identity. These
 * tests run in order in one cache.
 */
let world: World;
let ws: { dir: string; remove(): Promise<void> };
let backend: string;
let helper: string;

const src = () => path.join(ws.dir, 'cache', 'chromium', 'src');
const read = (file: string) => readFile(path.join(src(), file), 'utf8');
const report = async () => JSON.parse(await read('out/Release/siso_fake_remote.json'));
const fingerprintIn = (notes: string[]) => notes.map((n) => /fingerprint ([0-9a-f]{12})/.exec(n)?.[1]).find(Boolean);

function remote(extra: NonNullable<UserConfig['remoteExecution']> = {}): UserConfig {
  return {
    remoteExecution: {
      address: '127.0.0.1:50051',
      instance: 'main',
      backendConfig: backend,
      credentialHelper: helper,
      remoteJobs: 16,
      localJobs: 2,
      keepExecStream: true,
      ...extra,
    },
    build: { targets: ['net:quic_client', 'net:quic_server'] },
    smoke: { enabled: false },
  };
}
const config = (extra: UserConfig, dir = ws.dir) => resolved(offlineConfig(world.server.baseUrl, dir, extra), dir);

beforeAll(async () => {
  world = await startWorld();
  ws = await workspace('bq-remote-');
  backend = path.join(ws.dir, 'workers.star');
  await writeFile(
    backend,
    '# our workers\nload("@builtin//struct.star", "module")\n\ndef __p(ctx):\n    return {"default": {"OSFamily": "Linux"}}\n\nbackend = module("backend", platform_properties = __p)\n',
  );
  helper = path.join(ws.dir, 'key-helper.sh');
  await writeFile(helper, `#!/bin/sh\n[ "$1" = get ] || exit 2\ncat > /dev/null\necho '{"headers": {"x-api-key": ["k"]}}'\n`);
  await chmod(helper, 0o755);
});
afterAll(async () => {
  await ws?.remove();
  await world?.close();
});

describe('siso remote execution, step by step', () => {
  let remoteFingerprint: string | undefined;

  it('reaches .gclient, .sisoenv, backend.star, args.gn and the siso command line, and is recorded by the fake siso', async () => {
    const run = await runBuild(await config(remote()));
    expect(run.error).toBeUndefined();
    const gclient = await readFile(path.join(ws.dir, 'cache', 'chromium', '.gclient'), 'utf8');
    expect(gclient).toContain(`"reapi_address": "127.0.0.1:50051"`);
    expect(gclient).toContain(`"reapi_instance": "main"`);
    expect(gclient).toContain(`"reapi_backend_config_path": ${JSON.stringify(backend)}`);
    expect(gclient).toContain(`"reapi_credential_helper": ${JSON.stringify(helper)}`);
    expect(await read('build/config/siso/.sisoenv')).toBe(
      `SISO_REAPI_INSTANCE=main\nSISO_REAPI_ADDRESS=127.0.0.1:50051\nSISO_CREDENTIAL_HELPER=${helper}\n`,
    );
    expect(await read('build/config/siso/backend_config/backend.star')).toBe(await readFile(backend, 'utf8'));
    const argsGn = await read('out/Release/args.gn');
    expect(argsGn).toContain('use_remoteexec = true\n');
    expect(argsGn).toContain('use_siso = true\n');
    // 152's rbe.gni has no reclient: no use_reclient line at all.
    expect(argsGn).not.toContain('use_reclient');
    expect(await report()).toMatchObject({
      address: '127.0.0.1:50051',
      instance: 'main',
      project: '',
      insecure: false,
      credential_helper: helper,
      credential_header_names: ['x-api-key'],
      remote_jobs: 16,
      local_jobs: 2,
      reapi_keep_exec_stream: true,
      re_exec_enable: true,
      gn_args: { use_remoteexec: true, use_siso: true, use_reclient: null },
    });
    expect(run.notes.some((n) => /^checkout: remote execution: REAPI service 127\.0\.0\.1:50051; this pin's rbe\.gni: siso$/.test(n))).toBe(
      true,
    );
    expect(run.notes.some((n) => /^compile: siso: [1-9]\d* remote, \d+ local/.test(n))).toBe(true);
    remoteFingerprint = fingerprintIn(run.notes);
    expect(remoteFingerprint).toBeDefined();
  });

  it('does not change the build: a local build with another cache is served the remotely built artifact', async () => {
    const local = await workspace('bq-remote-local-');
    try {
      const store = { publish: [{ type: 'dir' as const, path: path.join(ws.dir, 'dist', 'store') }] };
      const run = await runBuild(
        await config({ ...store, build: { targets: ['net:quic_client', 'net:quic_server'] }, smoke: { enabled: false } }, local.dir),
      );
      expect(run.error).toBeUndefined();
      expect(fingerprintIn(run.notes)).toBe(remoteFingerprint);
      expect(run.ran).not.toContain('compile');
      expect(existsSync(path.join(local.dir, 'cache', 'chromium'))).toBe(false);
    } finally {
      await local.remove();
    }
  });

  it('runs gclient runhooks again when the settings change, and leaves remote execution when it is switched off', async () => {
    const run = await runBuild(await config(remote({ enabled: false })), { until: 'configure' });
    expect(run.error).toBeUndefined();
    expect(run.ran).toContain('checkout');
    expect(await read('build/config/siso/.sisoenv')).toBe('SISO_PROJECT=rbe-chrome-untrusted\nSISO_REAPI_INSTANCE=default_instance\n');
    expect(await read('out/Release/args.gn')).toContain('use_remoteexec = false\n');
  });

  it("stops after runhooks, naming the fix, when the settings did not arrive (an adopted checkout's .gclient without them)", async () => {
    const root = path.join(ws.dir, 'cache', 'chromium');
    const run = await runBuild(await config({ ...remote(), checkout: { srcDir: root } }), { until: 'checkout' });
    expect(run.error).toBeInstanceOf(ConfigError);
    expect((run.error as ConfigError).exitCode).toBe(EXIT_CODES.config);
    expect(run.error!.message).toContain('did not arrive where siso reads them');
    expect(run.error!.message).toContain('SISO_REAPI_ADDRESS=(none), not 127.0.0.1:50051');
    expect(run.error!.message).toContain("adopted checkout's .gclient");
  });

  it('at an older pin (150): use_reclient = false in args.gn, and the credential helper through the environment', async () => {
    const run = await runBuild(await config({ ...remote(), chromium: { version: TAG_150 } }), { until: 'compile' });
    expect(run.error).toBeUndefined();
    expect(run.notes.some((n) => n.includes("this pin's rbe.gni: siso-or-reclient (args.gn gets use_reclient = false)"))).toBe(true);
    expect(await read('out/Release/args.gn')).toContain('use_reclient = false\n');
    // 150's configure_siso takes no credential helper, so .sisoenv has none ...
    expect(await read('build/config/siso/.sisoenv')).toBe('SISO_REAPI_INSTANCE=main\nSISO_REAPI_ADDRESS=127.0.0.1:50051\n');
    // ... and siso got it from the build's environment.
    expect(await report()).toMatchObject({ credential_helper: helper, gn_args: { use_reclient: false }, remote_jobs: 16 });
  });
});
