import { GOOGLE_RBE_INSTANCE, type RemoteExecutionConfig } from '../config/remote-execution.js';
import { ConfigError } from '../errors.js';
import { parseDepsFile } from './deps.js';
import type { GnValue } from './gn-args.js';
import type { PyValue } from './pyliteral.js';

/**
 * Siso remote execution for a Chromium tree, the way Chromium reads it (docs/remote-execution.md):
 *
 *   config remoteExecution -> .gclient custom_vars -> `gclient runhooks` (configure_siso.py)
 *     -> build/config/siso/.sisoenv (SISO_REAPI_ADDRESS, SISO_REAPI_INSTANCE, SISO_PROJECT, SISO_CREDENTIAL_HELPER)
 *     -> build/config/siso/backend_config/backend.star (a copy of the backend config)
 *   args.gn use_remoteexec = true, use_siso = true (use_reclient = false where the pin still has reclient)
 *   autoninja -> depot_tools' siso.py loads .sisoenv over the environment -> siso ninja -remote_jobs ...
 *
 * Pure: what to write and what to expect. Which pin supports what is read from the pin's DEPS and
 * build/toolchain/rbe.gni (sisoSupport). None of it is part of the build identity: remote execution
 * does not change what comes out.
 */

/** The gclient custom_vars that carry the settings to the configure_siso hook (DEPS declares them all as Str('')). */
export function remoteExecutionCustomVars(re: RemoteExecutionConfig): Record<string, string> {
  const vars: Record<string, string> = {};
  if (re.service === 'google-rbe') vars.rbe_instance = re.instance ?? '';
  else {
    vars.reapi_address = re.address ?? '';
    vars.reapi_instance = re.instance ?? '';
  }
  if (re.backendConfig !== undefined) vars.reapi_backend_config_path = re.backendConfig;
  // Written even for a pin whose DEPS does not declare it (gclient ignores unknown custom_vars); such a
  // pin's siso gets the helper through SISO_CREDENTIAL_HELPER in the build's environment (tools/siso.ts).
  if (re.credentialHelper !== undefined) vars.reapi_credential_helper = re.credentialHelper;
  return vars;
}

// ---- the version gate: what the pin's rbe.gni and DEPS support ----

/**
 * Which remote execution clients a pin's build/toolchain/rbe.gni offers:
 * - 'siso': siso's built-in REAPI client only (use_remoteexec, no reclient args: the newest trees);
 * - 'siso-or-reclient': both; `use_reclient` picks, and its default followed use_remoteexec in 2024
 *   trees (use_reclient_value.py), so args.gn must say use_reclient = false;
 * - 'reclient-only': use_remoteexec means reclient (rewrapper/reproxy, rbe_cfg_dir / reclient_cfg_dir);
 *   siso had no client of its own yet. Refused: build-quiche drives siso, not reclient;
 * - 'unknown': no rbe.gni, or one without use_remoteexec.
 */
export type RbeGniEra = 'siso' | 'siso-or-reclient' | 'reclient-only' | 'unknown';

const RECLIENT_ARGS = [
  'reclient_cfg_dir',
  'rbe_cfg_dir',
  'rbe_bin_dir',
  'reclient_bin_dir',
  'rbe_cros_cc_wrapper',
  'reclient_cros_cc_wrapper',
];

/** GN source without comments (a `#` to the end of the line, outside strings). */
function gnCode(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      let inString = false;
      for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (c === '\\' && inString) i++;
        else if (c === '"') inString = !inString;
        else if (c === '#' && !inString) return line.slice(0, i);
      }
      return line;
    })
    .join('\n');
}

const assigns = (code: string, name: string) => new RegExp(`(^|[^A-Za-z0-9_])${name}\\s*=`, 'm').test(code);

export function classifyRbeGni(text: string | undefined): RbeGniEra {
  if (text === undefined) return 'unknown';
  const code = gnCode(text);
  if (!assigns(code, 'use_remoteexec')) return 'unknown';
  if (assigns(code, 'use_reclient')) return 'siso-or-reclient';
  if (RECLIENT_ARGS.some((name) => assigns(code, name))) return 'reclient-only';
  return 'siso';
}

