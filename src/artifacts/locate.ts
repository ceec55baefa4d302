import { copyFile, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { IntegrityError, NotFoundError, UsageError } from '../errors.js';
import { pathExists, sha256File } from '../util/fs.js';
import { parseChecksums, SUMS_FILE, type ChecksumEntry } from './checksums.js';
import { downloadFile, downloadText, type FetchLike } from './download.js';
import { parseStoreIndex, STORE_INDEX_FILE, type StoreIndex } from './store-index.js';

/**
 * Turning an install source (a tarball, a dist dir, a directory store, or an http(s) URL to any of
 * these) into a private copy of the tarball whose sha256 has been checked against the dist-level
 * SHA256SUMS. The copy lives in the caller's work dir, so nothing can change it between checks.
 */

export interface LocateOptions {
  signal?: AbortSignal;
  fetch?: FetchLike;
  /** Which artifact, when a directory or URL holds several: a name, tarball file name or fingerprint (prefix). */
  select?: string;
}

export interface LocatedTarball {
  /** The private copy, inside the work dir. */
  file: string;
  sha256: string;
  size: number;
  /** The SHA256SUMS it was checked against, or undefined for a bare file with none next to it. */
  checkedAgainst: string | undefined;
  /** The tarball's name at its source, for messages. */
  label: string;
}

interface Candidate {
  /** Tarball location and its SHA256SUMS location, as a path or URL relative to the source. */
  tarball: string;
  sums: string;
  label: string;
  fingerprint?: string;
}

const isUrl = (source: string) => /^https?:\/\//i.test(source);
const TARBALL = /\.tar\.gz$/;

export async function locateTarball(source: string, work: string, options: LocateOptions = {}): Promise<LocatedTarball> {
  if (isUrl(source)) return locateUrl(source, work, options);
  const abs = path.resolve(source);
  const info = await stat(abs).catch(() => undefined);
  if (!info) {
    throw new NotFoundError(`${source} does not exist.`, {
      hint: 'Pass a .tar.gz artifact, a dist or store directory, or an http(s) URL.',
    });
  }
  if (info.isDirectory()) return locateDir(abs, work, options);
  return locateFile(abs, work);
}

/** A bare tarball: checked against a SHA256SUMS next to it when that lists it; else only the inner sums vouch for it. */
async function locateFile(file: string, work: string): Promise<LocatedTarball> {
  const copy = path.join(work, 'artifact.tar.gz');
  await copyFile(file, copy);
  const sumsFile = path.join(path.dirname(file), SUMS_FILE);
  const listed = (await pathExists(sumsFile))
    ? parseChecksums(await readFile(sumsFile, 'utf8'), sumsFile).find((entry) => entry.path === path.basename(file))
    : undefined;
  const measured = await measure(copy);
  if (listed) expectSha(path.basename(file), measured.sha256, listed.sha256, sumsFile);
  return { file: copy, ...measured, checkedAgainst: listed ? sumsFile : undefined, label: path.basename(file) };
}

async function locateDir(dir: string, work: string, options: LocateOptions): Promise<LocatedTarball> {
  const indexFile = path.join(dir, STORE_INDEX_FILE);
  const sumsFile = path.join(dir, SUMS_FILE);
  let candidates: Candidate[];
  if (await pathExists(indexFile)) {
    candidates = fromIndex(parseStoreIndex(await readFile(indexFile, 'utf8'), indexFile));
  } else if (await pathExists(sumsFile)) {
    candidates = fromSums(parseChecksums(await readFile(sumsFile, 'utf8'), sumsFile));
  } else {
    throw new IntegrityError(`${dir} has neither ${STORE_INDEX_FILE} nor ${SUMS_FILE}; refusing an unverifiable directory.`, {
      hint: 'Point at a dist dir or a directory store made by build-quiche, or at the .tar.gz itself.',
    });
  }
  const chosen = choose(candidates, dir, options.select);
  const tarball = path.join(dir, chosen.tarball);
  const sumsPath = path.join(dir, chosen.sums);
  const sumsText = await readFile(sumsPath, 'utf8').catch(() => missingSums(sumsPath));
  const expected = expectedSha(parseChecksums(sumsText, sumsPath), tarball, sumsPath);
  const copy = path.join(work, 'artifact.tar.gz');
  if (!(await pathExists(tarball))) throw new NotFoundError(`${tarball} is listed but missing.`);
  await copyFile(tarball, copy);
  const measured = await measure(copy);
  expectSha(path.basename(tarball), measured.sha256, expected, sumsPath);
  return { file: copy, ...measured, checkedAgainst: sumsPath, label: path.basename(tarball) };
}

async function locateUrl(source: string, work: string, options: LocateOptions): Promise<LocatedTarball> {
  const url = new URL(source);
  let tarballUrl: URL;
  let sumsUrl: URL;
  if (TARBALL.test(url.pathname)) {
    tarballUrl = url;
    sumsUrl = new URL(SUMS_FILE, url);
  } else {
    const base = new URL(url.pathname.endsWith('/') ? url.href : `${url.href}/`);
    const index = await downloadText(new URL(STORE_INDEX_FILE, base).href, { ...options, optional: true });
    let candidates: Candidate[];
    if (index !== undefined) {
      candidates = fromIndex(parseStoreIndex(index, new URL(STORE_INDEX_FILE, base).href));
    } else {
      const sums = await downloadText(new URL(SUMS_FILE, base).href, { ...options, optional: true });
      if (sums === undefined) missingSums(new URL(SUMS_FILE, base).href);
      candidates = fromSums(parseChecksums(sums, new URL(SUMS_FILE, base).href));
    }
    const chosen = choose(candidates, base.href, options.select);
    tarballUrl = new URL(chosen.tarball, base);
    sumsUrl = new URL(chosen.sums, base);
  }
  const sumsText = await downloadText(sumsUrl.href, { ...options, optional: true });
  if (sumsText === undefined) missingSums(sumsUrl.href);
  const tarballName = decodeURIComponent(path.posix.basename(tarballUrl.pathname));
  const expected = expectedSha(parseChecksums(sumsText, sumsUrl.href), tarballName, sumsUrl.href);
  const file = path.join(work, 'artifact.tar.gz');
  const measured = await downloadFile(tarballUrl.href, file, options);
  expectSha(tarballName, measured.sha256, expected, sumsUrl.href);
  return { file, ...measured, checkedAgainst: sumsUrl.href, label: tarballName };
}

function missingSums(where: string): never {
  throw new IntegrityError(`${where} is missing; refusing an artifact that cannot be verified.`, {
    hint: `Publish ${SUMS_FILE} next to the tarball (build-quiche writes it to dist/), or install from a local file.`,
  });
}

function expectedSha(sums: readonly ChecksumEntry[], tarball: string, sumsWhere: string): string {
  const entry = sums.find((candidate) => candidate.path === path.basename(tarball));
  if (!entry) {
    throw new IntegrityError(`${sumsWhere} does not list ${path.basename(tarball)}; refusing an unverified artifact.`);
  }
  return entry.sha256;
}

function expectSha(name: string, actual: string, expected: string, sumsWhere: string): void {
  if (actual === expected) return;
  throw new IntegrityError(`${name} does not match ${sumsWhere} (sha256 ${actual}, expected ${expected}).`, {
    hint: 'The tarball was changed or damaged. Get it again from its source; nothing was installed.',
    data: { name, actual, expected },
  });
}

async function measure(file: string): Promise<{ sha256: string; size: number }> {
  return { sha256: await sha256File(file), size: (await stat(file)).size };
}

function fromIndex(index: StoreIndex): Candidate[] {
  return Object.entries(index.artifacts).map(([fingerprint, entry]) => ({
    tarball: entry.tarball,
    sums: entry.sums,
    label: `${entry.name} (fingerprint ${fingerprint.slice(0, 16)})`,
    fingerprint,
  }));
}

function fromSums(sums: readonly ChecksumEntry[]): Candidate[] {
  return sums
    .filter((entry) => TARBALL.test(entry.path) && !entry.path.includes('/'))
    .map((entry) => ({ tarball: entry.path, sums: SUMS_FILE, label: entry.path }));
}

function choose(candidates: Candidate[], where: string, select: string | undefined): Candidate {
  const matches = select
    ? candidates.filter((c) => {
        const name = path.posix.basename(c.tarball).replace(TARBALL, '');
        return name === select || `${name}.tar.gz` === select || (select.length >= 8 && c.fingerprint?.startsWith(select));
      })
    : candidates;
  if (matches.length === 1) return matches[0] as Candidate;
  const available = candidates.map((c) => c.label).join(', ') || 'none';
  if (matches.length === 0) {
    throw new NotFoundError(`${where} holds no artifact${select ? ` matching ${select}` : ''} (available: ${available}).`, {
      hint: 'Pass the artifact name, tarball file name or fingerprint to choose one.',
    });
  }
  const which = matches.map((c) => c.label).join(', ');
  throw new UsageError(`${where} holds ${matches.length} artifacts${select ? ` matching ${select}` : ''}: ${which}.`, {
    hint: 'Choose one by fingerprint (select), or point at the .tar.gz itself.',
  });
}
