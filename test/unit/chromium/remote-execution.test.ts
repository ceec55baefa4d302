import { describe, expect, it } from 'vitest';
import {
  classifyRbeGni,
  expectedSisoenv,
  parseSisoenv,
  remoteExecutionCustomVars,
  remoteExecutionGnArgs,
  sisoConfigProblems,
  sisoSupport,
} from '../../../src/chromium/remote-execution.js';
import type { RemoteExecutionConfig } from '../../../src/config/remote-execution.js';
import { ConfigError } from '../../../src/errors.js';

const REAPI: RemoteExecutionConfig = {
  enabled: true,
  service: 'reapi',
  address: 'remote.buildbuddy.io:443',
  instance: 'default',
  backendConfig: '/home/me/bb.star',
  credentialHelper: '/home/me/bb-key.sh',
  insecure: false,
  cacheOnly: false,
  strictRemote: false,
  keepExecStream: false,
};
const GOOGLE: RemoteExecutionConfig = {
  ...REAPI,
  service: 'google-rbe',
  address: undefined,
  instance: 'projects/rbe-chromium-untrusted/instances/default_instance',
  backendConfig: undefined,
  credentialHelper: 'gcloud',
};

// rbe.gni through Chromium's history, shortened to what decides the client.
const RBE_2023 = `# Defines the configuration of Remote Build Execution (RBE).
declare_args() {
  rbe_exec_root = rebase_path("//")
  # Set to true to enable remote compilation using reclient.
  use_remoteexec = false
  use_remoteexec_links = false
  # The directory where the re-client configuration files are.
  rbe_cfg_dir = rebase_path("//buildtools/reclient_cfgs/linux", root_build_dir)
}
`;
const RBE_2024 = `import("//build/toolchain/siso.gni")
declare_args() {
  # Deprecated: Please use reclient_cfg_dir instead.
  rbe_cfg_dir = ""
  use_remoteexec = false
  use_reclient = exec_script("//build/toolchain/use_reclient_value.py", [ rebase_path(root_build_dir) ], "value")
  reclient_cfg_dir = ""
}
assert(!use_remoteexec || use_reclient || use_siso, "Either use_reclient or use_siso needs to be true to enable remote executions")
`;
const RBE_2025 = `import("//build/toolchain/remoteexec_defaults.gni")
declare_args() {
  use_remoteexec = false
  use_reclient = use_remoteexec && use_reclient_on_siso
  reclient_cfg_dir = ""
}
`;
const RBE_SISO_ONLY = `declare_args() {
  # Set to true to enable remote executions. (use_reclient = true and reclient_cfg_dir are gone.)
  use_remoteexec = false
}
`;

/** A DEPS with the configure_siso hook as the newest Chromium has it, or an older one. */
function deps(opts: { reapi?: boolean; helper?: boolean } = {}): string {
  const { reapi = true, helper = true } = opts;
  return `vars = {
  'rbe_instance': Str('projects/rbe-chrome-untrusted/instances/default_instance'),
${reapi ? "  'reapi_instance': Str(''),\n  'reapi_address': Str(''),\n  'reapi_backend_config_path': Str(''),\n" : ''}${helper ? "  'reapi_credential_helper': Str(''),\n" : ''}}
hooks = [
  {
    'name': 'configure_siso',
    'pattern': '.',
    'action': ['python3', 'src/build/config/siso/configure_siso.py', '--rbe_instance', Var('rbe_instance'),
${reapi ? "               '--reapi_instance', Var('reapi_instance'), '--reapi_address', Var('reapi_address'),\n               '--reapi_backend_config_path', Var('reapi_backend_config_path'),\n" : ''}${helper ? "               '--credential-helper', Var('reapi_credential_helper'),\n" : ''}    ],
  },
]
`;
}

describe('the gclient custom_vars', () => {
  it('carry a REAPI service as reapi_address, reapi_instance, reapi_backend_config_path, reapi_credential_helper', () => {
    expect(remoteExecutionCustomVars(REAPI)).toEqual({
      reapi_address: 'remote.buildbuddy.io:443',
      reapi_instance: 'default',
      reapi_backend_config_path: '/home/me/bb.star',
      reapi_credential_helper: '/home/me/bb-key.sh',
    });
  });

  it("carry Google's RBE as rbe_instance", () => {
    expect(remoteExecutionCustomVars(GOOGLE)).toEqual({ rbe_instance: GOOGLE.instance, reapi_credential_helper: 'gcloud' });
  });
});