/** What the pin supports, decided before the checkout moves (the checkout stage stores it in its outputs). */
export interface SisoSupport {
  rbeGni: Exclude<RbeGniEra, 'reclient-only' | 'unknown'>;
  /** args.gn must say use_reclient = false (the pin declares the arg). */
  useReclientArg: boolean;
  /** How the credential helper reaches siso: the custom_var (newest configure_siso) or SISO_CREDENTIAL_HELPER in the build's environment. */
  credentialHelperVia: 'gclient' | 'env';
}

/** The configure_siso hook's action, with Var() still as `{name}` placeholders; undefined when DEPS has no such hook. */
function configureSisoAction(scope: Record<string, PyValue>): string[] | undefined {
  const hooks = (scope.hooks ?? []) as Array<Record<string, PyValue>>;
  const hook = hooks.find((h) => h.name === 'configure_siso');
  const action = hook?.action;
  return Array.isArray(action) ? action.filter((a): a is string => typeof a === 'string') : undefined;
}

/**
 * The version gate. Refuses (ConfigError naming the fix) a pin that cannot take these settings the
 * documented way: an rbe.gni of the reclient era, or a DEPS whose configure_siso hook does not pass
 * the settings on. `version` only names the pin in messages.
 */
export function sisoSupport(re: RemoteExecutionConfig, files: { deps: string; rbeGni: string | undefined; version: string }): SisoSupport {
  const era = classifyRbeGni(files.rbeGni);
  const at = `Chromium ${files.version}`;
  if (era === 'reclient-only') {
    throw new ConfigError(
      `${at} predates siso's built-in remote execution client: its build/toolchain/rbe.gni offers use_remoteexec only through reclient (rewrapper, reproxy, reclient_cfg_dir).`,
      {
        hint: 'build-quiche drives siso, not reclient. Pick a newer chromium.version (one whose rbe.gni declares use_reclient, or has no reclient args at all), or remove remoteExecution to build this pin locally.',
      },
    );
  }
  if (era === 'unknown') {
    throw new ConfigError(
      `${at}: ${files.rbeGni === undefined ? 'there is no build/toolchain/rbe.gni' : 'build/toolchain/rbe.gni declares no use_remoteexec'}, so build-quiche cannot tell which remote execution client this tree has.`,
      { hint: 'Remove remoteExecution to build this pin locally, or pick a Chromium version that has build/toolchain/rbe.gni.' },
    );
  }
  const scope = parseDepsFile(files.deps);
  const declared = new Set(Object.keys((scope.vars ?? {}) as Record<string, unknown>));
  const action = configureSisoAction(scope) ?? [];
  const passes = (flag: string, variable: string) => declared.has(variable) && action.includes(flag) && action.includes(`{${variable}}`);
  const missing = (flag: string, variable: string) => `the custom_var ${variable} (hook flag ${flag})`;
  const needs: string[] = [];
  if (re.service === 'reapi') {
    if (!passes('--reapi_address', 'reapi_address')) needs.push(missing('--reapi_address', 'reapi_address'));
    if (!passes('--reapi_instance', 'reapi_instance')) needs.push(missing('--reapi_instance', 'reapi_instance'));
  } else if (!passes('--rbe_instance', 'rbe_instance')) {
    needs.push(missing('--rbe_instance', 'rbe_instance'));
  }
  if (re.backendConfig !== undefined && !passes('--reapi_backend_config_path', 'reapi_backend_config_path')) {
    needs.push(missing('--reapi_backend_config_path', 'reapi_backend_config_path'));
  }
  if (needs.length) {
    throw new ConfigError(
      `${at}: the configure_siso hook in DEPS does not pass on ${needs.join(', ')}, so siso at this pin cannot be pointed at ${re.service === 'reapi' ? "a REAPI service other than Google's" : "Google's RBE"} the documented way.`,
      {
        hint: 'Pick a newer chromium.version (current DEPS declares reapi_address, reapi_instance, reapi_backend_config_path and reapi_credential_helper), or remove remoteExecution.',
      },
    );
  }
  return {
    rbeGni: era,
    useReclientArg: era === 'siso-or-reclient',
    credentialHelperVia: passes('--credential-helper', 'reapi_credential_helper') ? 'gclient' : 'env',
  };
}

