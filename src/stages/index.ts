import type { ResolvedConfig } from '../config/load.js';
import type { AnyStage } from '../engine/stage.js';
import type { BuildBackend } from './backend.js';
import { backendFor } from './backends/index.js';
import { identityStagesOf } from './build-identity.js';
import type { AppContext } from './context.js';
import { packageStage } from './package.js';
import { patchCheckStage } from './patch-check.js';
import { patchStage } from './patch.js';
import { preflightStage } from './preflight.js';
import { publishStage } from './publish.js';
import { resolveStage } from './resolve.js';
import { enabledUnlessReused, reuseStage } from './reuse.js';
import { smokeStage } from './smoke.js';

/**
 * The pipeline rule "a finished artifact switches the build stages off", applied once: when the
 * reuse stage found an artifact for exactly this build, the stage is disabled. The stage's own
 * `enabled` speaks first; its `after` gains what the rule reads, so plan predicts it.
 */
export function gatedByReuse(stage: AnyStage<AppContext>, identityStages: readonly string[]): AnyStage<AppContext> {
  return {
    ...stage,
    after: [...new Set([...stage.after, 'reuse', ...identityStages])],
    enabled: (ctx) => {
      const own = stage.enabled?.(ctx) ?? true;
      return own === true ? enabledUnlessReused(ctx) : own;
    },
  };
}

/** The pipeline for one backend, in order (docs/architecture.md). */
export function stagesWith(backend: BuildBackend): AnyStage<AppContext>[] {
  const identityStages = identityStagesOf(backend);
  // Stages that compute the build identity read the backend's resolve stages too.
  const readingIdentity = (stage: AnyStage<AppContext>): AnyStage<AppContext> => ({
    ...stage,
    after: [...new Set([...stage.after, ...identityStages])],
  });
  const build = [...backend.sourceStages, patchStage, ...backend.buildStages, smokeStage, packageStage].map((stage) =>
    gatedByReuse(stage, identityStages),
  );
  return [
    preflightStage,
    resolveStage,
    patchCheckStage,
    ...(backend.resolveStages ?? []),
    readingIdentity(reuseStage),
    ...build,
    readingIdentity(publishStage),
  ];
}

/** The pipeline the config selects (its `backend`). */
export const stagesFor = (config: Pick<ResolvedConfig, 'backend'>) => stagesWith(backendFor(config));
