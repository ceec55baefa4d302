import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Binary } from '../artifacts/binary.js';
import type { ResolveInputs } from '../pins/resolve-pin.js';
import type { AnyStage, InputContext } from '../engine/stage.js';
import { CompileError } from '../errors.js';
import type { PatchRepo, RepoState } from '../patches/repos.js';
import type { RepoLocalDirs } from '../patches/sources.js';
import { sha256File } from '../util/fs.js';
import type { CommonIdentity } from './build-identity.js';
import type { AppContext } from './context.js';
import type { DoctorSection } from './host-check.js';
import type { ResolvedConfig } from '../config/load.js';
import type { Exec } from '../process/exec.js';

/**
 * A build backend: how sources are pinned, fetched and checked out, and how they are configured and
 * built (inside a Chromium tree with depot_tools, gclient, gn and siso/ninja; or quiche on its own with
 * CMake and a generated build.ninja). The common stages (preflight, resolve, patch-check, reuse,
 * patch, smoke, package, publish), the engine and the API read only the contract below and never know
 * which backend runs. docs/architecture.md says how to add one.
 */
export interface BuildBackend<Identity extends BackendIdentity = BackendIdentity> {
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
   * The backend's part of the build identity (stages/build-identity.ts): what, besides the pin and the
   * patches, decides the bytes that come out. Its hash keys artifacts in stores, so every field counts:
   * a backend names itself here (`backend: '<id>'`) so that no build of it can share a fingerprint with
   * another backend's (chromium, the first, does not, and its fingerprints stay as they were). It reads
   * only resolve, patch-check and the backend's resolveStages (identityStagesOf in build-identity.ts).
   */
  identity(ctx: InputContext<AppContext>): Identity;
  /** The manifest's account of a build of this backend, from the identity identity() made (and the common fields). */
  manifestFields(identity: Identity & CommonIdentity): BackendManifestFields;
  /** The labels the identity and manifest record, when the backend builds fixed programs (not build.targets). */
  targets?: string[];
  /** The repos patches may target. */
  patchRepos: readonly PatchRepo[];
  /** Appended to artifact names when this backend's artifacts must not collide with another's. */
  artifactSuffix?: string;
  /** The directory its patched repos live in: the patch ledger's relative paths are relative to it. */
  ledgerRoot(app: AppContext): string;
  /**
   * Where this backend's checkout keeps the repos patches apply to, cloned yet or not. The patch check
   * and the patch tools read pinned files there before asking the network; `patches export` takes
   * its commits from the quiche one by default.
   */
  repoDirs?(app: AppContext): RepoLocalDirs;
  /**
   * `clean --checkout`: delete the backend's checkouts and build trees under the cache (never work
   * that is the user's: refuse with a UsageError). Returns what was removed. Runs under the run lock.
   */
  cleanCheckout(app: AppContext): Promise<string[]>;
  /**
   * What `doctor` checks for this backend beyond the host, if anything (e.g. the Chromium backend's
   * remote execution service). Problems make doctor exit 8, like the host's own.
   */
  doctor?(config: ResolvedConfig, options: { exec: Exec }): Promise<DoctorSection | undefined>;
}

/**
 * A backend's part of the build identity: a JSON record that only the backend that made it reads.
 * Common code hashes it and hands it back to manifestFields(); it never looks inside.
 */
export type BackendIdentity = Readonly<Record<string, unknown>>;

/** The backend's part of an artifact's manifest (artifacts/manifest.ts, schema 2). */
export interface BackendManifestFields {
  /** The commits the build is made of: Chromium's src (null when no Chromium pin named quiche) and quiche's. */
  inputs: { src: string | null; quiche: string };
  /** The backend's own record, under a name that says what it is (`chromium`, `standalone`). */
  section: { name: string; fields: Record<string, unknown> };
}

/** The contract of the last source stage (`checkout`): where the repos patches apply to are. */
export interface SourceOutput {
  repos: Partial<Record<PatchRepo, RepoState>>;
  /** The repos are the user's own (an adopted checkout): built as they are, hand edits included. */
  adopted?: boolean;
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
