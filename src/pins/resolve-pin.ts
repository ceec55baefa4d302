import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ResolvedConfig } from '../config/load.js';
import { DEFAULT_CUSTOM_VARS } from '../config/schema.js';
import { ConfigError, NotFoundError } from '../errors.js';
import type { RemoteFiles } from '../tools/remote-files.js';
import { canonicalJson } from '../util/canonical-json.js';
import { sha256, writeJsonAtomic } from '../util/fs.js';
import { DepsError, resolveDeps, type GitDep } from '../chromium/deps.js';
import { DEPOT_TOOLS_DEP_PATH, QUICHE_DEP_PATH } from '../chromium/layout.js';

/**
 * How reads at a pin reach the server: gitiles (`chromium.gitiles`: 'auto', 'off', or a gitiles base URL
 * that serves chromium.srcUrl), else a blob-less one-commit git fetch. For every read, whichever backend.
 */
export function gitilesSettings(config: ResolvedConfig): { gitiles: 'auto' | 'off'; gitilesOverrides?: Record<string, string> } {
  const gitiles = config.chromium.gitiles;
  if (gitiles === 'off') return { gitiles: 'off' };
  return gitiles === 'auto' ? { gitiles: 'auto' } : { gitiles: 'auto', gitilesOverrides: { [config.chromium.srcUrl]: gitiles } };
}

/**
 * A pin turned into exact revisions without a checkout. A pin is a Chromium version (a tag, or a
 * src commit), resolved by reading DEPS at it (gitiles, else a blob-less one-commit git fetch); or a
 * quiche commit named directly, which needs no read. The resolve stage resolves the configured pin;
 * the patch tools resolve any pin the same way.
 */

export interface ResolveInputs {
  version: string;
  /** quiche.revision: the quiche commit to build, with the URL it comes from; DEPS is not read. */
  quicheCommit?: { revision: string; url: string };
  srcUrl: string;
  gitiles: string;
  customVars: Record<string, string | boolean | number>;
  customDeps: Record<string, string | null>;
  targetOs: string[];
}

/** The pin turned into exact revisions (the resolve stage's outputs). */
export interface ResolveOutput {
  version: string;
  /** What was asked for: refs/tags/<version>, or a commit. */
  ref: string;
  srcUrl: string;
  srcCommit: string;
  quicheRevision: string;
  quicheUrl: string;
  depotToolsRevision: string | undefined;
  gnVersion: string | undefined;
  /** Every pinned git dep (paths relative to the gclient root), for verification after sync. */
  deps: GitDep[];
  /** How DEPS was read: 'gitiles' or 'git'. */
  via: 'gitiles' | 'git';
}

export const isCommitPin = (version: string) => /^[0-9a-f]{40}$/.test(version);

/** The version label of a build of a quiche commit no Chromium pin named (artifacts: quiche-quiche-<commit12>-...). */
export const quicheCommitLabel = (revision: string) => `quiche-${revision.slice(0, 12)}`;

/** The custom_vars gclient will see: the //net defaults, then the user's. */
export function effectiveCustomVars(config: ResolvedConfig): Record<string, string | boolean | number> {
  return { ...DEFAULT_CUSTOM_VARS, ...config.gclient.customVars };
}

/** A Chromium version pin (the configured one, or `version`), with what decides how its DEPS reads. */
export function chromiumPinInputs(config: ResolvedConfig, version = config.chromium.version): ResolveInputs {
  return {
    version,
    srcUrl: config.chromium.srcUrl,
    gitiles: config.chromium.gitiles,
    customVars: effectiveCustomVars(config),
    customDeps: config.gclient.customDeps,
    targetOs: config.gclient.targetOs,
  };
}

/** A quiche commit named by itself (from `url`, after mirrors): no Chromium pin, nothing to read. */
export function quicheCommitInputs(revision: string, url: string): ResolveInputs {
  return {
    version: quicheCommitLabel(revision),
    quicheCommit: { revision, url },
    srcUrl: '',
    gitiles: 'off',
    customVars: {},
    customDeps: {},
    targetOs: [],
  };
}

export interface ResolvePinOptions {
  /** Resolved pins are cached here per inputs, so switching pins back and forth costs nothing. */
  cacheDir: string;
  /** Where progress lines and notes go (a stage's reporter fits). */
  report: { line: (text: string) => void; note: (text: string) => void };
}

