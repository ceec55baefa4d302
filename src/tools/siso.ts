/**
 * siso's command line and environment for a remote build, as go.chromium.org/build/siso documents them
 * (docs/auth.md, docs/environment_variables.md, `siso ninja -help`). autoninja passes flags it does not
 * know through to `siso ninja`; depot_tools' siso.py then loads build/config/siso/.sisoenv over the
 * environment, so the service's address, instance and project come from there (chromium/remote-execution.ts),
 * and what .sisoenv does not carry (TLS, insecure mode) comes from the variables below.
 */

export interface SisoRemoteOptions {
  /** -remote_jobs: siso takes no -j ("-j is not supported. use -remote_jobs and -local_jobs instead"). */
  remoteJobs?: number;
  /** -local_jobs, for the steps that stay local. */
  localJobs?: number;
  /** -re_exec_enable=false: read the action cache, execute locally. */
  cacheOnly?: boolean;
  /** -strict_remote: no local fallback. */
  strictRemote?: boolean;
  /** -reapi_keep_exec_stream: no reconnect through WaitExecution every minute. */
  keepExecStream?: boolean;
}

/** The flags for `autoninja -C out/X <these> targets...`, in place of -j. */
export function sisoRemoteArgs(options: SisoRemoteOptions): string[] {
  return [
    ...(options.remoteJobs !== undefined ? [`-remote_jobs=${options.remoteJobs}`] : []),
    ...(options.localJobs !== undefined ? [`-local_jobs=${options.localJobs}`] : []),
    ...(options.cacheOnly ? ['-re_exec_enable=false'] : []),
    ...(options.strictRemote ? ['-strict_remote'] : []),
    ...(options.keepExecStream ? ['-reapi_keep_exec_stream'] : []),
  ];
}

export interface SisoEnvOptions {
  insecure: boolean;
  tls?: { caCert?: string; clientCert?: string; clientKey?: string };
  /** A credential helper for a pin whose configure_siso hook cannot write it into .sisoenv. */
  credentialHelper?: string;
  /** The keys .sisoenv sets (siso.py puts them over the environment, so they need no neutral value here). */
  sisoenvKeys: readonly string[];
}

/**
 * The environment for a remote build. Every variable siso reads for the connection gets a value, empty
 * when unset, so that one left in the user's shell (RBE_service_no_security=true, a stale
 * SISO_PROJECT) cannot change where or how siso connects behind the config's back.
 */
export function sisoRemoteEnv(options: SisoEnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    RBE_service_no_security: options.insecure ? 'true' : 'false',
    RBE_tls_ca_cert: options.tls?.caCert ?? '',
    RBE_tls_client_auth_cert: options.tls?.clientCert ?? '',
    RBE_tls_client_auth_key: options.tls?.clientKey ?? '',
  };
  const fromSisoenv = new Set(options.sisoenvKeys);
  // An empty address means Google's default to siso, an empty project no project. The instance is always in .sisoenv.
  for (const key of ['SISO_PROJECT', 'SISO_REAPI_ADDRESS', 'SISO_CREDENTIAL_HELPER']) {
    if (!fromSisoenv.has(key)) env[key] = '';
  }
  if (options.credentialHelper !== undefined && !fromSisoenv.has('SISO_CREDENTIAL_HELPER'))
    env.SISO_CREDENTIAL_HELPER = options.credentialHelper;
  return env;
}

export interface SisoStats {
  local: number;
  remote: number;
  cache: number;
  fallback: number;
}

/** siso's closing summary, `local:12 remote:340 cache:1200 fallback:0 retry:0 skip:5`, from a build's output lines. */
export function parseSisoStats(lines: readonly string[]): SisoStats | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!/\blocal:\d+ remote:\d+/.test(line)) continue;
    const count = (key: string) => Number(new RegExp(`\\b${key}:(\\d+)`).exec(line)?.[1] ?? 0);
    return { local: count('local'), remote: count('remote'), cache: count('cache'), fallback: count('fallback') };
  }
  return undefined;
}
