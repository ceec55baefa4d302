import path from 'node:path';
import { QUICHE_PATH_IN_SRC } from '../../../chromium/layout.js';
import type { LedgerLocation } from '../../../patches/ledger.js';
import { depotToolsEnv } from '../../../tools/depot-tools.js';
import type { AppContext } from '../../context.js';

/**
 * Where the chromium backend keeps things:
 *
 *   cache/depot_tools/                depot_tools at the DEPS-pinned revision
 *   cache/chromium/                   the gclient root: .gclient and src/ (out/Release inside), unless
 *                                     checkout.srcDir adopts the user's own gclient root
 */
export interface ChromiumPaths {
  depotTools: string;
  /** The gclient root: holds .gclient and src/. The cache's own, or an adopted one. */
  gclientRoot: string;
  src: string;
  /** Whether gclientRoot was adopted from the user (then we never delete or reset their work). */
  adopted: boolean;
}

export function chromiumPaths(app: Pick<AppContext, 'config' | 'paths'>): ChromiumPaths {
  const gclientRoot = app.config.checkout.srcDir ?? path.join(app.paths.cacheDir, 'chromium');
  return {
    depotTools: path.join(app.paths.cacheDir, 'depot_tools'),
    gclientRoot,
    src: path.join(gclientRoot, 'src'),
    adopted: app.config.checkout.srcDir !== undefined,
  };
}

/** quiche inside a Chromium src tree. */
export const quicheDir = (src: string) => path.join(src, QUICHE_PATH_IN_SRC);

/** The patch ledger, with its paths relative to the gclient root ('src/net/third_party/quiche/src/...'). */
export const chromiumLedger = (app: AppContext): LedgerLocation => ({
  ledgerFile: app.paths.appliedPatches,
  root: chromiumPaths(app).gclientRoot,
});

/** The depot_tools environment (tools/depot-tools.ts) for this run's config and host env. */
export function depotToolsEnvFor(app: AppContext): Record<string, string> {
  return depotToolsEnv({
    dir: chromiumPaths(app).depotTools,
    offline: app.config.depotTools.offline,
    extra: app.config.depotTools.env,
    env: app.env,
  });
}
