import { effectiveGnArgs } from '../../../chromium/gn-args.js';
import { chromiumPinInputs, type ResolveOutput } from '../../../chromium/resolve-pin.js';
import { ConfigError } from '../../../errors.js';
import type { BuildBackend } from '../../backend.js';
import { checkoutStage } from './checkout.js';
import { compileStage } from './compile.js';
import { configureStage } from './configure.js';
import { depotToolsStage } from './depot-tools.js';

/** quiche built inside a Chromium tree: depot_tools, gclient sync, gn gen, autoninja/ninja. */
export const chromiumBackend: BuildBackend = {
  id: 'chromium',
  title: 'Chromium tree (depot_tools, gclient, gn, siso/ninja)',
  resolveInputs: (app, version) => {
    if (app.config.quiche.revision !== undefined) {
      throw new ConfigError("quiche.revision is set, but the chromium backend builds the quiche that Chromium's DEPS pins.", {
        hint: "Use backend 'quiche' (--backend quiche) to build a quiche commit by itself, or drop quiche.revision and pick chromium.version.",
      });
    }
    return chromiumPinInputs(app.config, version);
  },
  sourceStages: [depotToolsStage, checkoutStage],
  buildStages: [configureStage, compileStage],
  patchRepos: ['quiche', 'src'],
  identity: ({ app, upstream }) => {
    const resolve = upstream<ResolveOutput>('resolve');
    const { build } = app.config;
    return {
      src: resolve.srcCommit,
      quiche: resolve.quicheRevision,
      depotTools: app.config.depotTools.revision ?? resolve.depotToolsRevision ?? null,
      gnVersion: resolve.gnVersion ?? null,
      gnArgs: effectiveGnArgs(build.args, build.builder),
      builder: build.builder,
      // gclient custom_deps change what gets built too (absent when empty, so fingerprints stay stable).
      ...(Object.keys(app.config.gclient.customDeps).length ? { customDeps: app.config.gclient.customDeps } : {}),
    };
  },
};
