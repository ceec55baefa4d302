import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { BuildQuicheError, NotFoundError, UsageError } from '../errors.js';
import { sha256, sha256File, writeFileAtomic, writeThroughTemp } from '../util/fs.js';
import { formatChecksums, mergeChecksums, SUMS_FILE } from './checksums.js';
import { MANIFEST_FILE } from './inspect.js';
import {
  ARTIFACT_NAME_PATTERN,
  compareBytes,
  isElf,
  manifestProblems,
  manifestSchema,
  parseManifest,
  MANIFEST_SCHEMA_VERSION,
  PLATFORM,
  readNeededLibs,
  serializeManifest,
  type Manifest,
  type ManifestFields,
  type ManifestFile,
} from './manifest.js';
import { DEFAULT_MTIME, sortEntries, writeTarGz, type TarEntry } from './tarball.js';

/**
 * Packaging: `<distDir>/<name>.tar.gz` holding `<name>/{bin/,certs/,manifest.json,SHA256SUMS}`, plus
 * `<name>.manifest.json` and the dist-level SHA256SUMS next to it. Reproducible (docs/artifacts.md).
 */

export interface CreateArtifactOptions {
  distDir: string;
  /** quiche-<version>-<patchset>-linux-x64 (see artifactName()). */
  name: string;
  /** Each lands at bin/<name>, mode 0755. */
  binaries: readonly { name: string; path: string }[];
  /** Copied (recursively, regular files only) to certs/, mode 0644. Omitted: an empty certs/. */
  certsDir?: string;
  manifest: ManifestFields;
  /** mtime of every entry; default 2000-01-01T00:00:00Z. Pass SOURCE_DATE_EPOCH here to pin another. */
  mtime?: Date;
  signal?: AbortSignal;
}

export interface ArtifactResult {
  name: string;
  /** Absolute path of the .tar.gz. */
  tarball: string;
  sha256: string;
  size: number;
  manifest: Manifest;
  /** `<dir>/<name>.manifest.json`, a copy of the manifest inside the tarball. */
  manifestFile: string;
  /** The dist-level SHA256SUMS listing the tarball. */
  sumsFile: string;
}

interface SourceFile {
  inner: string;
  source: string;
  mode: number;
}

const BIN_MODE = 0o755;
const DATA_MODE = 0o644;
const DIR_MODE = 0o755;

export async function createArtifact(options: CreateArtifactOptions): Promise<ArtifactResult> {
  const { name } = options;
  if (!ARTIFACT_NAME_PATTERN.test(name)) throw new UsageError(`Invalid artifact name ${JSON.stringify(name)}.`);
  const distDir = path.resolve(options.distDir);
  const sources = [...(await binarySources(options.binaries)), ...(await certSources(options.certsDir))];

  const files: ManifestFile[] = [];
  const measured = new Map<string, { size: number; sha256: string }>();
  for (const file of sources) {
    options.signal?.throwIfAborted();
    const info = { size: (await stat(file.source)).size, sha256: await sha256File(file.source) };
    measured.set(file.inner, info);
    const elf = await isElf(file.source);
    files.push({
      path: file.inner,
      ...info,
      mode: `0${file.mode.toString(8)}`,
      ...(elf ? { needed: await readNeededLibs(file.source, { signal: options.signal }) } : {}),
    });
  }
  files.sort((a, b) => compareBytes(a.path, b.path));

  const parsed = manifestSchema.safeParse({
    ...options.manifest,
    schema: MANIFEST_SCHEMA_VERSION,
    name,
    platform: PLATFORM,
    files,
  });
  if (!parsed.success) {
    throw new BuildQuicheError('internal', `Invalid manifest fields for ${name}: ${manifestProblems(parsed.error).join('; ')}.`);
  }
  const manifest = parseManifest(parsed.data, name);
  const manifestBytes = Buffer.from(serializeManifest(manifest));
  const innerSums = Buffer.from(
    formatChecksums([
      ...files.map((file) => ({ path: file.path, sha256: file.sha256 })),
      { path: MANIFEST_FILE, sha256: sha256(manifestBytes) },
    ]),
  );

  const entries: TarEntry[] = [
    { type: 'directory', path: name, mode: DIR_MODE },
    { type: 'directory', path: `${name}/bin`, mode: DIR_MODE },
    { type: 'directory', path: `${name}/certs`, mode: DIR_MODE },
    ...certDirs(sources).map((dir): TarEntry => ({ type: 'directory', path: `${name}/${dir}`, mode: DIR_MODE })),
    ...sources.map((file): TarEntry => ({
      type: 'file',
      path: `${name}/${file.inner}`,
      mode: file.mode,
      source: file.source,
      ...(measured.get(file.inner) as { size: number; sha256: string }),
    })),
    { type: 'file', path: `${name}/${MANIFEST_FILE}`, mode: DATA_MODE, data: manifestBytes },
    { type: 'file', path: `${name}/${SUMS_FILE}`, mode: DATA_MODE, data: innerSums },
  ];

  const tarball = path.join(distDir, `${name}.tar.gz`);
  await writeTarballAtomic(sortEntries(entries), tarball, options);
  const result = { sha256: await sha256File(tarball), size: (await stat(tarball)).size };

  const manifestFile = path.join(distDir, `${name}.manifest.json`);
  await writeFileAtomic(manifestFile, manifestBytes);
  const sumsFile = path.join(distDir, SUMS_FILE);
  await mergeChecksums(sumsFile, [{ path: path.basename(tarball), sha256: result.sha256 }]);
  return { name, tarball, ...result, manifest, manifestFile, sumsFile };
}

