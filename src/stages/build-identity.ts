import { artifactName, type ManifestFields } from '../artifacts/manifest.js';
import { fingerprint } from '../engine/fingerprint.js';
import type { InputContext } from '../engine/stage.js';
import { InternalError } from '../errors.js';
import type { BackendIdentity, BuildBackend } from './backend.js';
import { backendFor } from './backends/index.js';
import type { AppContext } from './context.js';
import type { PatchCheckOutput } from './patch-check.js';
import type { ResolveOutput } from './resolve.js';

/** What every build has, whichever backend made it. */
export interface CommonIdentity {
  version: string;
  patchset: string;
  patches: PatchCheckOutput['patches'];
  targets: string[];
  platform: 'linux-x64';
}

/**
 * What a build is, independent of where it ran: every input revision, the patch series, and what the
 * backend says decides its bytes (BuildBackend.identity: e.g. gn args and builder; or dependency pins
 * and compiler). Its hash keys artifacts in stores, so a build that was already done anywhere can be
 * downloaded instead of rebuilt. Known right after patch-check (and the backend's resolve stages),
 * before the checkout.
 */
export type BuildIdentity = CommonIdentity & BackendIdentity;

/** The stages buildIdentity() reads for every backend. */
export const IDENTITY_STAGES = ['resolve', 'patch-check'] as const;

/** The stages buildIdentity() reads with this backend: every stage that computes it declares them in `after`. */
export const identityStagesOf = (backend: BuildBackend): string[] => [
  ...IDENTITY_STAGES,
  ...(backend.resolveStages ?? []).map((stage) => stage.id),
];

export function buildIdentity(ctx: InputContext<AppContext>): BuildIdentity {
  const backend = backendFor(ctx.app.config);
  const resolve = ctx.upstream<ResolveOutput>('resolve');
  const patches = ctx.upstream<PatchCheckOutput>('patch-check');
  const common: CommonIdentity = {
    version: resolve.version,
    patchset: patches.patchset,
    patches: patches.patches,
    // A backend that builds fixed programs names them; build.targets names gn labels.
    targets: backend.targets ?? ctx.app.config.build.targets,
    platform: 'linux-x64',
  };
  const own = backend.identity(ctx);
  // The backend's fields are its own: one that shadowed a common field would change what a fingerprint means.
  const clash = Object.keys(own).find((field) => field in common);
  if (clash) throw new InternalError(`The ${backend.id} backend's identity has a field named ${clash}, which every build has.`);
  return { ...common, ...own };
}

export const buildFingerprint = (identity: BuildIdentity) => fingerprint(identity);

export function artifactNameOf(identity: BuildIdentity, config: AppContext['config']): string {
  const suffix = backendFor(config).artifactSuffix;
  return artifactName(identity.version, suffix ? `${identity.patchset}-${suffix}` : identity.patchset);
}

/** The manifest's description of a build: the common fields, and what the backend says about its own. */
export function manifestFieldsOf(
  identity: BuildIdentity,
  config: AppContext['config'],
): Pick<ManifestFields, 'version' | 'backend' | 'inputs' | 'targets' | 'patches'> & { [section: string]: unknown } {
  const backend = backendFor(config);
  const { inputs, section } = backend.manifestFields(identity);
  return {
    version: identity.version,
    backend: backend.id,
    inputs,
    targets: identity.targets,
    patches: { patchset: identity.patchset, series: identity.patches },
    [section.name]: section.fields,
  };
}
