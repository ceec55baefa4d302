/**
 * `build-quiche install`, the consumer side (docs/artifacts.md): verify and extract an artifact from
 * a tarball, a dist dir or store, or an http(s) URL; re-check an installed one; read a tarball or a
 * manifest without installing.
 */
export { installArtifact, verifyInstalled, type InstallOptions, type InstallResult, type InstalledArtifact } from '../artifacts/install.js';
export { inspectTarball, type TarballInspection } from '../artifacts/inspect.js';
export { buildLabel, describeBuild, parseManifest, serverCertsOf, type Manifest } from '../artifacts/manifest.js';
