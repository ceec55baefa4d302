import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PATCH_REPOS, type PatchRepo } from './repos.js';
import { ConfigError } from '../errors.js';
import { sha256 } from '../util/fs.js';
import { parsePatch, touchedPaths, type Patch } from './patch-file.js';

/**
 * The series file and the patches it lists. A series is one patch file name a line (relative to the
 * series file), `#` comments and blank lines allowed, and an optional `repo=quiche|src` token after
 * the name (default quiche). Each patch is parsed once (patch-file.ts) into everything the rest of
 * the patch machinery needs (subject, files, hunks, a content hash).
 */

export interface Series {
  /** Absolute path of the series file (or a label for an in-memory series). */
  file: string;
  dir: string;
  patches: Patch[];
}

/** Paths the series touches, per repo, sorted. */
export function seriesFiles(series: Series): Record<PatchRepo, string[]> {
  const files: Record<PatchRepo, Set<string>> = { quiche: new Set(), src: new Set() };
  for (const patch of series.patches) for (const file of touchedPaths(patch)) files[patch.repo].add(file);
  return { quiche: [...files.quiche].sort(), src: [...files.src].sort() };
}

/** Repos the series has patches for, in a fixed order. */
export function seriesRepos(series: Series): PatchRepo[] {
  return PATCH_REPOS.filter((repo) => series.patches.some((patch) => patch.repo === repo));
}

/**
 * A short id for the whole series, used in artifact names: stable for the same patches (by content
 * and target repo) in the same order; 'unpatched' for an empty series.
 */
export function patchsetId(series: Series): string {
  if (series.patches.length === 0) return 'unpatched';
  return sha256(series.patches.map((patch) => `${patch.repo}:${patch.sha256}\n`).join('')).slice(0, 12);
}

/** The JSON summary stages record and fingerprint: name, repo and content hash of each patch. */
export function seriesSummary(series: Series): Array<{ name: string; repo: PatchRepo; sha256: string }> {
  return series.patches.map(({ name, repo, sha256: hash }) => ({ name, repo, sha256: hash }));
}

export interface SeriesEntry {
  name: string;
  repo: PatchRepo;
  /** 1-based line in the series file, for error messages. */
  line: number;
}

/** C0 controls except tab and CR, DEL, and U+FFFD (what a byte that is not UTF-8 decodes to). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const NOT_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/;

/** A line as a quoted string with every unprintable character escaped, cut to a readable length. */
function escapeForDisplay(raw: string): string {
  const shown = raw.length > 80 ? `${raw.slice(0, 80)}…` : raw;
  return JSON.stringify(shown).replace(/[\u007f\ufffd]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The entries of a series file's text, without reading the patches. */
export function parseSeriesText(text: string, source: string): SeriesEntry[] {
  const entries: SeriesEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    if (NOT_TEXT.test(raw)) {
      throw new ConfigError(`${source}:${index + 1}: not a line of text (control or non-UTF-8 bytes): ${escapeForDisplay(raw)}.`, {
        hint: 'A series file lists patch file names, one a line. Is patches.series pointing at the right file?',
      });
    }
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const [name, ...tokens] = line.split(/\s+/) as [string, ...string[]];
    let repo: PatchRepo = 'quiche';
    for (const token of tokens) {
      const match = /^repo=(.*)$/.exec(token);
      if (!match || !PATCH_REPOS.includes(match[1] as PatchRepo)) {
        throw new ConfigError(`${source}:${index + 1}: unknown token "${token}" after ${name}.`, {
          hint: `After a patch name the only token allowed is repo=${PATCH_REPOS.join('|')} (default quiche).`,
        });
      }
      repo = match[1] as PatchRepo;
    }
    if (path.isAbsolute(name) || name.split(/[\\/]/).includes('..')) {
      throw new ConfigError(`${source}:${index + 1}: patch name "${name}" must be relative to the series directory, without "..".`);
    }
    if (entries.some((entry) => entry.name === name)) {
      throw new ConfigError(`${source}:${index + 1}: ${name} is listed twice.`, { hint: 'List each patch once.' });
    }
    entries.push({ name, repo, line: index + 1 });
  });
  return entries;
}

/** Read a series file and every patch it lists. */
export async function parseSeries(seriesFile: string): Promise<Series> {
  const file = path.resolve(seriesFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `The patch series ${file} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      {
        hint: 'Check patches.series in the config (a file listing one patch a line).',
        cause: error,
      },
    );
  }
  const dir = path.dirname(file);
  const patches: Patch[] = [];
  for (const entry of parseSeriesText(text, file)) {
    const patchFile = path.join(dir, entry.name);
    let content: Buffer;
    try {
      content = await readFile(patchFile);
    } catch (error) {
      throw new ConfigError(
        `${file}:${entry.line}: the patch ${entry.name} does not exist (${(error as NodeJS.ErrnoException).code ?? 'unreadable'}).`,
        {
          hint: `Add ${patchFile}, or remove the line from the series.`,
          cause: error,
        },
      );
    }
    patches.push(parsePatch(content, { name: entry.name, file: patchFile, repo: entry.repo }));
  }
  return { file, dir, patches };
}
