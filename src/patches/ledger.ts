import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { dirtyFiles, showFile } from '../tools/git.js';
import type { PatchRepo } from './repos.js';
import { DirtyTreeError, IntegrityError } from '../errors.js';
import { readIfExists, sha256, sha256OrNull, writeJsonAtomic } from '../util/fs.js';
import { removeFile, writeFileKeepingMode } from './write.js';

/**
 * The applied-patches ledger: exactly what the patch stage changed in the checkout, per repo and
 * file, with the hashes before and after. It is how a re-patch knows which files are ours, how
 * checkout reverts our changes before moving a pin, and how a foreign edit is told apart from ours.
 */

export interface LedgerFile {
  /** Relative to the repo root. */
  path: string;
  /** sha256 of the file at the base commit; null when the series created it. */
  baseSha256: string | null;
  /** sha256 of what we wrote; null when the series deleted it. */
  resultSha256: string | null;
  /** Patches that touch the file, in series order. */
  patches: string[];
}

export interface LedgerRepo {
  /** Absolute path of the repo's work tree. */
  root: string;
  /** The commit the base content was read from (the repo's HEAD when we patched). */
  baseCommit: string;
  files: LedgerFile[];
}

export interface Ledger {
  schema: 1;
  patchset: string;
  series: string;
  patches: Array<{ name: string; repo: PatchRepo; sha256: string }>;
  repos: Partial<Record<PatchRepo, LedgerRepo>>;
}

export async function readLedger(file: string): Promise<Ledger | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Ledger;
    if (parsed?.schema === 1 && parsed.repos) return parsed;
  } catch {
    // Fall through: an unreadable ledger must not be mistaken for "nothing applied".
  }
  throw new IntegrityError(`The applied-patches ledger ${file} is unreadable.`, {
    hint: `Without it build-quiche cannot tell its patches from other edits. Check the patched repos with \`git status\`, restore them (git checkout -- <files>), then delete ${file}.`,
  });
}

export async function writeLedger(file: string, ledger: Ledger): Promise<void> {
  await writeJsonAtomic(file, ledger);
}

/** The ledger after the patch stage reverted everything (or had nothing to apply). */
export const emptyLedger = (): Ledger => ({ schema: 1, patchset: 'unpatched', series: '', patches: [], repos: {} });

type FileState = 'ours' | 'base' | 'foreign';

interface LedgerEntry {
  repo: PatchRepo;
  root: string;
  baseCommit: string;
  file: LedgerFile;
  absPath: string;
  state: FileState;
}

/** Every ledger file with what is on disk now: exactly our result, exactly the base, or something else. */
async function ledgerEntries(ledger: Ledger): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  for (const [repo, record] of Object.entries(ledger.repos) as Array<[PatchRepo, LedgerRepo]>) {
    for (const file of record.files) {
      const absPath = path.join(record.root, file.path);
      const onDisk = sha256OrNull(await readIfExists(absPath));
      const state: FileState = onDisk === file.resultSha256 ? 'ours' : onDisk === file.baseSha256 ? 'base' : 'foreign';
      entries.push({ repo, root: record.root, baseCommit: record.baseCommit, file, absPath, state });
    }
  }
  return entries;
}

/**
 * The ledger file, and the directory that holds the patched repos (the backend's: a gclient root, a
 * directory of checkouts): the paths ownedChanges() returns, and relative `only` paths, are relative to it.
 */
export interface LedgerLocation {
  ledgerFile: string;
  root: string;
}

/**
 * The files whose content on disk is exactly what the patch stage wrote, as paths relative to the
 * ledger's root (in a gclient root: `src/net/third_party/quiche/src/quiche/quic/tools/quic_toy_client.cc`),
 * i.e. `path.join(<repo path>, <path git status prints in that repo>)`. A modified file not in this
 * list is not ours (foreignChanges()).
 */
export async function ownedChanges(at: LedgerLocation): Promise<string[]> {
  const ledger = await readLedger(at.ledgerFile);
  if (!ledger) return [];
  return (await ledgerEntries(ledger)).filter((entry) => entry.state === 'ours').map((entry) => path.relative(at.root, entry.absPath));
}

export interface RevertOptions {
  /**
   * Revert only the repos at these paths (relative to the ledger's root, e.g. the deps that are about
   * to move: 'src', 'src/net/third_party/quiche/src'; absolute paths work too). Default: all.
   */
  only?: string[];
  /** Report what would be reverted without writing anything. */
  dryRun?: boolean;
}

/**
 * Undo the patch stage before checkout moves a pin: every ledger file that is exactly our result
 * goes back to its base content (or is deleted if we created it), then those repos leave the
 * ledger. A file that is neither ours nor base is a foreign edit: nothing at all is written and
 * DirtyTreeError names it. Returns the absolute paths reverted.
 */
