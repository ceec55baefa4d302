import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectTarball, MANIFEST_FILE } from '../../../src/artifacts/inspect.js';
import { installArtifact, verifyInstalled } from '../../../src/artifacts/install.js';
import { buildLabel, manifestBackend, serializeManifest } from '../../../src/artifacts/manifest.js';
import type { ArtifactResult } from '../../../src/artifacts/package.js';
import { sha256File } from '../../../src/util/fs.js';
import { createStore } from '../../../src/publish/store.js';
import { FINGERPRINT, schemaOneTarball, tempDir } from '../../support/artifacts.js';

/**
 * Artifacts made before manifest schema 2 (the label under chromium.version, Chromium's fields at the
 * top level) are still installed, inspected, stored and fetched, and their manifests keep their bytes.
 */
describe('an artifact with a schema-1 manifest', () => {
  it('installs and verifies, then is found unchanged on a second install', async () => {
    const dir = await tempDir();
    const { file, name } = await schemaOneTarball(dir);
    const to = path.join(dir, 'installed');
    const first = await installArtifact(file, { to });
    expect(first).toMatchObject({ status: 'installed', name, manifest: { schema: 1 } });
    expect(buildLabel(first.manifest)).toBe('quiche-1ba0d99a5c2f');
    expect(manifestBackend(first.manifest)).toBe('quiche');
    expect(Object.keys(first.binaries)).toEqual(['epoll_quic_client']);
    expect((await verifyInstalled(first.dir)).manifest).toEqual(first.manifest);
    expect((await installArtifact(file, { to })).status).toBe('unchanged');
  });

  it('is stored under its fingerprint and fetched back with its manifest as written', async () => {
    const dir = await tempDir();
    const { file, name } = await schemaOneTarball(dir);
    const inspection = await inspectTarball(file);
    const artifact: ArtifactResult = {
      name,
      tarball: file,
      sha256: await sha256File(file),
      size: (await readFile(file)).length,
      manifest: inspection.manifest,
      manifestFile: path.join(dir, `${name}.manifest.json`),
      sumsFile: path.join(dir, 'SHA256SUMS'),
    };
    const store = createStore({ type: 'dir' }, { distDir: path.join(dir, 'dist') });
    expect((await store.put(artifact)).status).toBe('uploaded');
    const found = await store.find(FINGERPRINT);
    expect(found).toMatchObject({ name, sha256: artifact.sha256 });
    const written = await readFile(path.join(dir, 'dist', 'store', FINGERPRINT, `${name}.manifest.json`), 'utf8');
    expect(written).toBe(serializeManifest(inspection.manifest));
    const fetched = await store.fetch(found!, path.join(dir, 'elsewhere'));
    expect(fetched.sha256).toBe(artifact.sha256);
    expect(buildLabel(fetched.manifest)).toBe('quiche-1ba0d99a5c2f');
    const inner = inspection.files.get(MANIFEST_FILE)!;
    expect(inner.sha256).toBe((await inspectTarball(fetched.tarball)).files.get(MANIFEST_FILE)!.sha256);
  });
});