// ---- gn args ----

/** The args that turn siso's remote execution on: layered over the build's own args in args.gn, never part of the identity. */
export function remoteExecutionGnArgs(support: Pick<SisoSupport, 'useReclientArg'>): Record<string, GnValue> {
  return { use_remoteexec: true, use_siso: true, ...(support.useReclientArg ? { use_reclient: false } : {}) };
}

// ---- what runhooks must have written ----

/** build/config/siso/.sisoenv as depot_tools' siso.py reads it: KEY=VALUE lines, split at the first '='. */
export function parseSisoenv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) env[line.slice(0, at).trim()] = line.slice(at + 1).trimEnd();
  }
  return env;
}

/** What configure_siso.py writes into .sisoenv for these settings (its logic, for the check after runhooks). */
export function expectedSisoenv(
  re: RemoteExecutionConfig,
  support: Pick<SisoSupport, 'credentialHelperVia'>,
): Record<string, string | undefined> {
  const helper = re.credentialHelper !== undefined && support.credentialHelperVia === 'gclient' ? re.credentialHelper : undefined;
  if (re.service === 'google-rbe') {
    const [, project, instance] = GOOGLE_RBE_INSTANCE.exec(re.instance ?? '') ?? [];
    return { SISO_PROJECT: project, SISO_REAPI_INSTANCE: instance, SISO_REAPI_ADDRESS: undefined, SISO_CREDENTIAL_HELPER: helper };
  }
  return {
    SISO_PROJECT: undefined,
    SISO_REAPI_INSTANCE: re.instance ?? '',
    SISO_REAPI_ADDRESS: re.address,
    SISO_CREDENTIAL_HELPER: helper,
  };
}

export interface SisoConfigFiles {
  /** build/config/siso/.sisoenv, or undefined when missing. */
  sisoenv: string | undefined;
  /** backend_config/backend.star, or undefined when missing. */
  backendStar: Buffer | undefined;
  /** The configured backend config file's bytes, when remoteExecution.backendConfig names a file of the user's. */
  backendSource?: Buffer;
}

/**
 * What is wrong with the files `gclient runhooks` left, one line each (empty: everything arrived).
 * `adopted`: the checkout's .gclient is the user's, so the fix is theirs to make.
 */
export function sisoConfigProblems(
  re: RemoteExecutionConfig,
  support: Pick<SisoSupport, 'credentialHelperVia'>,
  files: SisoConfigFiles,
  adopted: boolean,
): string[] {
  const problems: string[] = [];
  const gclientFix = adopted
    ? "add the custom_vars to the adopted checkout's .gclient (build-quiche never rewrites it) and run `gclient runhooks` there"
    : 'run again: build-quiche rewrites .gclient and runs `gclient runhooks`';
  if (files.sisoenv === undefined) {
    problems.push(`build/config/siso/.sisoenv is missing after gclient runhooks (the configure_siso hook writes it): ${gclientFix}.`);
  } else {
    const actual = parseSisoenv(files.sisoenv);
    for (const [key, want] of Object.entries(expectedSisoenv(re, support))) {
      const have = actual[key];
      if (have === want) continue;
      if (want === undefined && key === 'SISO_PROJECT') {
        problems.push(`.sisoenv names the Google Cloud project ${have} (SISO_PROJECT), so siso would talk to Google's RBE: ${gclientFix}.`);
      } else if (want !== undefined) {
        problems.push(`.sisoenv has ${key}=${have ?? '(none)'}, not ${want}: the custom_vars did not reach configure_siso; ${gclientFix}.`);
      }
    }
  }
  if (files.backendStar === undefined) {
    problems.push(
      'build/config/siso/backend_config/backend.star is missing after gclient runhooks: set remoteExecution.backendConfig to your backend config (start from build/config/siso/backend_config/template.star).',
    );
  } else if (files.backendSource !== undefined && !files.backendSource.equals(files.backendStar)) {
    problems.push(`build/config/siso/backend_config/backend.star is not a copy of ${re.backendConfig}: ${gclientFix}.`);
  }
  return problems;
}