export async function revertAppliedPatches(at: LedgerLocation, options: RevertOptions = {}): Promise<{ reverted: string[] }> {
  const { ledgerFile } = at;
  const ledger = await readLedger(ledgerFile);
  if (!ledger) return { reverted: [] };
  const wanted = options.only?.map((dir) => path.resolve(at.root, dir));
  const repos = (Object.keys(ledger.repos) as PatchRepo[]).filter(
    (repo) => !wanted || wanted.includes(path.resolve(ledger.repos[repo]!.root)),
  );
  if (repos.length === 0) return { reverted: [] };
  const entries = (await ledgerEntries(ledger)).filter((entry) => repos.includes(entry.repo));
  const foreign = entries.filter((entry) => entry.state === 'foreign');
  if (foreign.length)
    throw foreignEditsError(
      foreign.map(({ repo, root, file }) => ({ repo, root, path: file.path })),
      'revert the patches',
    );
  const toRevert = entries.filter((entry) => entry.state === 'ours');
  const restored = [];
  for (const entry of toRevert) restored.push({ entry, base: await baseContent(entry) });
  if (options.dryRun) return { reverted: toRevert.map((entry) => entry.absPath) };
  for (const { entry, base } of restored) {
    if (base === undefined) await removeFile(entry.absPath, entry.root);
    else await writeFileKeepingMode(entry.absPath, base);
  }
  for (const repo of repos) delete ledger.repos[repo];
  await writeLedger(ledgerFile, Object.keys(ledger.repos).length ? ledger : emptyLedger());
  return { reverted: toRevert.map((entry) => entry.absPath) };
}

/** The base content of a ledger file from its repo's base commit, checked against the recorded hash. */
async function baseContent(entry: LedgerEntry): Promise<Buffer | undefined> {
  if (entry.file.baseSha256 === null) return undefined;
  const content = await showFile(entry.root, entry.baseCommit, entry.file.path);
  if (content === undefined || sha256(content) !== entry.file.baseSha256) {
    throw new IntegrityError(
      `Cannot restore ${entry.absPath}: its base content is not at ${entry.baseCommit.slice(0, 12)} in ${entry.root}.`,
      {
        hint: `Restore it by hand (git -C ${entry.root} checkout -- ${entry.file.path}), then delete the ledger.`,
      },
    );
  }
  return content;
}

export interface ForeignFile {
  repo: PatchRepo;
  root: string;
  path: string;
}

/** A file someone else changed: we never overwrite it. */
export function foreignEditsError(files: ForeignFile[], action: string): DirtyTreeError {
  const list = files.map((file) => `  ${path.join(file.root, file.path)} (${file.repo})`).join('\n');
  const first = files[0]!;
  return new DirtyTreeError(
    `Refusing to ${action}: ${files.length} file${files.length === 1 ? ' was' : 's were'} changed outside build-quiche (neither the upstream content nor what the patches wrote):\n${list}\nNothing was written.`,
    {
      hint: `Keep the edit by turning it into a patch in the series (build-quiche patches export), or discard it (git -C ${first.root} checkout -- ${first.path}; delete the file if upstream has none), then run again.`,
      data: { files },
    },
  );
}

/** A tracked file changed by someone else (its `git status` code, e.g. 'M'). */
export interface ForeignChange {
  /** Absolute path. */
  file: string;
  code: string;
}

/**
 * The tracked changes in these repos that are not the patch stage's own (per the ledger): what stops
 * a pin move, a checkout switch or a build under the clean build's name. Untracked files are not
 * counted: gclient's hooks leave generated ones, and a new file changes the build only through a
 * tracked file that names it.
 */
export async function foreignChanges(at: LedgerLocation, dirs: readonly string[]): Promise<ForeignChange[]> {
  const owned = new Set((await ownedChanges(at)).map((rel) => path.resolve(at.root, rel)));
  const foreign: ForeignChange[] = [];
  for (const dir of dirs) {
    for (const file of await dirtyFiles(dir)) {
      const abs = path.resolve(dir, file.path);
      if (file.code !== '??' && !owned.has(abs)) foreign.push({ file: abs, code: file.code.trim() });
    }
  }
  return foreign;
}

/** Refusing to go on over changes that are not ours: what they would suffer, the files, and what to do. */
export function foreignChangesError(changes: readonly ForeignChange[], consequence: string, hint: string): DirtyTreeError {
  const files = changes.map((change) => `${change.file} (${change.code})`);
  return new DirtyTreeError(`${consequence}:\n  ${files.join('\n  ')}\nNothing was changed.`, { hint, data: { files } });
}
