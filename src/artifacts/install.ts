import { lstat, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { IntegrityError, NotFoundError, UsageError } from '../errors.js';
import { canonicalJson } from '../util/canonical-json.js';
import { pathExists, sha256File } from '../util/fs.js';
import { renameDirInto } from './atomic.js';
import { readChecksums, SUMS_FILE } from './checksums.js';
import type { FetchLike } from './download.js';
import { checkContents, inspectTarball, MANIFEST_FILE } from './inspect.js';
import { locateTarball } from './locate.js';
import { parseManifestJson, type Manifest } from './manifest.js';

/**
 * The consumer side: put a verified artifact at `<to>/<name>/`. Order matters: checksum the tarball,
 * check every entry and the inner sums without extracting, extract into a temp dir next to `to`,
 * verify again from disk, and only then rename into place. Any refusal leaves `to` as it was.
 */

export interface InstallOptions {
  /** Parent directory; the artifact lands in `<to>/<name>/`. */
  to: string;
  signal?: AbortSignal;
  fetch?: FetchLike;
  /** Which artifact, when the source holds several: a name, tarball file name or fingerprint (prefix). */
  select?: string;
}

export interface InstalledArtifact {
  /** Absolute path of the artifact's directory. */
  dir: string;
  name: string;
  manifest: Manifest;
  /** Binary name -> absolute path (every file under bin/). */
  binaries: Record<string, string>;
}

export interface InstallResult extends InstalledArtifact {
  /** 'unchanged': the same artifact was already installed and still verifies; nothing was written. */
  status: 'installed' | 'unchanged' | 'replaced';
  /** sha256 of the tarball that was installed. */
  sha256: string;
  /** The dist-level SHA256SUMS the tarball was checked against; undefined for a bare file with none. */
  checkedAgainst: string | undefined;
}

export async function installArtifact(source: string, options: InstallOptions): Promise<InstallResult> {
  if (!options.to) throw new UsageError('installArtifact needs a destination directory (to).');
  const to = path.resolve(options.to);
  const parent = path.dirname(to);
  await mkdir(parent, { recursive: true });
  // Next to `to` (same file system, so the final rename is atomic) and never inside it.
  const work = await mkdtemp(path.join(parent, `.${path.basename(to)}.install-`));
  try {
    const located = await locateTarball(source, work, options);
    options.signal?.throwIfAborted();
    const inspection = await inspectTarball(located.file, located.label);
    const target = path.join(to, inspection.name);
    const outcome = { sha256: located.sha256, checkedAgainst: located.checkedAgainst };

    const existing = await existingInstall(target);
    if (existing && sameManifest(existing.manifest, inspection.manifest)) {
      return { ...existing, ...outcome, status: 'unchanged' };
    }

    const staging = path.join(work, 'extract');
    await mkdir(staging);
    const { extract } = await import('tar');
    await extract({ file: located.file, cwd: staging, strict: true, preserveOwner: false, preservePaths: false });
    options.signal?.throwIfAborted();
    const extracted = await verifyInstalled(path.join(staging, inspection.name));
    if (!sameManifest(extracted.manifest, inspection.manifest)) {
      throw new IntegrityError(`${inspection.name}: the extracted manifest differs from the listed one.`);
    }

    await mkdir(to, { recursive: true });
    await renameDirInto(extracted.dir, target, path.join(work, 'previous'));
    return { ...describe(target, extracted.manifest), ...outcome, status: existing === undefined ? 'installed' : 'replaced' };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * What sits at the target already: undefined when nothing; null when an earlier install of this
 * artifact that no longer verifies (it is replaced); a verified install otherwise. Anything that is
 * not an installed artifact is left alone.
 */
async function existingInstall(target: string): Promise<InstalledArtifact | null | undefined> {
  if (!(await pathExists(target))) return undefined;
  if (!(await pathExists(path.join(target, MANIFEST_FILE)))) {
    throw new UsageError(`${target} exists and is not an installed artifact (no ${MANIFEST_FILE}); not touching it.`, {
      hint: 'Move it away or choose another --to directory.',
    });
  }
  try {
    return await verifyInstalled(target);
  } catch (error) {
    if (error instanceof IntegrityError) return null;
    throw error;
  }
}

const sameManifest = (a: Manifest, b: Manifest) => canonicalJson(a) === canonicalJson(b);

/**
 * Check an installed artifact directory (`<to>/<name>/`) against its SHA256SUMS and manifest: every
 * listed file present with the right sha256 and size, and no unlisted file. For demos: call it at
 * start-up before running the binaries.
 */
export async function verifyInstalled(dir: string): Promise<InstalledArtifact> {
  const abs = path.resolve(dir);
  const manifestText = await readFile(path.join(abs, MANIFEST_FILE), 'utf8').catch(() => undefined);
  if (manifestText === undefined) {
    throw new NotFoundError(`${abs} is not an installed artifact: ${MANIFEST_FILE} is missing.`, {
      hint: 'Install it with `build-quiche install <artifact> --to <dir>` (or installArtifact()).',
    });
  }
  const manifest = parseManifestJson(manifestText, path.join(abs, MANIFEST_FILE));
  const sums = await readChecksums(path.join(abs, SUMS_FILE)).catch((error: unknown) => {
    if (error instanceof IntegrityError) throw error;
    throw new IntegrityError(`${abs}: ${SUMS_FILE} is missing.`, { hint: 'Reinstall the artifact.' });
  });
  checkContents(abs, manifest, sums, await hashTree(abs));
  return describe(abs, manifest);
}

function describe(dir: string, manifest: Manifest): InstalledArtifact {
  const binaries: Record<string, string> = {};
  for (const file of manifest.files) {
    const match = /^bin\/([^/]+)$/.exec(file.path);
    if (match) binaries[match[1] as string] = path.join(dir, 'bin', match[1] as string);
  }
  return { dir, name: manifest.name, manifest, binaries };
}

/** Regular files under `root` (symlinks are not followed), by '/'-separated relative path. */
async function hashTree(root: string): Promise<Map<string, { sha256: string; size: number }>> {
  const files = new Map<string, { sha256: string; size: number }>();
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(path.join(root, relative), { withFileTypes: true })) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) {
        const file = path.join(root, child);
        files.set(child, { sha256: await sha256File(file), size: (await lstat(file)).size });
      } else if (!entry.isSymbolicLink()) {
        throw new IntegrityError(`${path.join(root, child)} is not a regular file or directory.`);
      }
    }
  };
  await walk('');
  return files;
}
