import path from 'node:path';

export const VPYTHON_BYPASS = 'manually managed python not supported by chrome operations';

export interface DepotToolsEnvOptions {
  /** The depot_tools checkout (put first on PATH). */
  dir: string;
  /** No CIPD access: vpython runs the system python3 instead of bootstrapping. */
  offline: boolean;
  /** The user's extra variables (config depotTools.env), applied last. */
  extra: Record<string, string>;
  /** The host environment the run started with. */
  env: NodeJS.ProcessEnv;
}

/**
 * The one place that builds the environment for depot_tools commands (gclient, gn, autoninja):
 * depot_tools first on PATH, self-update and metrics off (a self-update would move the pinned
 * revision under us), the offline switches when there is no CIPD, then the user's extra env.
 */
export function depotToolsEnv({ dir, offline, extra, env }: DepotToolsEnvOptions): Record<string, string> {
  return {
    PATH: [dir, env.PATH ?? ''].filter(Boolean).join(path.delimiter),
    DEPOT_TOOLS_UPDATE: '0',
    DEPOT_TOOLS_METRICS: '0',
    DEPOT_TOOLS_REPORT_BUILD: '0',
    GCLIENT_PY3: '1',
    ...(offline ? { VPYTHON_BYPASS } : {}),
    ...extra,
  };
}
