import { copyFile, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { renameDirInto } from '../artifacts/atomic.js';
import { formatChecksums, parseChecksums, SUMS_FILE } from '../artifacts/checksums.js';
import { buildLabel, parseManifestJson, serializeManifest, type Manifest } from '../artifacts/manifest.js';
import type { ArtifactResult } from '../artifacts/package.js';
import { parseStoreIndex, STORE_INDEX_FILE, type StoreIndex, type StoreIndexEntry } from '../artifacts/store-index.js';
import { IntegrityError } from '../errors.js';
import { sha256File, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { changedSincePackaged, receiveTarball } from './transfer.js';
import { assertFingerprint } from './assert-fingerprint.js';
import { stagingPath, sweepDeadStaging } from './put-staging.js';
import type { ArtifactStore, PutResult, StoreCallOptions, StoredArtifact } from './types.js';

/**
 * A directory store (the default). Layout, one directory per fingerprint, each a valid dist dir:
 *
 *   <root>/<fingerprint>/<name>.tar.gz
 *   <root>/<fingerprint>/<name>.manifest.json
 *   <root>/<fingerprint>/SHA256SUMS
 *   <root>/index.json            fingerprint -> name, paths, sha256, size
 *
 * The per-fingerprint directories are the truth; index.json is rebuilt from them after every put
 * (written atomically), so an interrupted or concurrent put never leaves it pointing at nothing.
 * A put for a fingerprint the store holds with a different sha256 replaces it: newest wins, and the
 * result lists what was replaced.
 */
export class DirStore implements ArtifactStore {
  constructor(readonly root: string) {}

  describe(): string {
    return `dir:${this.root}`;
  }

  /** Incomplete or damaged entries count as absent: the next put of that fingerprint repairs them. */
  async find(fingerprint: string): Promise<StoredArtifact | undefined> {
    assertFingerprint(fingerprint);
    const stored = await this.read(fingerprint).catch(() => undefined);
    if (!stored || stored.manifest.fingerprint !== fingerprint) return undefined;
    const { entry, manifest } = stored;
    const location = path.join(this.root, fingerprint);
    return { store: this.describe(), fingerprint, name: entry.name, sha256: entry.sha256, size: entry.size, location, manifest };
  }

  async put(artifact: ArtifactResult, options: StoreCallOptions = {}): Promise<PutResult> {
    const fingerprint = artifact.manifest.fingerprint;
    assertFingerprint(fingerprint);
    const dir = path.join(this.root, fingerprint);
    const tarballName = `${artifact.name}.tar.gz`;
    await sweepDeadStaging(this.root);
    const existing = (await this.read(fingerprint).catch(() => undefined))?.entry;
    if (existing?.sha256 === artifact.sha256 && (await sha256File(path.join(this.root, existing.tarball))) === artifact.sha256) {
      if ((await this.indexedSha256(fingerprint)) !== artifact.sha256) await this.rebuildIndex();
      return { status: 'exists', location: dir, replaced: [] };
    }

    await mkdir(this.root, { recursive: true });
    const staging = stagingPath(this.root, fingerprint);
    try {
      await mkdir(staging);
      const copy = path.join(staging, tarballName);
      await copyFile(artifact.tarball, copy);
      options.signal?.throwIfAborted();
      const sha256 = await sha256File(copy);
      if (sha256 !== artifact.sha256) throw changedSincePackaged(artifact, sha256, 'storing');
      await writeFileAtomic(path.join(staging, `${artifact.name}.manifest.json`), serializeManifest(artifact.manifest));
      await writeFileAtomic(path.join(staging, SUMS_FILE), formatChecksums([{ path: tarballName, sha256 }]));
      await renameDirInto(staging, dir, `${staging}.old`);
    } finally {
      await rm(staging, { recursive: true, force: true });
      await rm(`${staging}.old`, { recursive: true, force: true });
    }
    await this.rebuildIndex();
    const replaced = existing && existing.sha256 !== artifact.sha256 ? [path.basename(existing.tarball)] : [];
    return { status: 'uploaded', location: dir, replaced };
  }

  async fetch(stored: StoredArtifact, destDir: string, options: StoreCallOptions = {}): Promise<ArtifactResult> {
    assertFingerprint(stored.fingerprint);
    const { entry } = await this.read(stored.fingerprint);
    return receiveTarball(stored, path.resolve(destDir), async (tmp) => {
      await copyFile(path.join(this.root, entry.tarball), tmp);
      options.signal?.throwIfAborted();
    });
  }

  /** The index entry and manifest for one fingerprint, read from its directory (not from index.json). */
  private async read(fingerprint: string): Promise<{ entry: StoreIndexEntry; manifest: Manifest }> {
    const dir = path.join(this.root, fingerprint);
    const sumsFile = path.join(dir, SUMS_FILE);
    const tarballs = parseChecksums(await readFile(sumsFile, 'utf8'), sumsFile).filter((e) => e.path.endsWith('.tar.gz'));
    const [sums] = tarballs;
    if (!sums || tarballs.length !== 1) throw new IntegrityError(`${sumsFile} should list exactly one tarball.`);
    const name = sums.path.replace(/\.tar\.gz$/, '');
    const manifestFile = path.join(dir, `${name}.manifest.json`);
    const manifest = parseManifestJson(await readFile(manifestFile, 'utf8'), manifestFile);
    const { size } = await stat(path.join(dir, sums.path));
    const entry: StoreIndexEntry = {
      name,
      label: buildLabel(manifest),
      chromiumVersion: buildLabel(manifest),
      patchset: manifest.patches.patchset,
      tarball: `${fingerprint}/${sums.path}`,
      manifest: `${fingerprint}/${name}.manifest.json`,
      sums: `${fingerprint}/${SUMS_FILE}`,
      sha256: sums.sha256,
      size,
    };
    return { entry, manifest };
  }

  private async indexedSha256(fingerprint: string): Promise<string | undefined> {
    const file = path.join(this.root, STORE_INDEX_FILE);
    const text = await readFile(file, 'utf8').catch(() => undefined);
    try {
      return text === undefined ? undefined : parseStoreIndex(text, file).artifacts[fingerprint]?.sha256;
    } catch {
      return undefined; // a damaged index is simply rebuilt
    }
  }

  private async rebuildIndex(): Promise<void> {
    const index: StoreIndex = { schema: 1, artifacts: {} };
    const names = (await readdir(this.root)).filter((name) => /^[0-9a-f]{8,128}$/.test(name)).sort();
    for (const fingerprint of names) {
      const stored = await this.read(fingerprint).catch(() => undefined);
      if (stored) index.artifacts[fingerprint] = stored.entry;
    }
    await writeJsonAtomic(path.join(this.root, STORE_INDEX_FILE), index);
  }
}
