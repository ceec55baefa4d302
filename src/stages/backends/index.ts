import type { ResolvedConfig } from '../../config/load.js';
import { ConfigError, InternalError } from '../../errors.js';
import type { BackendIdentity, BuildBackend } from '../backend.js';
import { chromiumBackend } from './chromium/index.js';
import { standaloneBackend } from './standalone/index.js';

/**
 * The registry of backends: the one place that names them. A config selects one by id (`backend:
 * 'chromium'`); everything else reaches it through backendFor() and the BuildBackend contract.
 */
const BACKENDS = new Map<string, BuildBackend>([
  [chromiumBackend.id, chromiumBackend],
  [standaloneBackend.id, standaloneBackend],
]);

/**
 * Make a backend selectable by its id, like the built-in ones (a plug-in's, or a test's). Registering
 * the same backend again is harmless; another backend under a taken id is a bug.
 */
export function registerBackend<Identity extends BackendIdentity>(backend: BuildBackend<Identity>): void {
  const known = BACKENDS.get(backend.id);
  if (known && known !== backend) throw new InternalError(`A backend with id ${backend.id} is already registered.`);
  BACKENDS.set(backend.id, backend);
}

/** The ids a config may name now. */
export const backendIds = (): string[] => [...BACKENDS.keys()];

/** The backend the config selects; one this version does not have is a config error (exit 2). */
export function backendFor(config: Pick<ResolvedConfig, 'backend'>): BuildBackend {
  const backend = BACKENDS.get(config.backend);
  if (!backend) {
    throw new ConfigError(`backend ${config.backend} is not available in this version.`, {
      hint: `Set backend to one of: ${backendIds().join(', ')} (or drop --backend).`,
    });
  }
  return backend;
}
