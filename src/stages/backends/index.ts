import type { ResolvedConfig } from '../../config/load.js';
import { ConfigError } from '../../errors.js';
import type { BuildBackend } from '../backend.js';
import { chromiumBackend } from './chromium/index.js';
import { quicheBackend } from './standalone/index.js';

/** Every backend this version can build with, by config value. */
const BACKENDS: Partial<Record<ResolvedConfig['backend'], BuildBackend>> = { chromium: chromiumBackend, quiche: quicheBackend };

/** The backend the config selects; one this version does not have is a config error (exit 2). */
export function backendFor(config: Pick<ResolvedConfig, 'backend'>): BuildBackend {
  const backend = BACKENDS[config.backend];
  if (!backend) {
    throw new ConfigError(`backend ${config.backend} is not available in this version.`, {
      hint: `Set backend to one of: ${Object.keys(BACKENDS).join(', ')} (or drop --backend).`,
    });
  }
  return backend;
}
