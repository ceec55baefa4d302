import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ReadEntry } from 'tar';
import { IntegrityError } from '../errors.js';
import { parseChecksums, SUMS_FILE, type ChecksumEntry } from './checksums.js';
import { parseManifestJson, type Manifest } from './manifest.js';

/**
 * Reading an artifact tarball without extracting it: every entry is checked against the safety
 * rules (docs/artifacts.md, "Install safety"), every file is hashed, and the inner SHA256SUMS and the
 * manifest are checked against those hashes. Only a tarball that passes is ever extracted.
 */

export const MANIFEST_FILE = 'manifest.json';

export interface TarballFile {
  sha256: string;
  size: number;
  mode: number;
}

export interface TarballInspection {
  /** The single top-level directory, which is also the manifest's name. */
  name: string;
  manifest: Manifest;
  sums: ChecksumEntry[];
  /** Regular files, by path relative to the top directory. */
  files: Map<string, TarballFile>;
}

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

function refuse(archive: string, entry: string, why: string): never {
  throw new IntegrityError(`Refusing ${archive}: entry ${JSON.stringify(entry)} ${why}.`, {
    hint: 'The archive is not a build-quiche artifact or was tampered with. Nothing was extracted.',
    data: { archive, entry },
  });
}

/** `p` split into components, or undefined when it is not a clean relative path. */
function cleanParts(p: string): string[] | undefined {
  const parts = p.replace(/\/$/, '').split('/');
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p) || p.includes('\\') || p.includes('\0')) return undefined;
  if (parts.some((part) => part === '' || part === '.' || part === '..')) return undefined;
  return parts;
}

class EntryRules {
  top: string | undefined;
  readonly seen = new Map<string, string>();
  readonly symlinks = new Set<string>();

  constructor(private readonly archive: string) {}

  /** Throws for an entry breaking a rule; returns its path without a trailing slash. */
  check(entry: ReadEntry): string {
    const raw = entry.path;
    if (!ALLOWED_TYPES.has(entry.type)) refuse(this.archive, raw, `is a ${entry.type} (only files, directories and links are allowed)`);
    // An artifact never needs them, and tar running as root would recreate them: a privilege escalation.
    if (((entry.mode ?? 0) & 0o6000) !== 0)
      refuse(this.archive, raw, `has the setuid/setgid bit set (mode ${((entry.mode ?? 0) & 0o7777).toString(8)})`);
    if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) refuse(this.archive, raw, 'has an absolute path');
    if (raw.split(/[/\\]/).includes('..')) refuse(this.archive, raw, "has a '..' component");
    const parts = cleanParts(raw);
    if (!parts) refuse(this.archive, raw, 'is not a clean relative path');
    const [top] = parts as [string, ...string[]];
    this.top ??= top;
    if (top !== this.top || (parts.length === 1 && entry.type !== 'Directory')) {
      refuse(this.archive, raw, `is outside the single top-level directory ${this.top}/`);
    }
    const key = parts.join('/');
    if (this.seen.has(key)) refuse(this.archive, raw, 'appears twice');
    for (let i = 1; i < parts.length; i++) {
      const ancestor = parts.slice(0, i).join('/');
      if (this.symlinks.has(ancestor)) refuse(this.archive, raw, `lies under the symlink ${ancestor}`);
    }
    if (entry.type === 'SymbolicLink') this.checkSymlink(entry, parts);
    if (entry.type === 'Link') this.checkHardlink(entry);
    this.seen.set(key, entry.type);
    return key;
  }

  /**
   * A symlink may climb with leading '..' and then only descend, and must land inside the top dir.
   * With no symlinks above any entry (checked in check()), that lexical rule is also the physical one.
   */
  private checkSymlink(entry: ReadEntry, parts: string[]): void {
    const target = entry.linkpath ?? '';
    const display = entry.path;
    if (!target) refuse(this.archive, display, 'is a symlink without a target');
    if (target.startsWith('/')) refuse(this.archive, display, `is a symlink to an absolute path (${target})`);
    const targetParts = target.split('/').filter((part) => part !== '' && part !== '.');
    const climb = targetParts.findIndex((part) => part !== '..');
    const rest = climb === -1 ? [] : targetParts.slice(climb);
    if (rest.includes('..')) refuse(this.archive, display, `is a symlink whose target ${target} mixes names and '..'`);
    const resolved = path.posix.normalize(path.posix.join(...parts.slice(0, -1), target));
    if (resolved !== this.top && !resolved.startsWith(`${this.top}/`)) {
      refuse(this.archive, display, `is a symlink escaping the top-level directory (-> ${target})`);
    }
    this.symlinks.add(parts.join('/'));
  }

  private checkHardlink(entry: ReadEntry): void {
    const target = entry.linkpath ?? '';
    const targetParts = cleanParts(target);
    if (!targetParts || targetParts[0] !== this.top) {
      refuse(this.archive, entry.path, `is a hard link escaping the top-level directory (-> ${target})`);
    }
    if (!FILE_TYPES.has(this.seen.get(targetParts.join('/')) ?? '')) {
      refuse(this.archive, entry.path, `is a hard link to ${target}, which is not an earlier file in the archive`);
    }
  }
}

