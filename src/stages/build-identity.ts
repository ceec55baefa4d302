import type { AppContext } from '../app/context.js';
import { artifactName } from '../artifacts/manifest.js';
import { effectiveGnArgs } from '../chromium/gn-args.js';
import type { ResolveOutput } from '../chromium/types.js';
import { fingerprint } from '../engine/fingerprint.js';
import type { InputContext } from '../engine/stage.js';
import type { PatchCheckOutput } from './patch-check.js';

/**
 * What a build is, independent of where it ran: every input revision, the patch series, gn args,
 * targets and builder. Its hash keys artifacts in stores, so a build that was already done anywhere
 * can be downloaded instead of rebuilt. Known right after patch-check, before the checkout.
 */
export interface BuildIdentity {
  version: string;
  src: string;
  quiche: string;
  depotTools: string | null;
  gnVersion: string | null;
  patchset: string;
  patches: PatchCheckOutput['patches'];
  gnArgs: Record<string, string | number | boolean>;
  targets: string[];
  builder: 'autoninja' | 'ninja';
  platform: 'linux-x64';
  /** gclient custom_deps change what gets built too (absent when empty, so fingerprints stay stable). */
  customDeps?: Record<string, string | null>;
}

export function buildIdentity({ app, upstream }: InputContext<AppContext>): BuildIdentity {
  const resolve = upstream<ResolveOutput>('resolve');
  const patches = upstream<PatchCheckOutput>('patch-check');
  const { build } = app.config;
  return {
    version: resolve.version,
    src: resolve.srcCommit,
    quiche: resolve.quicheRevision,
    depotTools: app.config.depotTools.revision ?? resolve.depotToolsRevision ?? null,
    gnVersion: resolve.gnVersion ?? null,
    patchset: patches.patchset,
    patches: patches.patches,
    gnArgs: effectiveGnArgs(build.args, build.builder),
    targets: build.targets,
    builder: build.builder,
    platform: 'linux-x64',
    ...(Object.keys(app.config.gclient.customDeps).length ? { customDeps: app.config.gclient.customDeps } : {}),
  };
}

export const buildFingerprint = (identity: BuildIdentity) => fingerprint(identity);
export const artifactNameOf = (identity: BuildIdentity) => artifactName(identity.version, identity.patchset);
