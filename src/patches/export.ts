import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gitIn, type GitRunner, hasCommit } from '../tools/git.js';
import type { Exec } from '../process/exec.js';
import type { PatchRepo } from './repos.js';
import { NotFoundError, UsageError } from '../errors.js';
import { parsePatch } from './patch-file.js';
import { parseSeriesText } from './series.js';

/**
 * Normalised patch files, after Electron's patch scripts: one `git format-patch` per commit with
 * the zero commit id, full blob ids, no signature and no diffstat, a fixed Date line, and every
 * option that could differ between machines pinned. Exporting the same commits twice gives the same
 * bytes, so a re-export shows up in review only when a patch really changed.
 */

/** The Date every exported patch carries (the one patches/ was first exported with). */
export const FIXED_DATE = 'Sat, 1 Aug 2026 00:00:00 +0000';
const ZERO_FROM = 'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001';

const FORMAT_PATCH_ARGS = [
  'format-patch',
  '--no-numbered',
  '--zero-commit',
  '--full-index',
  '--no-signature',
  '--no-stat',
  '--no-to',
  '--no-cc',
  '--no-add-header',
  '--no-thread',
  '--no-base',
  '--no-notes',
  '--no-cover-letter',
  '--encode-email-headers',
  '--subject-prefix=PATCH',
  '--binary',
  '--find-renames',
  '--diff-algorithm=myers',
  '--unified=3',
  '--inter-hunk-context=0',
  '--src-prefix=a/',
  '--dst-prefix=b/',
  '--no-relative',
];

/** Fix what format-patch leaves machine- or time-dependent (idempotent). */
export function normalizePatch(text: string): string {
  const lines = text.split('\n');
  if (lines[0]?.startsWith('From ')) lines[0] = ZERO_FROM;
  const headerEnd = lines.indexOf('');
  for (let i = 0; i < (headerEnd < 0 ? lines.length : headerEnd); i++) {
    if (lines[i]!.startsWith('Date: ')) lines[i] = `Date: ${FIXED_DATE}`;
  }
  // Mail tools end the message at '---'; format-patch --no-stat writes a blank line there instead.
  const firstDiff = lines.findIndex((line) => line.startsWith('diff --git '));
  if (firstDiff > 0 && lines[firstDiff - 1] === '' && !lines.slice(headerEnd, firstDiff).includes('---')) lines[firstDiff - 1] = '---';
  let out = lines.join('\n');
  // A signature ("-- \n2.39.5\n") from a format-patch run without --no-signature.
  out = out.replace(/\n-- \n[^\n]*\n*$/, '\n');
  return out.endsWith('\n') ? out : `${out}\n`;
}

/** `0001-client-intentional-migration.patch`; other repos than quiche get a prefix (`src-0001-...`). */
export function patchFileName(index: number, subject: string, repo: PatchRepo = 'quiche'): string {
  let slug = subject
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length > 52) slug = slug.slice(0, 52).replace(/-[^-]*$/, '') || slug.slice(0, 52);
  return `${repo === 'quiche' ? '' : `${repo}-`}${String(index).padStart(4, '0')}-${slug || 'patch'}.patch`;
}

