/** The artifact API: packaging (producer side) and installing/verifying (consumer side, for other demos). */
export { createArtifact, type ArtifactResult, type CreateArtifactOptions } from './package.js';
export { installArtifact, verifyInstalled, type InstallOptions, type InstallResult, type InstalledArtifact } from './install.js';
export { inspectTarball, type TarballInspection } from './inspect.js';
export {
  artifactName,
  manifestSchema,
  parseManifest,
  readNeededLibs,
  serializeManifest,
  type Manifest,
  type ManifestFields,
  type ManifestFile,
  type PatchRecord,
} from './manifest.js';
export {
  formatChecksums,
  parseChecksums,
  readChecksums,
  verifyChecksums,
  writeChecksums,
  type ChecksumEntry,
  type ChecksumReport,
} from './checksums.js';
export { DEFAULT_MTIME } from './tarball.js';
export { storeIndexSchema, type StoreIndex, type StoreIndexEntry } from './store-index.js';
