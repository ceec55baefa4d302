import type { FetchLike } from '../artifacts/download.js';
import type { Manifest } from '../artifacts/manifest.js';
import type { ArtifactResult } from '../artifacts/package.js';

/**
 * The artifact store contract, keyed by build fingerprint: a build whose inputs were already built and
 * published is downloaded and verified instead of rebuilt (DESIGN.md, "Beyond one machine"). The
 * stores (dir-store.ts, github-store.ts) implement it; store.ts builds one from a config entry.
 */

export interface StoredArtifact {
  /** describe() of the store holding it. */
  store: string;
  fingerprint: string;
  name: string;
  /** sha256 and size of the tarball. */
  sha256: string;
  size: number;
  /** Where it is, for people: a directory, or a release page URL. */
  location: string;
  manifest: Manifest;
}

export interface PutResult {
  /** 'exists': the store already held this exact artifact; nothing was written or uploaded. */
  status: 'uploaded' | 'exists';
  location: string;
  /** Files or assets that held different content for this fingerprint and were replaced (newest wins). */
  replaced: string[];
}

export interface StoreCallOptions {
  signal?: AbortSignal;
}

export interface ArtifactStore {
  /** A one-line, secret-free name: 'dir:/path/to/store', 'github:owner/name'. */
  describe(): string;
  /** A complete, consistent artifact for this fingerprint, or undefined. */
  find(fingerprint: string, options?: StoreCallOptions): Promise<StoredArtifact | undefined>;
  put(artifact: ArtifactResult, options?: StoreCallOptions): Promise<PutResult>;
  /**
   * Copy the artifact into `destDir` as a dist dir does (tarball, `<name>.manifest.json`, merged
   * SHA256SUMS), after checking the tarball's sha256 and its inner checksums. Never a partial file.
   */
  fetch(stored: StoredArtifact, destDir: string, options?: StoreCallOptions): Promise<ArtifactResult>;
}

export interface StoreEnvironment {
  /** Default home of a dir store without a path: `<distDir>/store`. */
  distDir: string;
  /** Where tokens are read from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** fetch implementation for HTTP stores (tests). */
  fetch?: FetchLike;
}
