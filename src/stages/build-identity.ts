import { artifactName } from '../artifacts/manifest.js';
import type { ResolveOutput } from '../chromium/types.js';
import { fingerprint } from '../engine/fingerprint.js';
import type { InputContext } from '../engine/stage.js';
import type { BackendIdentity } from './backend.js';
import { backendFor } from './backends/index.js';
import type { AppContext } from './context.js';
import type { PatchCheckOutput } from './patch-check.js';

/**
 * What a build is, independent of where it ran: every input revision, the patch series, gn args,
 * targets and builder. Its hash keys artifacts in stores, so a build that was already done anywhere
 * can be downloaded instead of rebuilt. Known right after patch-check, before the checkout.
 */
export interface BuildIdentity extends BackendIdentity {
  version: string;
  patchset: string;
  patches: PatchCheckOutput['patches'];
  targets: string[];
  platform: 'linux-x64';
  /** Only for a backend other than 'chromium', so the fingerprints of existing artifacts stay as they are. */
  backend?: string;
}

/** The stages buildIdentity() reads: every stage that computes it declares them in `after`. */
export const IDENTITY_STAGES = ['resolve', 'patch-check'] as const;

export function buildIdentity(ctx: InputContext<AppContext>): BuildIdentity {
  const backend = backendFor(ctx.app.config);
  const resolve = ctx.upstream<ResolveOutput>('resolve');
  const patches = ctx.upstream<PatchCheckOutput>('patch-check');
  return {
    version: resolve.version,
    patchset: patches.patchset,
    patches: patches.patches,
    targets: ctx.app.config.build.targets,
    platform: 'linux-x64',
    ...backend.identity(ctx),
    ...(backend.id === 'chromium' ? {} : { backend: backend.id }),
  };
}

export const buildFingerprint = (identity: BuildIdentity) => fingerprint(identity);

export function artifactNameOf(identity: BuildIdentity, config: AppContext['config']): string {
  const suffix = backendFor(config).artifactSuffix;
  return artifactName(identity.version, suffix ? `${identity.patchset}-${suffix}` : identity.patchset);
}