describe('the version gate', () => {
  it('reads which clients rbe.gni offers', () => {
    expect(classifyRbeGni(RBE_2023)).toBe('reclient-only');
    expect(classifyRbeGni(RBE_2024)).toBe('siso-or-reclient');
    expect(classifyRbeGni(RBE_2025)).toBe('siso-or-reclient');
    expect(classifyRbeGni(RBE_SISO_ONLY)).toBe('siso');
    expect(classifyRbeGni(undefined)).toBe('unknown');
    expect(classifyRbeGni('# nothing\n')).toBe('unknown');
  });

  it('refuses a reclient-only pin, naming the fix', () => {
    expect(() => sisoSupport(REAPI, { deps: deps(), rbeGni: RBE_2023, version: '120.0.6099.1' })).toThrow(ConfigError);
    expect(() => sisoSupport(REAPI, { deps: deps(), rbeGni: RBE_2023, version: '120.0.6099.1' })).toThrow(
      /predates siso's built-in remote execution client/,
    );
    expect(() => sisoSupport(REAPI, { deps: deps(), rbeGni: undefined, version: '99.0.1.1' })).toThrow(/no build\/toolchain\/rbe.gni/);
  });

  it('asks for use_reclient = false where the pin declares it, and for nothing where it does not', () => {
    const transitional = sisoSupport(REAPI, { deps: deps(), rbeGni: RBE_2024, version: '130.0.1.1' });
    expect(transitional).toEqual({ rbeGni: 'siso-or-reclient', useReclientArg: true, credentialHelperVia: 'gclient' });
    expect(remoteExecutionGnArgs(transitional)).toEqual({ use_remoteexec: true, use_siso: true, use_reclient: false });
    const newest = sisoSupport(REAPI, { deps: deps(), rbeGni: RBE_SISO_ONLY, version: '152.0.1.1' });
    expect(remoteExecutionGnArgs(newest)).toEqual({ use_remoteexec: true, use_siso: true });
  });

  it('passes the credential helper through the environment where the hook does not take it', () => {
    expect(sisoSupport(REAPI, { deps: deps({ helper: false }), rbeGni: RBE_2025, version: '135.0.1.1' }).credentialHelperVia).toBe('env');
  });

  it('refuses a pin whose configure_siso hook cannot point siso at another service', () => {
    expect(() => sisoSupport(REAPI, { deps: deps({ reapi: false, helper: false }), rbeGni: RBE_2024, version: '125.0.1.1' })).toThrow(
      /does not pass on the custom_var reapi_address/,
    );
    // Google's RBE needs only rbe_instance, which every DEPS with the hook passes.
    expect(
      sisoSupport(
        { ...GOOGLE, credentialHelper: undefined },
        { deps: deps({ reapi: false, helper: false }), rbeGni: RBE_2024, version: '125.0.1.1' },
      ).rbeGni,
    ).toBe('siso-or-reclient');
  });
});

describe('what runhooks must have written', () => {
  const support = { credentialHelperVia: 'gclient' as const };

  it('expects .sisoenv as configure_siso.py writes it', () => {
    expect(expectedSisoenv(REAPI, support)).toEqual({
      SISO_PROJECT: undefined,
      SISO_REAPI_INSTANCE: 'default',
      SISO_REAPI_ADDRESS: 'remote.buildbuddy.io:443',
      SISO_CREDENTIAL_HELPER: '/home/me/bb-key.sh',
    });
    expect(expectedSisoenv(GOOGLE, support)).toMatchObject({
      SISO_PROJECT: 'rbe-chromium-untrusted',
      SISO_REAPI_INSTANCE: 'default_instance',
    });
    expect(parseSisoenv('SISO_PROJECT=p\nSISO_REAPI_INSTANCE=\nSISO_REAPI_ADDRESS=h:1\n')).toEqual({
      SISO_PROJECT: 'p',
      SISO_REAPI_INSTANCE: '',
      SISO_REAPI_ADDRESS: 'h:1',
    });
  });

  const good = {
    sisoenv: 'SISO_REAPI_INSTANCE=default\nSISO_REAPI_ADDRESS=remote.buildbuddy.io:443\nSISO_CREDENTIAL_HELPER=/home/me/bb-key.sh\n',
    backendStar: Buffer.from('backend'),
    backendSource: Buffer.from('backend'),
  };

  it('finds nothing wrong when everything arrived', () => {
    expect(sisoConfigProblems(REAPI, support, good, false)).toEqual([]);
  });

  it('names each setting that did not arrive, with the fix', () => {
    expect(sisoConfigProblems(REAPI, support, { ...good, sisoenv: undefined }, false)[0]).toContain('.sisoenv is missing');
    expect(
      sisoConfigProblems(
        REAPI,
        support,
        { ...good, sisoenv: 'SISO_PROJECT=rbe-chrome-untrusted\nSISO_REAPI_INSTANCE=default_instance\n' },
        false,
      ),
    ).toEqual([
      expect.stringContaining("so siso would talk to Google's RBE"),
      expect.stringContaining('SISO_REAPI_INSTANCE=default_instance, not default'),
      expect.stringContaining('SISO_REAPI_ADDRESS=(none), not remote.buildbuddy.io:443'),
      expect.stringContaining('SISO_CREDENTIAL_HELPER=(none)'),
    ]);
    expect(sisoConfigProblems(REAPI, support, { ...good, backendStar: undefined }, false)[0]).toContain('backend.star is missing');
    expect(sisoConfigProblems(REAPI, support, { ...good, backendStar: Buffer.from('old') }, false)[0]).toContain(
      'is not a copy of /home/me/bb.star',
    );
    expect(sisoConfigProblems(REAPI, support, { ...good, sisoenv: undefined }, true)[0]).toContain("adopted checkout's .gclient");
  });

  it('does not expect the helper in .sisoenv where the pin passes it through the environment', () => {
    const sisoenv = 'SISO_REAPI_INSTANCE=default\nSISO_REAPI_ADDRESS=remote.buildbuddy.io:443\n';
    expect(sisoConfigProblems(REAPI, { credentialHelperVia: 'env' }, { ...good, sisoenv }, false)).toEqual([]);
  });
});
