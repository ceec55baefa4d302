import path from 'node:path';
import type { StoreConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { DirStore } from './dir-store.js';
import { GitHubStore } from './github-store.js';
import type { ArtifactStore, StoreEnvironment } from './types.js';

export type { ArtifactStore, PutResult, StoreCallOptions, StoredArtifact, StoreEnvironment } from './types.js';

/** The store a `publish` config entry names (types.ts holds the contract every store implements). */
export function createStore(config: StoreConfig, environment: StoreEnvironment): ArtifactStore {
  switch (config.type) {
    case 'dir':
      return new DirStore(path.resolve(config.path ?? path.join(environment.distDir, 'store')));
    case 'github':
      return GitHubStore.fromConfig(config, environment.env ?? process.env, environment.fetch);
    default:
      throw new UsageError(`Unknown store type ${JSON.stringify((config as { type: unknown }).type)}.`);
  }
}
