import { z } from 'zod';

/**
 * `remoteExecution`: a user's Remote Execution API service for the Chromium backend's siso, configured
 * the way Chromium reads it (docs/remote-execution.md). Nothing here is built by build-quiche: the
 * settings become gclient custom_vars (which Chromium's configure_siso hook turns into
 * build/config/siso/.sisoenv and backend_config/backend.star), gn args, siso flags and the environment
 * variables siso documents. The mapping itself lives in chromium/remote-execution.ts and tools/siso.ts.
 */

/** `host:port`, an `[ipv6]:port`, as siso's -reapi_address takes it. */
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):\d{1,5}$/;
/** Google's RBE instances: projects/<project>/instances/<instance>. */
export const GOOGLE_RBE_INSTANCE = /^projects\/([^/]+)\/instances\/([^/]+)$/;
/** The address siso uses when none is set, and what configure_siso.py treats as Google's RBE. */
export const GOOGLE_RBE_ADDRESS = 'remotebuildexecution.googleapis.com:443';

const file = (what: string) => z.string().min(1).describe(`${what} (a path; relative to the config file).`);

const tls = z
  .strictObject({
    caCert: file("PEM CA bundle to verify the service's certificate with, instead of the system's (siso: RBE_tls_ca_cert)").optional(),
    clientCert: file('PEM client certificate for mutual TLS (siso: RBE_tls_client_auth_cert); needs clientKey').optional(),
    clientKey: file('PEM key of clientCert (siso: RBE_tls_client_auth_key)').optional(),
  })
  .describe('TLS settings for the connection to the service. Without them siso speaks TLS with the system CAs and no client certificate.');

export const remoteExecutionSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe('Switch remote execution off without deleting the section (e.g. --set remoteExecution.enabled=false).'),
    service: z
      .enum(['reapi', 'google-rbe'])
      .default('reapi')
      .describe(
        "'reapi': your own Remote Execution API service (BuildBuddy, EngFlow, Buildbarn, NativeLink, ...): gclient custom_vars reapi_address, reapi_instance, reapi_backend_config_path. 'google-rbe': Google's RBE, by invitation: the custom_var rbe_instance.",
      ),
    address: z
      .string()
      .regex(HOST_PORT, 'host:port, e.g. remote.buildbuddy.io:443 (no scheme)')
      .optional()
      .describe("The service's gRPC endpoint, host:port (gclient custom_var reapi_address -> SISO_REAPI_ADDRESS). Required for 'reapi'."),
    instance: z
      .string()
      .optional()
      .describe(
        "The REAPI instance name (custom_var reapi_instance -> SISO_REAPI_INSTANCE); '' is the service's default instance. For 'google-rbe': projects/<project>/instances/<instance> (custom_var rbe_instance).",
      ),
    backendConfig: z
      .string()
      .regex(/\.star$/, 'a Starlark file ending in .star')
      .optional()
      .describe(
        "The siso backend config that configure_siso.py copies to build/config/siso/backend_config/backend.star (custom_var reapi_backend_config_path): a path to your own file (anything with a '/', relative to the config file), or the name of a file in the checkout's build/config/siso/backend_config (e.g. google.star). Required for 'reapi'; start from that directory's template.star.",
      ),
    credentialHelper: z
      .string()
      .min(1)
      .optional()
      .describe(
        "A Bazel credential helper siso runs for per-RPC headers (custom_var reapi_credential_helper -> SISO_CREDENTIAL_HELPER): a program on PATH, or a path (anything with a '/', relative to the config file).",
      ),
    tls: tls.optional(),
    insecure: z
      .boolean()
      .default(false)
      .describe('Plain-text gRPC without TLS or credentials (siso: RBE_service_no_security=true). Only on a closed network.'),
    remoteJobs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("siso's -remote_jobs (used instead of -j). Default: siso's own, from the CPU count."),
    localJobs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("siso's -local_jobs for the steps that stay local (links, generators). Default: build.jobs, else what preflight suggests."),
    cacheOnly: z
      .boolean()
      .default(false)
      .describe(
        "Read the service's action cache but execute everything locally (siso -re_exec_enable=false), for accounts without execute rights.",
      ),
    strictRemote: z
      .boolean()
      .default(false)
      .describe(
        'No local fallback for remote steps (siso -strict_remote): a step the service cannot run fails the build. For validating a backend.',
      ),
    keepExecStream: z
      .boolean()
      .default(false)
      .describe(
        'Keep each Execute stream open instead of reconnecting every minute with WaitExecution (siso -reapi_keep_exec_stream), for services without google.longrunning.Operations.',
      ),
  })
  .describe('Siso remote execution for the chromium backend (docs/remote-execution.md). Absent: everything compiles locally.');

