/** The artifact stores a build publishes to and reuses from, keyed by build fingerprint (docs/artifacts.md). */
export { createStore, type ArtifactStore, type PutResult, type StoredArtifact, type StoreEnvironment } from '../publish/store.js';
export { DirStore } from '../publish/dir-store.js';
export { GitHubStore } from '../publish/github-store.js';