/** One commit as a normalised patch. */
export async function formatCommit(git: GitRunner, commit: string): Promise<string> {
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'build-quiche-format-'));
  try {
    await git([...FORMAT_PATCH_ARGS, '-o', outDir, '-1', commit]);
    const [file] = await readdir(outDir);
    if (!file) throw new Error(`git format-patch wrote nothing for ${commit}`);
    return normalizePatch(await readFile(path.join(outDir, file), 'utf8'));
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

export interface ExportOptions {
  /** The repo holding the patch commits (a quiche clone, or chromium/src for repo=src). */
  repoDir: string;
  /** The upstream commit the patches sit on: commits base..HEAD are exported, oldest first. */
  base: string;
  /** Where patch files go (usually the series file's directory). */
  outDir: string;
  /** The series file to rewrite; default <outDir>/series. */
  seriesFile?: string;
  /** Which repo the patches are for; default quiche. */
  repo?: PatchRepo;
  exec?: Exec;
}

export interface ExportResult {
  seriesFile: string;
  patches: Array<{ name: string; subject: string; file: string; changed: boolean }>;
  /** Patch files of this repo the old series listed that are gone now (deleted). */
  removed: string[];
}

/**
 * Turn `base..HEAD` of a repo into the series' patches for that repo: files are rewritten only when
 * their bytes change, stale ones of the same repo are removed, and the series file keeps its
 * comments and the other repo's entries.
 */
export async function exportPatches(options: ExportOptions): Promise<ExportResult> {
  const repo = options.repo ?? 'quiche';
  const seriesFile = path.resolve(options.seriesFile ?? path.join(options.outDir, 'series'));
  const seriesDir = path.dirname(seriesFile);
  const git = gitIn(options.repoDir, options.exec);
  if (!(await hasCommit(options.repoDir, options.base))) {
    throw new NotFoundError(`${options.base} is not a commit in ${options.repoDir}.`, {
      hint: 'Pass the upstream commit the patch commits sit on (e.g. the pinned quiche revision).',
    });
  }
  const merges = (await git(['rev-list', '--merges', `${options.base}..HEAD`])).stdout.trim();
  if (merges)
    throw new UsageError(`${options.base}..HEAD in ${options.repoDir} contains merge commits; patches need a linear history.`, {
      hint: 'Rebase the patch commits onto the base first.',
    });
  const commits = (await git(['rev-list', '--reverse', `${options.base}..HEAD`])).stdout.split('\n').filter(Boolean);
  if (commits.length === 0) {
    // Exporting nothing would delete every patch in the series: almost always the wrong repo or base
    // (e.g. the pipeline's own checkout, where patches are applied as uncommitted edits).
    throw new UsageError(`There are no commits in ${options.base.slice(0, 12)}..HEAD in ${options.repoDir}; nothing to export.`, {
      hint: 'Commit your changes on top of the pinned revision first (git -C <repo> commit), or pass --dir/--base for the repo that holds them.',
    });
  }

  await mkdir(options.outDir, { recursive: true });
  const patches: ExportResult['patches'] = [];
  for (const [index, commit] of commits.entries()) {
    const text = await formatCommit(git, commit);
    const { subject } = parsePatch(Buffer.from(text), { name: commit, file: commit, repo });
    const name = patchFileName(index + 1, subject, repo);
    const file = path.join(options.outDir, name);
    const existing = await readFile(file, 'utf8').catch(() => undefined);
    if (existing !== text) await writeFile(file, text);
    patches.push({ name, subject, file, changed: existing !== text });
  }

  const oldText = await readFile(seriesFile, 'utf8').catch(() => '');
  const oldEntries = oldText ? parseSeriesText(oldText, seriesFile) : [];
  const newNames = patches.map((patch) => path.relative(seriesDir, patch.file).split(path.sep).join('/'));
  const removed: string[] = [];
  for (const entry of oldEntries) {
    if (entry.repo !== repo || newNames.includes(entry.name)) continue;
    const stale = path.join(seriesDir, entry.name);
    await rm(stale, { force: true });
    removed.push(stale);
  }
  await writeFile(seriesFile, rewriteSeries(oldText, repo, newNames));
  return { seriesFile, patches, removed };
}

/** The series text with this repo's entries replaced (at the first old one's place); all else kept. */
function rewriteSeries(oldText: string, repo: PatchRepo, names: string[]): string {
  const entryLines = names.map((name) => (repo === 'quiche' ? name : `${name} repo=${repo}`));
  if (!oldText.trim()) return `# Applied in order; see docs/patches.md.\n${entryLines.join('\n')}\n`;
  const lines = oldText.replace(/\n$/, '').split('\n');
  const out: string[] = [];
  let inserted = false;
  for (const line of lines) {
    const [entry] = parseSeriesText(line, 'series');
    if (entry && entry.repo === repo) {
      if (!inserted) out.push(...entryLines);
      inserted = true;
      continue;
    }
    out.push(line);
  }
  if (!inserted) out.push(...entryLines);
  return `${out.join('\n')}\n`;
}
