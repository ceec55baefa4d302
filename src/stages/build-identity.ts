import { artifactName, type ManifestFields } from '../artifacts/manifest.js';
import type { ResolveOutput } from './resolve.js';
import { fingerprint } from '../engine/fingerprint.js';
import type { InputContext } from '../engine/stage.js';
import { isStandaloneIdentity, type BackendIdentity, type BuildBackend } from './backend.js';
import { backendFor } from './backends/index.js';
import type { AppContext } from './context.js';
import type { PatchCheckOutput } from './patch-check.js';

/** What every build has, whichever backend made it. */
export interface CommonIdentity {
  version: string;
  patchset: string;
  patches: PatchCheckOutput['patches'];
  targets: string[];
  platform: 'linux-x64';
  /** Only for a backend other than 'chromium', so the fingerprints of existing artifacts stay as they are. */
  backend?: string;
}

/**
 * What a build is, independent of where it ran: every input revision, the patch series, and what the
 * backend says decides its bytes (gn args and builder; or dependency pins and compiler). Its hash keys
 * artifacts in stores, so a build that was already done anywhere can be downloaded instead of rebuilt.
 * Known right after patch-check (and the backend's resolve stages), before the checkout.
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
  return {
    version: resolve.version,
    patchset: patches.patchset,
    patches: patches.patches,
    // The standalone backend always builds the two epoll programs; build.targets names gn labels.
    targets: backend.targets ?? ctx.app.config.build.targets,
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

/** The manifest's description of the inputs (artifacts/manifest.ts), for either shape of identity. */
export function manifestInputsOf(
  identity: BuildIdentity,
): Pick<ManifestFields, 'chromium' | 'inputs' | 'gnArgs' | 'targets' | 'builder'> &
  Partial<Pick<ManifestFields, 'backend' | 'dependencies' | 'toolchain'>> {
  if (!isStandaloneIdentity(identity)) {
    return {
      chromium: { version: identity.version },
      inputs: { src: identity.src, quiche: identity.quiche, depotTools: identity.depotTools, gnVersion: identity.gnVersion },
      gnArgs: identity.gnArgs,
      targets: identity.targets,
      builder: identity.builder,
    };
  }
  return {
    chromium: { version: identity.version },
    inputs: { src: identity.src, quiche: identity.quiche, depotTools: null, gnVersion: null },
    gnArgs: {},
    targets: identity.targets,
    builder: 'ninja',
    backend: identity.backend ?? 'quiche',
    dependencies: identity.dependencies,
    toolchain: identity.toolchain,
  };
}
