import { describe, expect, it } from 'vitest';
import { parseSisoStats, sisoRemoteArgs, sisoRemoteEnv } from '../../../src/tools/siso.js';

describe("siso's flags for a remote build", () => {
  it('are -remote_jobs and -local_jobs instead of -j, and the documented switches', () => {
    expect(sisoRemoteArgs({ remoteJobs: 200, localJobs: 4 })).toEqual(['-remote_jobs=200', '-local_jobs=4']);
    expect(sisoRemoteArgs({ localJobs: 2, cacheOnly: true, strictRemote: true, keepExecStream: true })).toEqual([
      '-local_jobs=2',
      '-re_exec_enable=false',
      '-strict_remote',
      '-reapi_keep_exec_stream',
    ]);
    expect(sisoRemoteArgs({}).some((a) => a.startsWith('-j'))).toBe(false);
  });
});

describe("siso's environment for a remote build", () => {
  const sisoenvKeys = ['SISO_REAPI_INSTANCE', 'SISO_REAPI_ADDRESS', 'SISO_CREDENTIAL_HELPER'];

  it('says TLS or insecure explicitly, so that a variable left in the shell changes nothing', () => {
    expect(sisoRemoteEnv({ insecure: false, tls: { caCert: '/ca.pem', clientCert: '/c.pem', clientKey: '/k.pem' }, sisoenvKeys })).toEqual({
      RBE_service_no_security: 'false',
      RBE_tls_ca_cert: '/ca.pem',
      RBE_tls_client_auth_cert: '/c.pem',
      RBE_tls_client_auth_key: '/k.pem',
      SISO_PROJECT: '',
    });
    expect(sisoRemoteEnv({ insecure: true, sisoenvKeys })).toMatchObject({ RBE_service_no_security: 'true', RBE_tls_ca_cert: '' });
  });

  it('carries the credential helper only where .sisoenv cannot (an older pin)', () => {
    expect(
      sisoRemoteEnv({ insecure: false, credentialHelper: '/h', sisoenvKeys: ['SISO_REAPI_INSTANCE', 'SISO_REAPI_ADDRESS'] }),
    ).toMatchObject({
      SISO_CREDENTIAL_HELPER: '/h',
    });
    expect(sisoRemoteEnv({ insecure: false, credentialHelper: '/h', sisoenvKeys })).not.toHaveProperty('SISO_CREDENTIAL_HELPER');
  });
});

describe("siso's closing summary", () => {
  it('is read from the last lines of a build', () => {
    expect(
      parseSisoStats(['[3/3] 1.0s LINK quic_client', 'build finished', 'local:12 remote:340 cache:1200 fallback:3 retry:0 skip:5']),
    ).toEqual({
      local: 12,
      remote: 340,
      cache: 1200,
      fallback: 3,
    });
    expect(parseSisoStats(['ninja: no work to do.'])).toBeUndefined();
  });
});