export type RemoteExecutionConfig = z.output<typeof remoteExecutionSchema>;

/** What a file setting names: a path (it has a '/') or a bare name looked up elsewhere (PATH, backend_config/). */
export const isPathLike = (value: string) => value.includes('/');

/** The gclient custom_vars that remoteExecution writes; setting them in gclient.customVars too would be two sources of truth. */
export const REMOTE_EXECUTION_CUSTOM_VARS = [
  'rbe_instance',
  'reapi_address',
  'reapi_instance',
  'reapi_backend_config_path',
  'reapi_credential_helper',
] as const;

/** The gn args remoteExecution decides. */
export const REMOTE_EXECUTION_GN_ARGS = ['use_remoteexec', 'use_siso', 'use_reclient'] as const;

/** The part of the whole config the cross-field checks read. */
interface ConfigView {
  backend: string;
  remoteExecution?: RemoteExecutionConfig;
  build: { builder: string; args: Record<string, unknown> };
  gclient: { customVars: Record<string, unknown> };
}

type Issue = { path: (string | number)[]; message: string };

/**
 * The combinations siso, configure_siso.py or gn would refuse later (often after a 50 GB checkout),
 * refused when the config is loaded instead, each with its fix. Returns one issue per problem.
 */
export function remoteExecutionIssues(config: ConfigView): Issue[] {
  const re = config.remoteExecution;
  if (!re?.enabled) return [];
  const issues: Issue[] = [];
  const at = (field: string, message: string) => issues.push({ path: ['remoteExecution', ...field.split('.').filter(Boolean)], message });

  if (config.backend !== 'chromium') {
    at(
      '',
      `siso remote execution is for backend 'chromium' only (this config builds with '${config.backend}'); remove remoteExecution or set backend 'chromium'.`,
    );
  }
  if (config.build.builder !== 'autoninja') {
    issues.push({
      path: ['build', 'builder'],
      message:
        "remoteExecution needs build.builder 'autoninja': siso is the only remote execution client Chromium keeps; plain ninja builds locally.",
    });
  }
  for (const arg of REMOTE_EXECUTION_GN_ARGS) {
    if (arg in config.build.args) {
      issues.push({
        path: ['build', 'args', arg],
        message: `remoteExecution sets ${arg} itself (use_remoteexec = true, use_siso = true, use_reclient = false where the pin has it); remove build.args.${arg}.`,
      });
    }
  }
  const wrapper = config.build.args.cc_wrapper;
  if (typeof wrapper === 'string' && wrapper !== '') {
    issues.push({
      path: ['build', 'args', 'cc_wrapper'],
      message: `Chromium's gn refuses cc_wrapper with use_remoteexec ("cc_wrapper can not be used with use_remoteexec"); remove build.args.cc_wrapper (${JSON.stringify(wrapper)}) or remoteExecution.`,
    });
  }
  for (const name of REMOTE_EXECUTION_CUSTOM_VARS) {
    if (name in config.gclient.customVars) {
      issues.push({
        path: ['gclient', 'customVars', name],
        message: `remoteExecution writes the custom_var ${name}; remove it from gclient.customVars and set it through remoteExecution.`,
      });
    }
  }

  if (re.service === 'reapi') {
    if (re.address === undefined) {
      at(
        'address',
        "required for service 'reapi': the service's gRPC endpoint as host:port (e.g. remote.buildbuddy.io:443); for Google's RBE set service 'google-rbe'.",
      );
    } else if (re.address.endsWith('.googleapis.com:443')) {
      at(
        'address',
        `${re.address} is Google's RBE: set service 'google-rbe' and instance 'projects/<project>/instances/<instance>', and drop address.`,
      );
    }
    if (re.instance === undefined) {
      at(
        'instance',
        "required for service 'reapi': the instance name your service expects (BuildBuddy and EngFlow: 'default', NativeLink: 'main'; '' for the service's default instance).",
      );
    }
    if (re.backendConfig === undefined) {
      at(
        'backendConfig',
        "required for service 'reapi': configure_siso.py stops with \"Need to provide .../backend.star (by reapi_backend_config_path custom_var)\" for any backend but Google's. Copy build/config/siso/backend_config/template.star, set the platform properties your workers advertise, and point backendConfig at the copy.",
      );
    }
  } else {
    if (re.instance === undefined || !GOOGLE_RBE_INSTANCE.test(re.instance)) {
      at(
        'instance',
        "service 'google-rbe' needs projects/<project>/instances/<instance> (e.g. projects/rbe-chromium-untrusted/instances/default_instance).",
      );
    }
    if (re.address !== undefined) {
      at(
        'address',
        "service 'google-rbe' always uses remotebuildexecution.googleapis.com:443; drop address (or set service 'reapi' for another service).",
      );
    }
    if (re.insecure)
      at('insecure', 'siso refuses insecure mode for Google\'s RBE ("insecure mode is not supported for RBE"); drop insecure.');
  }

  const { caCert, clientCert, clientKey } = re.tls ?? {};
  if (re.insecure && (caCert || clientCert || clientKey)) {
    at('insecure', 'insecure turns TLS off, so the tls settings would be ignored; drop insecure or tls.');
  }
  if (re.insecure && re.credentialHelper) {
    at(
      'credentialHelper',
      'with insecure siso sends no credentials (and they would cross the network in clear text); drop credentialHelper or insecure.',
    );
  }
  if (clientCert && !clientKey)
    at('tls.clientKey', 'tls_client_auth_cert is set, but tls_client_auth_key is not set (siso): set tls.clientKey too.');
  if (clientKey && !clientCert)
    at('tls.clientCert', 'tls_client_auth_key is set, but tls_client_auth_cert is not set (siso): set tls.clientCert too.');
  if (clientCert && re.credentialHelper) {
    at(
      'credentialHelper',
      'with a client certificate siso authenticates by mutual TLS and sets SISO_CREDENTIAL_HELPER=mTLS (no per-RPC credentials); drop credentialHelper or tls.clientCert.',
    );
  }
  if (re.cacheOnly && re.strictRemote) {
    at('strictRemote', 'cacheOnly runs every step locally, so strictRemote (no local steps) would fail every cache miss; choose one.');
  }
  return issues;
}

/** Paths in the section made absolute against the config file's directory; bare names (PATH, backend_config/) stay. */
export function resolveRemoteExecutionPaths(
  re: RemoteExecutionConfig | undefined,
  abs: (p: string) => string,
): RemoteExecutionConfig | undefined {
  if (!re) return re;
  const maybe = (value: string | undefined) => (value !== undefined && isPathLike(value) ? abs(value) : value);
  const file = (value: string | undefined) => (value === undefined ? value : abs(value));
  return {
    ...re,
    backendConfig: maybe(re.backendConfig),
    credentialHelper: maybe(re.credentialHelper),
    ...(re.tls && { tls: { caCert: file(re.tls.caCert), clientCert: file(re.tls.clientCert), clientKey: file(re.tls.clientKey) } }),
  };
}

/** The section when it is on (present and enabled). */
export const activeRemoteExecution = (config: { remoteExecution?: RemoteExecutionConfig }): RemoteExecutionConfig | undefined =>
  config.remoteExecution?.enabled ? config.remoteExecution : undefined;
