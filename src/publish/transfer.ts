import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { tempSibling } from '../util/fs.js';
import { mergeChecksums, SUMS_FILE } from '../artifacts/checksums.js';
import { inspectTarball } from '../artifacts/inspect.js';
import { serializeManifest } from '../artifacts/manifest.js';
import type { ArtifactResult } from '../artifacts/package.js';
import { IntegrityError } from '../errors.js';
import { sha256File, writeFileAtomic } from '../util/fs.js';
import type { StoredArtifact } from './types.js';

/**
 * How every store's fetch ends: `produce` copies or downloads the tarball to a temp file in destDir,
 * which is checked (sha256 against the store's record, inner sums and manifest, fingerprint) and only
 * then renamed to `<name>.tar.gz`, with its manifest copy and the merged SHA256SUMS beside it. The
 * temp file is always removed.
 */
export async function receiveTarball(
  stored: StoredArtifact,
  destDir: string,
  produce: (tmp: string) => Promise<void>,
): Promise<ArtifactResult> {
  await mkdir(destDir, { recursive: true });
  const tmp = tempSibling(path.join(destDir, `${stored.name}.tar.gz`));
  try {
    await produce(tmp);
    const sha256 = await sha256File(tmp);
    if (sha256 !== stored.sha256) {
      const what = `${stored.name}.tar.gz from ${stored.store}`;
      throw new IntegrityError(`${what} does not match its checksum (sha256 ${sha256}, expected ${stored.sha256}).`, {
        hint: 'The stored copy is damaged or was changed; rebuild and publish it again.',
      });
    }
    const inspection = await inspectTarball(tmp, `${stored.name}.tar.gz from ${stored.store}`);
    if (inspection.manifest.fingerprint !== stored.fingerprint || inspection.name !== stored.name) {
      const found = `${inspection.name} with fingerprint ${inspection.manifest.fingerprint}`;
      throw new IntegrityError(`${stored.name}.tar.gz from ${stored.store} holds ${found}, not ${stored.fingerprint}.`);
    }
    const tarball = path.join(destDir, `${stored.name}.tar.gz`);
    await rename(tmp, tarball);
    const manifestFile = path.join(destDir, `${stored.name}.manifest.json`);
    await writeFileAtomic(manifestFile, serializeManifest(inspection.manifest));
    const sumsFile = path.join(destDir, SUMS_FILE);
    await mergeChecksums(sumsFile, [{ path: path.basename(tarball), sha256 }]);
    const { size } = await stat(tarball);
    return { name: stored.name, tarball, sha256, size, manifest: inspection.manifest, manifestFile, sumsFile };
  } finally {
    await rm(tmp, { force: true });
  }
}

/** A tarball must still be what was packaged before it goes into a store. */
export function changedSincePackaged(artifact: ArtifactResult, actual: string, action: string): IntegrityError {
  return new IntegrityError(
    `${artifact.tarball} changed since it was packaged (sha256 ${actual}, expected ${artifact.sha256}); not ${action} it.`,
    { hint: 'Package again (build-quiche build --from package).' },
  );
}
