import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppContext } from './context.js';
import { remoteFilesFor } from './context.js';
import { DEFAULT_CUSTOM_VARS } from '../config/schema.js';
import { DepsError, resolveDeps, type GitDep } from '../chromium/deps.js';
import { DEPOT_TOOLS_DEP_PATH, QUICHE_DEP_PATH, type ResolveOutput } from '../chromium/types.js';
import { defineStage } from '../engine/stage.js';
import { fingerprint } from '../engine/fingerprint.js';
import { ConfigError, NotFoundError } from '../errors.js';
import { rewriteUrl } from '../standalone/dependencies.js';
import { writeJsonAtomic } from '../util/fs.js';

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

export const isCommitPin = (version: string) => /^[0-9a-f]{40}$/.test(version);

/** The version label of a build of a quiche commit no Chromium pin named (artifacts: quiche-quiche-<commit12>-...). */
export const quicheCommitLabel = (revision: string) => `quiche-${revision.slice(0, 12)}`;

/** quiche.revision (and the URL quiche is read from, after mirrors) when the config names the quiche commit itself. */
function quicheCommitOf(app: AppContext): ResolveInputs['quicheCommit'] {
  const { quiche, backend } = app.config;
  if (quiche.revision === undefined) return undefined;
  if (backend !== 'quiche') {
    throw new ConfigError(`quiche.revision is set, but the ${backend} backend builds the quiche that Chromium's DEPS pins.`, {
      hint: "Use backend 'quiche' (--backend quiche) to build a quiche commit by itself, or drop quiche.revision and pick chromium.version.",
    });
  }
  return { revision: quiche.revision, url: rewriteUrl(quiche.url, quiche.mirrors) };
}

/** The custom_vars gclient will see: the //net defaults, then the user's. */
export function effectiveCustomVars(app: AppContext): Record<string, string | boolean | number> {
  return { ...DEFAULT_CUSTOM_VARS, ...app.config.gclient.customVars };
}

/**
 * Pin -> exact revisions, by reading DEPS at the pin without a checkout (gitiles, else a blob-less
 * one-commit git fetch). Results are cached per ref and inputs, so switching pins back and forth
 * costs nothing; the tag itself is resolved with `git ls-remote`.
 */
export const resolveStage = defineStage<AppContext, ResolveInputs, ResolveOutput>({
  id: 'resolve',
  title: 'Resolve the pin from DEPS',
  after: [],
  pure: true,
  inputs: ({ app }) => {
    const quicheCommit = quicheCommitOf(app);
    if (quicheCommit) {
      return {
        version: quicheCommitLabel(quicheCommit.revision),
        quicheCommit,
        srcUrl: '',
        gitiles: 'off',
        customVars: {},
        customDeps: {},
        targetOs: [],
      };
    }
    return {
      version: app.config.chromium.version,
      srcUrl: app.config.chromium.srcUrl,
      gitiles: app.config.chromium.gitiles,
      customVars: effectiveCustomVars(app),
      customDeps: app.config.gclient.customDeps,
      targetOs: app.config.gclient.targetOs,
    };
  },
  async run(ctx, inputs) {
    if (inputs.quicheCommit) {
      ctx.report.note(`quiche.revision ${inputs.quicheCommit.revision}: building that quiche commit; Chromium's DEPS is not read`);
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
    const cacheFile = path.join(ctx.app.paths.resolveCache, 'pins', `${fingerprint(inputs).slice(0, 24)}.json`);
    const cached = await readFile(cacheFile, 'utf8')
      .then((text) => JSON.parse(text) as ResolveOutput)
      .catch(() => undefined);
    if (cached) {
      ctx.report.note(`${inputs.version}: read from the resolve cache (src ${cached.srcCommit.slice(0, 12)})`);
      return cached;
    }
    const remote = remoteFilesFor(ctx);
    const ref = isCommitPin(inputs.version) ? inputs.version : `refs/tags/${inputs.version}`;
    ctx.report.line(`resolving ${ref} at ${inputs.srcUrl}`);
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
  },
  describe: (r) =>
    `${r.srcCommit ? `src ${r.srcCommit.slice(0, 8)}` : r.version}, quiche ${r.quicheRevision.slice(0, 8)}${r.depotToolsRevision ? `, depot_tools ${r.depotToolsRevision.slice(0, 8)}` : ''}`,
});

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
