import type { AppContext } from '../app/context.js';
import type { AnyStage } from '../engine/stage.js';
import { checkoutStage } from './checkout.js';
import { compileStage } from './compile.js';
import { configureStage } from './configure.js';
import { depotToolsStage } from './depot-tools.js';
import { packageStage } from './package.js';
import { patchCheckStage } from './patch-check.js';
import { patchStage } from './patch.js';
import { preflightStage } from './preflight.js';
import { publishStage } from './publish.js';
import { resolveStage } from './resolve.js';
import { reuseStage } from './reuse.js';
import { smokeStage } from './smoke.js';

/** The pipeline, in order (docs/architecture.md). */
export const STAGES: AnyStage<AppContext>[] = [
  preflightStage,
  resolveStage,
  patchCheckStage,
  reuseStage,
  depotToolsStage,
  checkoutStage,
  patchStage,
  configureStage,
  compileStage,
  smokeStage,
  packageStage,
  publishStage,
];