/**
 * List, check and hash a tarball without writing anything to disk. Throws IntegrityError on any
 * violation; `label` names the archive in messages (default: the file's name).
 */
export async function inspectTarball(file: string, label = path.basename(file)): Promise<TarballInspection> {
  const rules = new EntryRules(label);
  const files = new Map<string, TarballFile>();
  const links = new Map<string, string>();
  const small = new Map<string, Buffer[]>();
  let failure: Error | undefined;

  // tar is loaded when an artifact is read, not by every CLI start.
  const { list } = await import('tar');
  try {
    await list({
      file,
      strict: true,
      onReadEntry: (entry) => {
        if (failure) return;
        try {
          const key = rules.check(entry);
          const inner = key.split('/').slice(1).join('/');
          if (entry.type === 'Link') links.set(inner, (entry.linkpath ?? '').split('/').slice(1).join('/'));
          if (!FILE_TYPES.has(entry.type)) return;
          const hash = createHash('sha256');
          let size = 0;
          const keep = inner === MANIFEST_FILE || inner === SUMS_FILE;
          const chunks: Buffer[] = [];
          entry.on('data', (chunk: Buffer) => {
            hash.update(chunk);
            size += chunk.length;
            if (keep) chunks.push(chunk);
          });
          entry.on('end', () => {
            files.set(inner, { sha256: hash.digest('hex'), size, mode: (entry.mode ?? 0) & 0o7777 });
            if (keep) small.set(inner, chunks);
          });
        } catch (error) {
          failure = error instanceof Error ? error : new Error(String(error));
        }
      },
    });
  } catch (error) {
    throw new IntegrityError(`${label} is not a readable .tar.gz: ${(error as Error).message}`, {
      hint: 'The download is truncated or the file is not an artifact. Get it again.',
      cause: error,
    });
  }
  if (failure) throw failure;
  for (const [link, target] of links) {
    const targetFile = files.get(target);
    if (targetFile) files.set(link, targetFile);
  }

  const name = rules.top;
  const text = (inner: string) => {
    const chunks = small.get(inner);
    if (!chunks)
      throw new IntegrityError(`${label} has no ${name ?? '<name>'}/${inner}.`, {
        hint: 'Not a build-quiche artifact (or a damaged one).',
      });
    return Buffer.concat(chunks).toString('utf8');
  };
  const manifest = parseManifestJson(text(MANIFEST_FILE), `${label}: ${MANIFEST_FILE}`);
  const sums = parseChecksums(text(SUMS_FILE), `${label}: ${SUMS_FILE}`);
  if (manifest.name !== name) {
    throw new IntegrityError(`${label}: the top-level directory ${name}/ does not match the manifest's name ${manifest.name}.`);
  }
  checkContents(path.basename(file), manifest, sums, files);
  return { name, manifest, sums, files };
}

/**
 * The contents agree with the inner SHA256SUMS (which lists every file but itself) and with the
 * manifest (every file but manifest.json and SHA256SUMS, with size). Shared by inspect and verifyInstalled.
 */
export function checkContents(
  what: string,
  manifest: Manifest,
  sums: readonly ChecksumEntry[],
  files: ReadonlyMap<string, { sha256: string; size: number }>,
): void {
  const problems: string[] = [];
  const listed = new Set(sums.map((entry) => entry.path));
  for (const entry of sums) {
    const actual = files.get(entry.path);
    if (!actual) problems.push(`${entry.path} (listed in ${SUMS_FILE}, missing)`);
    else if (actual.sha256 !== entry.sha256) problems.push(`${entry.path} (sha256 does not match ${SUMS_FILE})`);
  }
  for (const file of files.keys()) {
    if (file !== SUMS_FILE && !listed.has(file)) problems.push(`${file} (not listed in ${SUMS_FILE})`);
  }
  if (!listed.has(MANIFEST_FILE)) problems.push(`${MANIFEST_FILE} (not listed in ${SUMS_FILE})`);
  const described = new Set(manifest.files.map((entry) => entry.path));
  for (const entry of manifest.files) {
    const actual = files.get(entry.path);
    if (!actual) problems.push(`${entry.path} (in the manifest, missing)`);
    else if (actual.sha256 !== entry.sha256) problems.push(`${entry.path} (sha256 does not match the manifest)`);
    else if (actual.size !== entry.size) problems.push(`${entry.path} (size ${actual.size}, manifest says ${entry.size})`);
  }
  for (const file of files.keys()) {
    if (file !== SUMS_FILE && file !== MANIFEST_FILE && !described.has(file)) problems.push(`${file} (not in the manifest)`);
  }
  if (problems.length > 0) {
    throw new IntegrityError(`${what} failed verification: ${[...new Set(problems)].join(', ')}.`, {
      hint: 'The artifact was changed or damaged after it was made. Get a fresh copy; nothing was installed from it.',
      data: { problems },
    });
  }
}
