import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { effectiveGnArgs, type GnValue } from '../../../chromium/gn-args.js';
import {
  remoteExecutionGnArgs,
  sisoConfigProblems,
  sisoSupport,
  parseSisoenv,
  type SisoSupport,
} from '../../../chromium/remote-execution.js';
import type { ResolveOutput } from '../../../pins/resolve-pin.js';
import type { ResolvedConfig } from '../../../config/load.js';
import { activeRemoteExecution, isPathLike, type RemoteExecutionConfig } from '../../../config/remote-execution.js';
import type { StageContext } from '../../../engine/stage.js';
import { BuildQuicheError, ConfigError } from '../../../errors.js';
import { sisoRemoteArgs, sisoRemoteEnv } from '../../../tools/siso.js';
import { remoteFilesFor, type AppContext } from '../../context.js';
import { jobsOf } from '../../host-check.js';

/**
 * The chromium stages' side of siso remote execution (chromium/remote-execution.ts has the rules):
 * the checkout stage decides what the pin supports before it syncs and checks what `gclient runhooks`
 * wrote; configure layers the gn args over the build's; compile passes siso's flags and environment.
 */

/** What the checkout stage found (in its outputs): what the pin supports, and the .sisoenv runhooks wrote. */
export interface RemoteExecutionCheckout {
  support: SisoSupport;
  sisoenv: Record<string, string>;
}

const SISO_DIR = ['build', 'config', 'siso'];
const sisoFile = (src: string, ...rest: string[]) => path.join(src, ...SISO_DIR, ...rest);

export const remoteExecutionOf = (config: ResolvedConfig): RemoteExecutionConfig | undefined => activeRemoteExecution(config);

/**
 * The version gate, before the checkout moves: the pin's DEPS and build/toolchain/rbe.gni, read through
 * RemoteFiles (the resolve cache, a local checkout at the pin, gitiles, or a one-commit git fetch).
 */
export async function sisoSupportAtPin(
  ctx: StageContext<AppContext>,
  re: RemoteExecutionConfig,
  resolve: ResolveOutput,
  src: string,
): Promise<SisoSupport> {
  const remote = remoteFilesFor(ctx);
  const local = existsSync(path.join(src, '.git')) ? src : undefined;
  const read = async (file: string) => (await remote.read(resolve.srcUrl, resolve.srcCommit, file, local))?.toString('utf8');
  const deps = await read('DEPS');
  if (deps === undefined) throw new ConfigError(`${resolve.srcUrl} has no DEPS at ${resolve.srcCommit}.`);
  const support = sisoSupport(re, { deps, rbeGni: await read('build/toolchain/rbe.gni'), version: resolve.version });
  ctx.report.note(
    `remote execution: ${re.service === 'reapi' ? `REAPI service ${re.address}` : "Google's RBE"}; this pin's rbe.gni: ${support.rbeGni}${support.useReclientArg ? ' (args.gn gets use_reclient = false)' : ''}`,
  );
  return support;
}

/** The files the settings name (backend config, TLS files, a credential helper given as a path) exist, or a ConfigError lists them. */
export function checkSettingsFiles(re: RemoteExecutionConfig): void {
  const files: Array<[string, string | undefined]> = [
    ['remoteExecution.backendConfig', re.backendConfig !== undefined && isPathLike(re.backendConfig) ? re.backendConfig : undefined],
    [
      'remoteExecution.credentialHelper',
      re.credentialHelper !== undefined && isPathLike(re.credentialHelper) ? re.credentialHelper : undefined,
    ],
    ['remoteExecution.tls.caCert', re.tls?.caCert],
    ['remoteExecution.tls.clientCert', re.tls?.clientCert],
    ['remoteExecution.tls.clientKey', re.tls?.clientKey],
  ];
  const missing = files.filter(([, file]) => file !== undefined && !existsSync(file)).map(([field, file]) => `${field}: ${file}`);
  if (missing.length) {
    throw new ConfigError(`Files named in remoteExecution do not exist:\n  ${missing.join('\n  ')}`, {
      hint: 'Paths are relative to the config file. A bare name (no /) means a program on PATH, or a file in build/config/siso/backend_config.',
    });
  }
}

