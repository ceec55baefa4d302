import path from 'node:path';
import type { UserConfig } from '../../src/config/schema.js';
import { GOOGLEURL_PIN, QUICHE_152 } from '../../testkit/shared-upstream.js';

/**
 * The standalone backend at quiche 1ba0d99a (the 152 pin) against the local upstream server at
 * `baseUrl` serving the views of ../shared/upstream: every URL MODULE.bazel implies, and quiche's own,
 * rewritten to it; googleurl overridden (README of ../shared/upstream). `dir` holds cache/ and dist/.
 */
export function standaloneConfig(baseUrl: string, dir: string, overrides: Partial<NonNullable<UserConfig['quiche']>> = {}): UserConfig {
  return {
    backend: 'quiche',
    quiche: {
      revision: QUICHE_152,
      mirrors: {
        'https://quiche.googlesource.com/': `${baseUrl}/`,
        'https://github.com/google/': `${baseUrl}/`,
        'https://github.com/abseil/': `${baseUrl}/`,
        'https://github.com/protocolbuffers/': `${baseUrl}/`,
      },
      // Its canonical home (what the identity and the manifest name); the quiche.googlesource.com mirror sends it here.
      dependencies: { googleurl: { url: 'https://quiche.googlesource.com/googleurl', ref: GOOGLEURL_PIN } },
      ...overrides,
    },
    preflight: { minFreeDiskGb: 0.5, minMemoryGb: 1 },
    retry: { retries: 3, minTimeoutMs: 50, maxTimeoutMs: 400 },
    cacheDir: path.join(dir, 'cache'),
    distDir: path.join(dir, 'dist'),
    lockWaitMs: 0,
  };
}
