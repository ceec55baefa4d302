import { rm } from 'node:fs/promises';
import { effectiveGnArgs } from '../../../chromium/gn-args.js';
import { chromiumPinInputs, type ResolveOutput } from '../../../pins/resolve-pin.js';
import { ConfigError, UsageError } from '../../../errors.js';
import type { BuildBackend } from '../../backend.js';
import { checkRemoteExecution, formatRemoteExecutionCheck } from '../../../chromium/remote-execution-check.js';
import { activeRemoteExecution } from '../../../config/remote-execution.js';
import { checkoutStage } from './checkout.js';
import { compileStage } from './compile.js';
import { configureStage } from './configure.js';
import { depotToolsStage } from './depot-tools.js';
import { chromiumPaths, quicheDir } from './paths.js';

/** Inside a Chromium tree, the Chromium pin, its tools and gn args decide the binaries. */
export type ChromiumIdentity = {
  src: string;
  quiche: string;
  depotTools: string | null;
  gnVersion: string | null;
  gnArgs: Record<string, string | number | boolean>;
  builder: 'autoninja' | 'ninja';
  /** Inputs that change what gets built; absent when empty, so fingerprints stay stable. */
  customDeps?: Record<string, string | null>;
};

/** quiche built inside a Chromium tree: depot_tools, gclient sync, gn gen, autoninja/ninja. */
export const chromiumBackend: BuildBackend<ChromiumIdentity> = {
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
  // With siso remote execution: does the REAPI endpoint answer, and does the credential helper run?
  doctor: async (config, { exec }) => {
    const remote = activeRemoteExecution(config);
    if (!remote) return undefined;
    const check = await checkRemoteExecution(remote, { exec });
    return {
      name: 'remoteExecution',
      lines: formatRemoteExecutionCheck(check),
      problems: check.problems,
      warnings: check.warnings,
      data: check,
    };
  },
  patchRepos: ['quiche', 'src'],
  // No `backend` field: the first backend's fingerprints predate the field, and stay as they were.
  identity: ({ app, upstream }) => {
    const resolve = upstream<ResolveOutput>('resolve');
    const { build } = app.config;
    return {
      src: resolve.srcCommit,
      quiche: resolve.quicheRevision,
      depotTools: app.config.depotTools.revision ?? resolve.depotToolsRevision ?? null,
      gnVersion: resolve.gnVersion ?? null,
      // The build's own args: remoteExecution's use_remoteexec/use_siso/use_reclient are layered over them in
      // args.gn only (remote-execution.ts), since where the compiles ran does not change the bytes.
      gnArgs: effectiveGnArgs(build.args, build.builder),
      builder: build.builder,
      // gclient custom_deps change what gets built too (absent when empty, so fingerprints stay stable).
      ...(Object.keys(app.config.gclient.customDeps).length ? { customDeps: app.config.gclient.customDeps } : {}),
    };
  },
  manifestFields: (build) => {
    return {
      inputs: { src: build.src, quiche: build.quiche },
      section: {
        name: 'chromium',
        fields: {
          version: build.version,
          depotTools: build.depotTools,
          gnVersion: build.gnVersion,
          gnArgs: build.gnArgs,
          builder: build.builder,
          ...(build.customDeps && { customDeps: build.customDeps }),
        },
      },
    };
  },
  ledgerRoot: (app) => chromiumPaths(app).gclientRoot,
  repoDirs: (app) => {
    const { src } = chromiumPaths(app);
    return { quiche: quicheDir(src), src };
  },
  cleanCheckout: async (app) => {
    const { gclientRoot, adopted } = chromiumPaths(app);
    if (adopted) throw new UsageError(`The checkout at ${gclientRoot} was adopted; build-quiche never deletes it.`);
    await rm(gclientRoot, { recursive: true, force: true });
    return [gclientRoot];
  },
};
