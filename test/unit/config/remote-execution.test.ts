import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { UserConfig } from '../../../src/config/schema.js';
import { ConfigError, EXIT_CODES } from '../../../src/errors.js';

/** A project dir that only names paths (nothing is read there): relative config paths resolve against it. */
const PROJECT = path.join(os.tmpdir(), 'bq-remote-execution-project');
const load = (inline: UserConfig) => loadConfig({ inline, cwd: PROJECT, env: {} });

/** The message of the ConfigError loading this config throws. */
async function refusal(inline: UserConfig): Promise<string> {
  const error = await load(inline).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).exitCode).toBe(EXIT_CODES.config);
  return (error as ConfigError).message;
}

const REAPI = { address: 'remote.buildbuddy.io:443', instance: 'default', backendConfig: 'siso/backend.star' } as const;

describe('remoteExecution in the config', () => {
  it('is absent by default: nothing changes for a local build', async () => {
    expect((await load({})).remoteExecution).toBeUndefined();
  });

  it('takes a REAPI service, and resolves the paths in it against the config file', async () => {
    const config = await load({
      remoteExecution: { ...REAPI, credentialHelper: 'helpers/bb-key.sh', tls: { caCert: '/etc/ssl/ca.pem' }, remoteJobs: 200 },
    });
    expect(config.remoteExecution).toMatchObject({
      enabled: true,
      service: 'reapi',
      address: 'remote.buildbuddy.io:443',
      instance: 'default',
      backendConfig: path.join(PROJECT, 'siso/backend.star'),
      credentialHelper: path.join(PROJECT, 'helpers/bb-key.sh'),
      tls: { caCert: '/etc/ssl/ca.pem' },
      insecure: false,
      remoteJobs: 200,
      cacheOnly: false,
      strictRemote: false,
    });
  });

  it('keeps bare names as names: a helper on PATH, a backend config in the checkout', async () => {
    const config = await load({ remoteExecution: { ...REAPI, backendConfig: 'google.star', credentialHelper: 'engflow_auth' } });
    expect(config.remoteExecution).toMatchObject({ backendConfig: 'google.star', credentialHelper: 'engflow_auth' });
  });

  it('takes an empty instance name (the service default) and Google RBE instances', async () => {
    expect((await load({ remoteExecution: { ...REAPI, instance: '' } })).remoteExecution?.instance).toBe('');
    const google = await load({
      remoteExecution: { service: 'google-rbe', instance: 'projects/rbe-chromium-untrusted/instances/default_instance' },
    });
    expect(google.remoteExecution?.service).toBe('google-rbe');
  });

  it.each<[string, UserConfig, string]>([
    ['no address', { remoteExecution: { instance: 'x', backendConfig: 'a.star' } }, 'remoteExecution.address: required'],
    ['an address with a scheme', { remoteExecution: { ...REAPI, address: 'grpcs://remote.example:443' } }, 'host:port'],
    ['no instance', { remoteExecution: { address: 'r.example:443', backendConfig: 'a.star' } }, 'remoteExecution.instance: required'],
    ['no backend config', { remoteExecution: { address: 'r.example:443', instance: 'main' } }, 'template.star'],
    [
      "Google's address as 'reapi'",
      { remoteExecution: { ...REAPI, address: 'remotebuildexecution.googleapis.com:443' } },
      "set service 'google-rbe'",
    ],
    [
      'a Google RBE instance not of the form',
      { remoteExecution: { service: 'google-rbe', instance: 'default' } },
      'projects/<project>/instances/<instance>',
    ],
    [
      'insecure Google RBE',
      { remoteExecution: { service: 'google-rbe', instance: 'projects/p/instances/i', insecure: true } },
      'insecure mode is not supported for RBE',
    ],
    ['insecure with TLS files', { remoteExecution: { ...REAPI, insecure: true, tls: { caCert: 'ca.pem' } } }, 'drop insecure or tls'],
    ['insecure with a credential helper', { remoteExecution: { ...REAPI, insecure: true, credentialHelper: 'h' } }, 'clear text'],
    ['a client certificate without its key', { remoteExecution: { ...REAPI, tls: { clientCert: 'c.pem' } } }, 'set tls.clientKey too'],
    ['a client key without its certificate', { remoteExecution: { ...REAPI, tls: { clientKey: 'k.pem' } } }, 'set tls.clientCert too'],
    [
      'mTLS with a credential helper',
      { remoteExecution: { ...REAPI, tls: { clientCert: 'c', clientKey: 'k' }, credentialHelper: 'h' } },
      'SISO_CREDENTIAL_HELPER=mTLS',
    ],
    ['cache-only and strict', { remoteExecution: { ...REAPI, cacheOnly: true, strictRemote: true } }, 'choose one'],
    [
      'the ninja builder',
      { remoteExecution: REAPI, build: { builder: 'ninja' } },
      "build.builder: remoteExecution needs build.builder 'autoninja'",
    ],
    [
      'use_remoteexec in build.args',
      { remoteExecution: REAPI, build: { args: { use_remoteexec: true } } },
      'remove build.args.use_remoteexec',
    ],
    ['use_reclient in build.args', { remoteExecution: REAPI, build: { args: { use_reclient: true } } }, 'remove build.args.use_reclient'],
    [
      'a cc_wrapper',
      { remoteExecution: REAPI, build: { args: { cc_wrapper: 'ccache' } } },
      'cc_wrapper can not be used with use_remoteexec',
    ],
    [
      'reapi_address in gclient.customVars',
      { remoteExecution: REAPI, gclient: { customVars: { reapi_address: 'x:1' } } },
      'gclient.customVars.reapi_address',
    ],
    ['the standalone backend', { backend: 'quiche', remoteExecution: REAPI }, "for backend 'chromium' only"],
  ])('refuses %s, naming the fix', async (_what, config, message) => {
    expect(await refusal(config)).toContain(message);
  });

  it('refuses nothing when the section is switched off', async () => {
    const config = await load({ remoteExecution: { enabled: false }, build: { builder: 'ninja', args: { cc_wrapper: 'ccache' } } });
    expect(config.remoteExecution?.enabled).toBe(false);
  });

  it('can be switched off from the environment or --set without editing the file', async () => {
    const config = await loadConfig({
      inline: { remoteExecution: REAPI },
      cwd: PROJECT,
      env: { BUILD_QUICHE_REMOTE_EXECUTION_ENABLED: 'false' },
    });
    expect(config.remoteExecution?.enabled).toBe(false);
    const set = await loadConfig({
      inline: { remoteExecution: REAPI },
      cwd: PROJECT,
      env: {},
      set: ['remoteExecution.remoteJobs=64'],
    });
    expect(set.remoteExecution?.remoteJobs).toBe(64);
  });
});
