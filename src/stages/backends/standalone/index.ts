import { chromiumPinInputs, quicheCommitInputs, type ResolveOutput } from '../../../chromium/resolve-pin.js';
import { rewriteUrl } from '../../../standalone/dependencies.js';
import { PROGRAMS } from '../../../standalone/source-list.js';
import type { BuildBackend } from '../../backend.js';
import { quicheCheckoutStage } from './checkout.js';
import { quicheCompileStage } from './compile.js';
import { quicheConfigureStage } from './configure.js';
import { dependencyBuildsStage } from './dependencies.js';
import { quicheDepsStage, type QuicheDepsOutput } from './resolve-dependencies.js';

/** quiche on its own: its MODULE.bazel's dependencies built with CMake, quiche from a generated build.ninja. */
export const quicheBackend: BuildBackend = {
  id: 'quiche',
  title: 'Standalone quiche (MODULE.bazel dependencies, CMake, generated build.ninja)',
  // quiche.revision names the quiche commit itself (no Chromium pin, DEPS not read); else a Chromium pin.
  resolveInputs: (app, version) => {
    const { quiche } = app.config;
    return quiche.revision === undefined
      ? chromiumPinInputs(app.config, version)
      : quicheCommitInputs(quiche.revision, rewriteUrl(quiche.url, quiche.mirrors));
  },
  resolveStages: [quicheDepsStage],
  sourceStages: [quicheCheckoutStage],
  buildStages: [dependencyBuildsStage, quicheConfigureStage, quicheCompileStage],
  targets: PROGRAMS.map((p) => `//quiche:${p.bazelTarget}`),
  patchRepos: ['quiche'],
  artifactSuffix: 'standalone',
  identity: ({ upstream }) => {
    const resolve = upstream<ResolveOutput>('resolve');
    const deps = upstream<QuicheDepsOutput>('quiche-deps');
    return {
      src: resolve.srcCommit || null,
      quiche: deps.quiche.commit,
      dependencies: deps.dependencies.map((d) => ({ name: d.name, url: d.url, ref: d.ref, commit: d.commit })),
      // The launcher (ccache) is not here: it changes how fast, not what comes out.
      toolchain: { compiler: deps.toolchain.compilerId, cc: deps.toolchain.cc, cxx: deps.toolchain.cxx, flags: [...deps.toolchain.flags] },
    };
  },
};