/** Through a temp name in the same dir and a rename, so dist never holds a partial tarball. */
async function writeTarballAtomic(entries: TarEntry[], tarball: string, options: CreateArtifactOptions): Promise<void> {
  await mkdir(path.dirname(tarball), { recursive: true });
  await removeStaleTemps(path.dirname(tarball), path.basename(tarball));
  await writeThroughTemp(tarball, (tmp) => writeTarGz(entries, tmp, { mtime: options.mtime ?? DEFAULT_MTIME, signal: options.signal }));
}

/** Temp tarballs left by a run that was killed (kill -9 skips writeThroughTemp's cleanup). */
async function removeStaleTemps(dir: string, base: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (entry.startsWith(`${base}.`) && entry.endsWith('.tmp')) await rm(path.join(dir, entry), { force: true });
  }
}

async function binarySources(binaries: CreateArtifactOptions['binaries']): Promise<SourceFile[]> {
  const missing: string[] = [];
  const seen = new Set<string>();
  const sources: SourceFile[] = [];
  for (const binary of binaries) {
    if (!/^[A-Za-z0-9._+-]+$/.test(binary.name) || binary.name.startsWith('.')) {
      throw new UsageError(`Invalid binary name ${JSON.stringify(binary.name)}.`);
    }
    if (seen.has(binary.name)) throw new UsageError(`Binary ${binary.name} is listed twice.`);
    seen.add(binary.name);
    const info = await stat(binary.path).catch(() => undefined);
    if (!info?.isFile()) missing.push(`${binary.name} (${binary.path})`);
    sources.push({ inner: `bin/${binary.name}`, source: binary.path, mode: BIN_MODE });
  }
  if (missing.length > 0) {
    throw new NotFoundError(`Cannot package: missing binaries: ${missing.join(', ')}.`, {
      hint: 'Run the compile stage (build-quiche build --from compile), then package again.',
      data: { missing },
    });
  }
  return sources;
}

async function certSources(certsDir: string | undefined): Promise<SourceFile[]> {
  if (certsDir === undefined) return [];
  const root = path.resolve(certsDir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new NotFoundError(`Cannot package: the certs directory ${root} does not exist.`, {
      hint: 'Run the smoke stage (it makes the test certificates), or package without certs.',
    });
  }
  const sources: SourceFile[] = [];
  const walk = async (relative: string): Promise<void> => {
    const names = (await readdir(path.join(root, relative))).sort(compareBytes);
    for (const entry of names) {
      const child = relative ? `${relative}/${entry}` : entry;
      // stat, not lstat: a symlinked cert is packaged as the file it points to.
      const childInfo = await stat(path.join(root, child));
      if (childInfo.isDirectory()) await walk(child);
      else if (childInfo.isFile()) sources.push({ inner: `certs/${child}`, source: path.join(root, child), mode: DATA_MODE });
    }
  };
  await walk('');
  return sources;
}

/** Subdirectories of certs/ that hold files (certs/ itself is always present). */
function certDirs(sources: readonly SourceFile[]): string[] {
  const dirs = new Set<string>();
  for (const file of sources) {
    const parts = file.inner.split('/');
    for (let i = 2; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [...dirs].filter((dir) => dir.startsWith('certs/'));
}
