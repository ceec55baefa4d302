/** Artifact stores keyed by build fingerprint: a directory (default) and GitHub Releases. */
export {
  createStore,
  type ArtifactStore,
  type PutResult,
  type StoreCallOptions,
  type StoredArtifact,
  type StoreEnvironment,
} from './store.js';
export { DirStore } from './dir-store.js';
export { GitHubStore } from './github-store.js';
