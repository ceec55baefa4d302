import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Binary } from '../artifacts/binary.js';
import type { ResolveInputs } from '../chromium/resolve-pin.js';
import type { AnyStage, InputContext } from '../engine/stage.js';
import { CompileError } from '../errors.js';
import type { PatchRepo, RepoState } from '../patches/repos.js';
import { sha256File } from '../util/fs.js';
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
  /**
   * What the resolve stage pins: the configured pin, or `version` instead (the patch tools resolve
   * other pins the same way). A Chromium version (chromiumPinInputs), or what else this backend
   * builds from. The place to refuse settings this backend does not build (a ConfigError).
   */
  resolveInputs(app: AppContext, version?: string): ResolveInputs;
  /**
   * Pure stages that pin what the identity needs beyond the pin (e.g. dependency commits). They run
   * after patch-check and before reuse, so an artifact can be found before anything is fetched, and
   * identity() may read them.
   */
  resolveStages?: AnyStage<AppContext>[];
  /** Fetch and check out the sources; the last one has id `checkout` and outputs SourceOutput. */
  sourceStages: AnyStage<AppContext>[];
  /** Configure and build; the last one has id `compile` and outputs CompileOutput. */
  buildStages: AnyStage<AppContext>[];
  /**
   * The backend's part of the build identity (stages/build-identity.ts): what, besides the pin
   * and the patches, decides the bytes that come out. Its hash keys artifacts in stores. It reads
   * only resolve, patch-check and the backend's resolveStages (identityStagesOf in build-identity.ts).
   */
  identity(ctx: InputContext<AppContext>): BackendIdentity;
  /** The labels the identity and manifest record, when the backend builds fixed programs (not build.targets). */
  targets?: string[];
  /** The repos patches may target. */
  patchRepos: readonly PatchRepo[];
  /** Appended to artifact names when this backend's artifacts must not collide with another's. */
  artifactSuffix?: string;
}

/** A backend's part of the build identity (what the manifest records about its inputs). */
export type BackendIdentity = ChromiumIdentity | StandaloneIdentity;

/** Inside a Chromium tree: the Chromium pin, its tools and gn args decide the binaries. */
export interface ChromiumIdentity {
  src: string;
  quiche: string;
  depotTools: string | null;
  gnVersion: string | null;
  gnArgs: Record<string, string | number | boolean>;
  builder: 'autoninja' | 'ninja';
  /** Inputs that change what gets built; absent when empty, so fingerprints stay stable. */
  customDeps?: Record<string, string | null>;
}

/** One dependency of a standalone build, as cloned. */
export interface DependencyPin {
  name: string;
  url: string;
  /** What was asked for (a tag or a commit). */
  ref: string;
  /** What it resolved to and what the checkout verified. */
  commit: string;
}

/** quiche built on its own: quiche's commit, every dependency's pin, the compiler and its flags. */
export interface StandaloneIdentity {
  /** The Chromium src commit whose DEPS pinned quiche; null when quiche.revision named the commit. */
  src: string | null;
  quiche: string;
  dependencies: DependencyPin[];
  toolchain: { compiler: string; cc: string; cxx: string; flags: string[] };
}

export const isStandaloneIdentity = (identity: BackendIdentity): identity is StandaloneIdentity => 'dependencies' in identity;

/** The contract of the last source stage (`checkout`): where the repos patches apply to are. */
export interface SourceOutput {
  repos: Partial<Record<PatchRepo, RepoState>>;
}

/** A program a build makes: its name (in bin/ of the artifact), its build label, and its file under the out dir. */
export interface BuiltProgram {
  name: string;
  label: string;
  file: string;
}

/**
 * The programs a finished build wrote, hashed (the compile stage's CompileOutput binaries). A missing
 * one is a compile error: the build tool said it succeeded without making it.
 */
export async function describeBinaries(outDir: string, programs: readonly BuiltProgram[], hint: string): Promise<Binary[]> {
  return Promise.all(
    programs.map(async ({ name, label, file }) => {
      const abs = path.join(outDir, file);
      if (!existsSync(abs)) throw new CompileError(`The build finished but ${abs} (${label}) is missing.`, { hint });
      return { name, label, path: abs, sha256: await sha256File(abs), size: (await stat(abs)).size };
    }),
  );
}
