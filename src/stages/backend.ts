import type { PatchRepo, RepoState } from '../chromium/types.js';
import type { AnyStage, InputContext } from '../engine/stage.js';
import type { AppContext } from './context.js';

/**
 * A build backend: how sources are fetched and checked out, and how they are configured and built
 * (today: inside a Chromium tree with depot_tools, gclient, gn and siso/ninja). The common stages
 * (preflight, resolve, patch-check, reuse, patch, smoke, package, publish) read only the contract
 * below and never know which backend ran. docs/architecture.md says how to add one.
 */
export interface BuildBackend {
  /** The config value that selects it (`backend: 'chromium'`). */
  id: string;
  title: string;
  /** Fetch and check out the sources; the last one has id `checkout` and outputs SourceOutput. */
  sourceStages: AnyStage<AppContext>[];
  /** Configure and build; the last one has id `compile` and outputs CompileOutput. */
  buildStages: AnyStage<AppContext>[];
  /**
   * The backend's part of the build identity (stages/build-identity.ts): what, besides the pin
   * and the patches, decides the bytes that come out. Its hash keys artifacts in stores. The
   * stages it reads must be in the `after` of every stage that computes the identity
   * (IDENTITY_STAGES in build-identity.ts).
   */
  identity(ctx: InputContext<AppContext>): BackendIdentity;
  /** The repos patches may target. */
  patchRepos: readonly PatchRepo[];
  /** Appended to artifact names when this backend's artifacts must not collide with another's. */
  artifactSuffix?: string;
}

/** What the manifest records about the inputs of a build (artifacts/manifest.ts). */
export interface BackendIdentity {
  src: string;
  quiche: string;
  depotTools: string | null;
  gnVersion: string | null;
  gnArgs: Record<string, string | number | boolean>;
  builder: 'autoninja' | 'ninja';
  /** Inputs that change what gets built; absent when empty, so fingerprints stay stable. */
  customDeps?: Record<string, string | null>;
}

/** The contract of the last source stage (`checkout`): where the repos patches apply to are. */
export interface SourceOutput {
  repos: Partial<Record<PatchRepo, RepoState>>;
}

export interface Binary {
  /** As Chromium names them: epoll_quic_client, quic_server, ... (smoke pairs them by name). */
  name: string;
  label: string;
  path: string;
  sha256: string;
  size: number;
}

/** The contract of the last build stage (`compile`). */
export interface CompileOutput {
  binaries: Binary[];
  /** Steps the builder ran this time (0 when everything was up to date). */
  steps: number;
}

/** `net:quic_client` -> `quic_client`; `//net/tools:foo` -> `foo`; `net/foo` -> `foo`. */
export const binaryName = (label: string) => label.split(':').pop()!.split('/').pop()!;