/** `gclient runhooks` failed: configure_siso.py's own complaint becomes the fix in build-quiche's terms. */
export function runhooksError(error: unknown, re: RemoteExecutionConfig): unknown {
  if (!(error instanceof BuildQuicheError)) return error;
  const said = (error.tail ?? []).join('\n');
  const noSuchConfig = /No such file or directory: '([^']*backend_config[^']*)'/.exec(said);
  if (noSuchConfig) {
    return new ConfigError(`configure_siso.py cannot copy the backend config: ${noSuchConfig[1]} does not exist.`, {
      hint: `remoteExecution.backendConfig (${re.backendConfig}) is a bare name, so it must be a file in the checkout's build/config/siso/backend_config; name your own file by a path instead (anything with a /).`,
      logPath: error.logPath,
      tail: error.tail,
      cause: error,
    });
  }
  if (!/Need to provide .*backend\.star/.test(said)) return error;
  return new ConfigError(
    `configure_siso.py found no backend config for ${re.address ?? re.instance}: ${said
      .split('\n')
      .find((l) => l.includes('Need to provide'))
      ?.trim()}`,
    {
      hint:
        re.backendConfig === undefined
          ? 'Set remoteExecution.backendConfig: copy build/config/siso/backend_config/template.star, set the platform properties your workers advertise, and name the copy.'
          : `remoteExecution.backendConfig (${re.backendConfig}) does not name a file configure_siso.py can copy: a path must exist, a bare name must be a file in build/config/siso/backend_config.`,
      logPath: error.logPath,
      tail: error.tail,
      cause: error,
    },
  );
}

async function readSisoFiles(src: string, re: RemoteExecutionConfig) {
  const backendSource =
    re.backendConfig !== undefined && isPathLike(re.backendConfig) ? await readFile(re.backendConfig).catch(() => undefined) : undefined;
  return {
    sisoenv: await readFile(sisoFile(src, '.sisoenv'), 'utf8').catch(() => undefined),
    backendStar: await readFile(sisoFile(src, 'backend_config', 'backend.star')).catch(() => undefined),
    ...(backendSource && { backendSource }),
  };
}

/** After runhooks: .sisoenv and backend.star exist and carry the settings, or the run stops with the fix. */
export async function checkSisoConfigured(
  re: RemoteExecutionConfig,
  support: SisoSupport,
  src: string,
  adopted: boolean,
): Promise<RemoteExecutionCheckout> {
  const files = await readSisoFiles(src, re);
  const problems = sisoConfigProblems(re, support, files, adopted);
  if (problems.length) {
    throw new ConfigError(`The remote execution settings did not arrive where siso reads them:\n  ${problems.join('\n  ')}`, {
      hint: 'docs/remote-execution.md says what goes where. `gclient runhooks` in the checkout re-runs configure_siso.py.',
      data: { problems },
    });
  }
  return { support, sisoenv: parseSisoenv(files.sisoenv ?? '') };
}

/** For the checkout stage's verify: why the siso files no longer match the settings (someone ran runhooks by hand, edited backend.star), or true. */
export async function sisoConfigDrift(
  re: RemoteExecutionConfig,
  support: SisoSupport,
  src: string,
  adopted: boolean,
): Promise<true | string> {
  const problems = sisoConfigProblems(re, support, await readSisoFiles(src, re), adopted);
  return problems.length ? problems[0]! : true;
}

/** args.gn: the build's args (the identity's), with the remote execution args over them when it is on. */
export function gnArgsFor(app: AppContext, remote: RemoteExecutionCheckout | undefined): Record<string, GnValue> {
  const { build } = app.config;
  const args = effectiveGnArgs(build.args, build.builder);
  return remoteExecutionOf(app.config) && remote ? { ...args, ...remoteExecutionGnArgs(remote.support) } : args;
}

/** The compile step's siso flags (instead of -j) and environment, or undefined for a local build. */
export function remoteCompile(
  app: AppContext,
  remote: RemoteExecutionCheckout | undefined,
): { args: string[]; env: Record<string, string> } | undefined {
  const re = remoteExecutionOf(app.config);
  if (!re || !remote) return undefined;
  return {
    args: sisoRemoteArgs({
      remoteJobs: re.remoteJobs,
      localJobs: re.localJobs ?? jobsOf(app.config),
      cacheOnly: re.cacheOnly,
      strictRemote: re.strictRemote,
      keepExecStream: re.keepExecStream,
    }),
    env: sisoRemoteEnv({
      insecure: re.insecure,
      tls: re.tls,
      credentialHelper: remote.support.credentialHelperVia === 'env' ? re.credentialHelper : undefined,
      sisoenvKeys: Object.keys(remote.sisoenv),
    }),
  };
}
