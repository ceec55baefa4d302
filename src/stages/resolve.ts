import { describePin, resolvePin, type ResolveInputs, type ResolveOutput } from '../pins/resolve-pin.js';
import { defineStage } from '../engine/stage.js';
import { backendFor } from './backends/index.js';
import { remoteFilesFor, type AppContext } from './context.js';

export type { ResolveInputs, ResolveOutput } from '../pins/resolve-pin.js';

/**
 * The pin -> exact revisions, read without a checkout (chromium/resolve-pin.ts). What is pinned is
 * the backend's call (BuildBackend.resolveInputs): a Chromium version, or a quiche commit for a
 * backend that builds one by itself. Pure: results are cached per ref and inputs.
 */
export const resolveStage = defineStage<AppContext, ResolveInputs, ResolveOutput>({
  id: 'resolve',
  title: 'Resolve the pin from DEPS',
  after: [],
  pure: true,
  inputs: ({ app }) => backendFor(app.config).resolveInputs(app),
  run: (ctx, inputs) => resolvePin(remoteFilesFor(ctx), inputs, { cacheDir: ctx.app.paths.resolveCache, report: ctx.report }),
  describe: describePin,
});