/** Pin -> exact revisions; the tag itself is resolved with `git ls-remote`. */
export async function resolvePin(remote: RemoteFiles, inputs: ResolveInputs, options: ResolvePinOptions): Promise<ResolveOutput> {
  const { report } = options;
  if (inputs.quicheCommit) {
    report.note(`quiche.revision ${inputs.quicheCommit.revision}: building that quiche commit; Chromium's DEPS is not read`);
    return {
      version: inputs.version,
      ref: inputs.quicheCommit.revision,
      srcUrl: '',
      srcCommit: '',
      quicheRevision: inputs.quicheCommit.revision,
      quicheUrl: inputs.quicheCommit.url,
      depotToolsRevision: undefined,
      gnVersion: undefined,
      deps: [],
      via: 'git',
    };
  }
  const cacheFile = path.join(options.cacheDir, 'pins', `${sha256(canonicalJson(inputs)).slice(0, 24)}.json`);
  const cached = await readFile(cacheFile, 'utf8')
    .then((text) => JSON.parse(text) as ResolveOutput)
    .catch(() => undefined);
  if (cached) {
    report.note(`${inputs.version}: read from the resolve cache (src ${cached.srcCommit.slice(0, 12)})`);
    return cached;
  }
  const ref = isCommitPin(inputs.version) ? inputs.version : `refs/tags/${inputs.version}`;
  report.line(`resolving ${ref} at ${inputs.srcUrl}`);
  const srcCommit = await remote.resolveRef(inputs.srcUrl, ref);
  const depsText = await remote.read(inputs.srcUrl, srcCommit, 'DEPS');
  if (!depsText) {
    throw new NotFoundError(`${inputs.srcUrl} has no DEPS file at ${ref} (${srcCommit}).`, {
      hint: 'chromium.srcUrl must point at chromium/src (or a mirror of it).',
    });
  }
  let deps;
  try {
    deps = resolveDeps(depsText.toString('utf8'), { customVars: inputs.customVars, targetOs: inputs.targetOs, targetOsOnly: true });
  } catch (error) {
    if (error instanceof DepsError) {
      throw new ConfigError(`DEPS at ${inputs.version}: ${error.message}`, {
        hint: 'A custom_var may be missing or of the wrong type; compare gclient.customVars with DEPS vars.',
      });
    }
    throw error;
  }
  deps.gitDeps = applyCustomDeps(deps.gitDeps, inputs.customDeps);
  const quiche = deps.gitDeps.find((dep) => dep.path === QUICHE_DEP_PATH);
  if (!quiche?.revision) {
    throw new NotFoundError(`DEPS at ${inputs.version} pins no quiche (${QUICHE_DEP_PATH}).`, {
      hint: 'Pick a Chromium version that has quiche under net/third_party/quiche/src (all current ones do).',
    });
  }
  const depotTools = deps.gitDeps.find((dep) => dep.path === DEPOT_TOOLS_DEP_PATH);
  const gnVersion = deps.vars.gn_version;
  const output: ResolveOutput = {
    version: inputs.version,
    ref,
    srcUrl: inputs.srcUrl,
    srcCommit,
    quicheRevision: quiche.revision,
    quicheUrl: quiche.url,
    depotToolsRevision: depotTools?.revision,
    gnVersion: typeof gnVersion === 'string' ? gnVersion : undefined,
    deps: deps.gitDeps.filter((dep) => dep.revision !== undefined),
    via: remote.stats.git > 0 ? 'git' : 'gitiles',
  };
  await writeJsonAtomic(cacheFile, output);
  return output;
}

/** One line for plan and status: "src 1a2b3c4d, quiche 5e6f7a8b, depot_tools 9c0d1e2f". */
export const describePin = (r: ResolveOutput) =>
  `${r.srcCommit ? `src ${r.srcCommit.slice(0, 8)}` : r.version}, quiche ${r.quicheRevision.slice(0, 8)}${r.depotToolsRevision ? `, depot_tools ${r.depotToolsRevision.slice(0, 8)}` : ''}`;

/** gclient's custom_deps: `null` drops a dep, `url@rev` replaces its source and pin. */
export function applyCustomDeps(deps: GitDep[], custom: Record<string, string | null>): GitDep[] {
  const out: GitDep[] = [];
  for (const dep of deps) {
    if (!(dep.path in custom)) {
      out.push(dep);
      continue;
    }
    const override = custom[dep.path];
    if (override === null || override === undefined) continue;
    const at = override.lastIndexOf('@');
    const pinned = at > override.lastIndexOf('/');
    out.push({ path: dep.path, url: pinned ? override.slice(0, at) : override, revision: pinned ? override.slice(at + 1) : undefined });
  }
  return out;
}
