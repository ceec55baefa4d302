import { chromiumPinInputs, quicheCommitInputs, type ResolveOutput } from '../../../pins/resolve-pin.js';
import { rewriteUrl } from '../../../standalone/dependencies.js';
import { PROGRAMS } from '../../../standalone/source-list.js';
import { rm } from 'node:fs/promises';
import type { BuildBackend } from '../../backend.js';
import { standaloneCheckoutStage } from './checkout.js';
import { standaloneCompileStage } from './compile.js';
import { standaloneConfigureStage } from './configure.js';
import { dependencyBuildsStage } from './dependency-builds.js';
import { buildTreesOf, checkoutsDir } from './layout.js';
import { dependencyPinsStage, type DependencyPinsOutput } from './dependency-pins.js';

/** One dependency of a standalone build, as cloned. */
export type DependencyPin = {
  name: string;
  /** Its canonical upstream (MODULE.bazel's, or an override's), never the mirror it was fetched through. */
  url: string;
  /** What was asked for (a tag or a commit). */
  ref: string;
  /** What it resolved to and what the checkout verified. */
  commit: string;
};

/** quiche built on its own: quiche's commit, every dependency's pin, the compiler and its flags. */
export type StandaloneIdentity = {
  /** Names the backend, so no standalone build shares a fingerprint with a Chromium-tree one. */
  backend: 'quiche';
  /** The Chromium src commit whose DEPS pinned quiche; null when quiche.revision named the commit. */
  src: string | null;
  quiche: string;
  dependencies: DependencyPin[];
  /**
   * `paths`: how the build keeps its directories out of the bytes (standalone/path-map.ts); builds
   * from before the path maps (none) hold their cache dir, so they must not share a fingerprint.
   */
  toolchain: { compiler: string; cc: string; cxx: string; flags: string[]; paths: 'mapped-relative' };
};

/** quiche on its own: its MODULE.bazel's dependencies built with CMake, quiche from a generated build.ninja. */
export const standaloneBackend: BuildBackend<StandaloneIdentity> = {
  id: 'quiche',
  title: 'Standalone quiche (MODULE.bazel dependencies, CMake, generated build.ninja)',
  // quiche.revision names the quiche commit itself (no Chromium pin, DEPS not read); else a Chromium pin.
  resolveInputs: (app, version) => {
    const { quiche } = app.config;
    return quiche.revision === undefined
      ? chromiumPinInputs(app.config, version)
      : quicheCommitInputs(quiche.revision, rewriteUrl(quiche.url, quiche.mirrors));
  },
  resolveStages: [dependencyPinsStage],
  sourceStages: [standaloneCheckoutStage],
  buildStages: [dependencyBuildsStage, standaloneConfigureStage, standaloneCompileStage],
  targets: PROGRAMS.map((p) => `//quiche:${p.bazelTarget}`),
  patchRepos: ['quiche'],
  artifactSuffix: 'standalone',
  identity: ({ upstream }) => {
    const resolve = upstream<ResolveOutput>('resolve');
    const deps = upstream<DependencyPinsOutput>('dependency-pins');
    return {
      backend: 'quiche',
      src: resolve.srcCommit || null,
      quiche: deps.quiche.commit,
      // What is built, not where it was fetched from: a mirror (quiche.mirrors) changes no fingerprint.
      dependencies: deps.dependencies.map((d) => ({ name: d.name, url: d.canonicalUrl, ref: d.ref, commit: d.commit })),
      // The launcher (ccache, a distributed compiler) is not here: it changes how fast, not what comes out.
      toolchain: {
        compiler: deps.toolchain.compilerId,
        cc: deps.toolchain.cc,
        cxx: deps.toolchain.cxx,
        flags: [...deps.toolchain.flags],
        paths: 'mapped-relative',
      },
    };
  },
  manifestFields: (build) => ({
    inputs: { src: build.src, quiche: build.quiche },
    section: { name: 'standalone', fields: { dependencies: build.dependencies, toolchain: build.toolchain } },
  }),
  ledgerRoot: checkoutsDir,
  cleanCheckout: async (app) => {
    // Checkouts, CMake build trees, install prefixes and out dirs: everything under cache/quiche.
    const dirs = buildTreesOf(app);
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    return dirs;
  },
};
