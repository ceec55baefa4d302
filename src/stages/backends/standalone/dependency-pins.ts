import type { ResolveOutput } from '../../resolve.js';
import { defineStage } from '../../../engine/stage.js';
import { ConfigError, isBuildQuicheError, NotFoundError } from '../../../errors.js';
import { quicheSource, resolveDependencies, type BuildKind, type DependencyOverride } from '../../../standalone/dependencies.js';
import { REPRODUCIBLE_DEBUG_FLAGS, type Toolchain } from '../../../standalone/cmake-recipes.js';
import type { RemoteFiles } from '../../../tools/remote-files.js';
import { remoteFilesFor, type AppContext } from '../../context.js';
import type { StageContext } from '../../../engine/stage.js';

export interface DependencyPinsInputs {
  quiche: { url: string; commit: string };
  overrides: Record<string, DependencyOverride>;
  mirrors: Record<string, string>;
  cc: string;
  cxx: string;
  optimization: string;
  ccache: 'auto' | 'on' | 'off';
}

export interface PinnedDependency {
  name: string;
  buildKind: BuildKind;
  /** Where it is fetched from (after quiche.mirrors). */
  url: string;
  /** Where it comes from, whoever mirrors it (dependencies.ts): what the identity and the manifest name. */
  canonicalUrl: string;
  ref: string;
  /** The commit the ref resolved to; the checkout verifies HEAD against it. */
  commit: string;
  origin: 'module-bazel' | 'override';
  declared?: string;
}

export interface DependencyPinsOutput {
  quiche: { url: string; commit: string };
  /** Cloned dependencies in build order (system ones, such as zlib, are not listed). */
  dependencies: PinnedDependency[];
  /** Used without a clone: the system's library. */
  system: string[];
  toolchain: Toolchain;
}

/**
 * quiche's MODULE.bazel at the revision, read without a checkout, turned into exact commits: every
 * dependency's tag resolved with `git ls-remote`, overrides and mirrors applied. Also pins the
 * compiler (its --version) and whether ccache is used. Pure, and before reuse: the build identity
 * needs all of it, and a stored artifact can be found before anything is cloned.
 */
export const dependencyPinsStage = defineStage<AppContext, DependencyPinsInputs, DependencyPinsOutput>({
  id: 'dependency-pins',
  // Its id until the stage files were named by stage id: a cache made before keeps its record and guard.
  formerIds: ['quiche-deps'],
  // 2: records each dependency's canonical URL (the identity no longer names a mirror).
  // 3: the toolchain's flags add REPRODUCIBLE_DEBUG_FLAGS (-g0: no debug info, BoringSSL's neither).
  version: 3,
  title: "Resolve quiche's dependencies (MODULE.bazel)",
  after: ['resolve'],
  pure: true,
  inputs: ({ app, upstream }) => {
    const resolve = upstream<ResolveOutput>('resolve');
    const { quiche } = app.config;
    const source = quicheSource(resolve.quicheRevision, { url: quiche.url, mirrors: quiche.mirrors });
    return {
      quiche: { url: source.url, commit: source.expectedCommit },
      overrides: quiche.dependencies,
      mirrors: quiche.mirrors,
      cc: quiche.cc,
      cxx: quiche.cxx,
      optimization: quiche.optimization,
      ccache: quiche.ccache,
    };
  },
  async run(ctx, inputs) {
    const remote = remoteFilesFor(ctx);
    const text = await remote.read(inputs.quiche.url, inputs.quiche.commit, 'MODULE.bazel');
    if (!text) {
      throw new NotFoundError(`quiche at ${inputs.quiche.commit} (${inputs.quiche.url}) has no MODULE.bazel.`, {
        hint: 'The standalone backend reads the dependencies from MODULE.bazel; pick a quiche revision that has one (2024 and later), or use backend chromium.',
      });
    }
    const resolved = resolveDependencies(text.toString('utf8'), { overrides: inputs.overrides, mirrors: inputs.mirrors });
    const dependencies: PinnedDependency[] = [];
    for (const dep of resolved.filter((d) => d.buildKind !== 'system')) {
      const commit = dep.expectedCommit ?? (await resolveTag(remote, dep.name, dep.url, dep.ref));
      ctx.report.line(
        `${dep.name}: ${dep.url} ${dep.ref}${dep.ref === commit ? '' : ` = ${commit}`} (${dep.origin === 'override' ? 'config override' : dep.declared})`,
      );
      dependencies.push({
        name: dep.name,
        buildKind: dep.buildKind,
        url: dep.url,
        canonicalUrl: dep.canonicalUrl,
        ref: dep.ref,
        commit,
        origin: dep.origin,
        ...(dep.declared ? { declared: dep.declared } : {}),
      });
    }
    const toolchain = await detectToolchain(ctx, inputs);
    ctx.report.note(
      `${dependencies.length} dependencies pinned; ${toolchain.compilerId}${toolchain.launcher ? ', ccache' : ''}, ${inputs.optimization}`,
    );
    return { quiche: inputs.quiche, dependencies, system: resolved.filter((d) => d.buildKind === 'system').map((d) => d.name), toolchain };
  },
  describe: (o) => o.dependencies.map((d) => `${d.name} ${d.commit.slice(0, 8)}`).join(', '),
});

/** A tag (or branch) to its commit at the URL; a missing one names the override to set. */
async function resolveTag(remote: RemoteFiles, name: string, url: string, ref: string): Promise<string> {
  const candidates = ref.startsWith('refs/') ? [ref] : [`refs/tags/${ref}`, `refs/heads/${ref}`];
  for (const candidate of candidates) {
    try {
      return await remote.resolveRef(url, candidate);
    } catch (error) {
      if (!(isBuildQuicheError(error) && error instanceof NotFoundError)) throw error;
    }
  }
  throw new NotFoundError(`${name}: ${ref} is neither a tag nor a branch at ${url}.`, {
    hint: `Set quiche.dependencies.${name} = { url, ref } to a repository that has it (or quiche.mirrors to a mirror that does).`,
    data: { name, url, ref },
  });
}

/** The compiler's identity (first line of --version) and the launcher; a missing compiler is a config error. */
async function detectToolchain(ctx: StageContext<AppContext>, inputs: DependencyPinsInputs): Promise<Toolchain> {
  const version = await ctx.exec(inputs.cxx, ['--version'], { allowFailure: true }).catch(() => undefined);
  const compilerId = version?.exitCode === 0 ? version.stdout.split('\n')[0]!.trim() : undefined;
  if (!compilerId) {
    throw new ConfigError(`The C++ compiler ${inputs.cxx} does not run.`, {
      hint: 'Install it (scripts/setup.sh installs g++-12), or set quiche.cc / quiche.cxx to compilers you have.',
    });
  }
  let launcher: string | undefined;
  if (inputs.ccache !== 'off') {
    const ccache = await ctx.exec('ccache', ['--version'], { allowFailure: true }).catch(() => undefined);
    if (ccache?.exitCode === 0) launcher = 'ccache';
    else if (inputs.ccache === 'on') {
      throw new ConfigError('quiche.ccache is on, but ccache does not run.', { hint: "Install ccache, or set quiche.ccache to 'auto'." });
    }
  }
  return {
    cc: inputs.cc,
    cxx: inputs.cxx,
    compilerId,
    flags: [inputs.optimization, ...REPRODUCIBLE_DEBUG_FLAGS],
    ...(launcher ? { launcher } : {}),
  };
}
