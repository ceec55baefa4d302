import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installArtifact } from '../../../src/artifacts/install.js';
import { createArtifact } from '../../../src/artifacts/package.js';
import { parseStoreIndex } from '../../../src/artifacts/store-index.js';
import { IntegrityError } from '../../../src/errors.js';
import { DirStore } from '../../../src/publish/dir-store.js';
import { createStore } from '../../../src/publish/store.js';
import { sha256File } from '../../../src/util/fs.js';
import { FINGERPRINT, packageSample } from '../../support/artifacts.js';

async function storeWithSample() {
  const sample = await packageSample();
  const store = createStore({ type: 'dir' }, { distDir: sample.inputs.distDir });
  return { ...sample, store, root: path.join(sample.inputs.distDir, 'store') };
}

describe('directory store', () => {
  it('lives under <distDir>/store unless configured elsewhere', async () => {
    const { store, root } = await storeWithSample();
    expect(store.describe()).toBe(`dir:${root}`);
    expect(createStore({ type: 'dir', path: '/srv/artifacts' }, { distDir: '/x' }).describe()).toBe('dir:/srv/artifacts');
  });

  it('stores an artifact under its fingerprint and indexes it', async () => {
    const { store, root, artifact } = await storeWithSample();
    const result = await store.put(artifact);
    expect(result).toEqual({ status: 'uploaded', location: path.join(root, FINGERPRINT), replaced: [] });
    expect((await readdir(path.join(root, FINGERPRINT))).sort()).toEqual(
      ['SHA256SUMS', `${artifact.name}.manifest.json`, `${artifact.name}.tar.gz`].sort(),
    );
    const index = parseStoreIndex(await readFile(path.join(root, 'index.json'), 'utf8'), 'index.json');
    expect(index.artifacts[FINGERPRINT]).toMatchObject({
      name: artifact.name,
      sha256: artifact.sha256,
      size: artifact.size,
      tarball: `${FINGERPRINT}/${artifact.name}.tar.gz`,
    });
  });

  it('finds a stored artifact by fingerprint', async () => {
    const { store, artifact } = await storeWithSample();
    await store.put(artifact);
    expect(await store.find(FINGERPRINT)).toMatchObject({
      fingerprint: FINGERPRINT,
      name: artifact.name,
      sha256: artifact.sha256,
      size: artifact.size,
      manifest: artifact.manifest,
    });
  });

  it('finds nothing for an unknown fingerprint', async () => {
    const { store, artifact } = await storeWithSample();
    await store.put(artifact);
    expect(await store.find('0123456789abcdef')).toBeUndefined();
  });

  it('reports exists and writes nothing when the same artifact is put again', async () => {
    const { store, root, artifact } = await storeWithSample();
    await store.put(artifact);
    const indexBefore = await stat(path.join(root, 'index.json'));
    const tarballBefore = await stat(path.join(root, FINGERPRINT, `${artifact.name}.tar.gz`));
    expect(await store.put(artifact)).toMatchObject({ status: 'exists', replaced: [] });
    expect((await stat(path.join(root, 'index.json'))).mtimeMs).toBe(indexBefore.mtimeMs);
    expect((await stat(path.join(root, FINGERPRINT, `${artifact.name}.tar.gz`))).ino).toBe(tarballBefore.ino);
  });

  it('replaces an artifact with a different tarball for the same fingerprint (newest wins) and says so', async () => {
    const { store, inputs, artifact } = await storeWithSample();
    await store.put(artifact);
    await writeFile(inputs.options.binaries[0]!.path, '#!/bin/sh\necho rebuilt\n');
    const rebuilt = await createArtifact(inputs.options);
    expect(await store.put(rebuilt)).toMatchObject({ status: 'uploaded', replaced: [`${artifact.name}.tar.gz`] });
    expect((await store.find(FINGERPRINT))?.sha256).toBe(rebuilt.sha256);
  });

  it('fetches into a destination dir as a verified dist dir', async () => {
    const { store, inputs, artifact } = await storeWithSample();
    await store.put(artifact);
    const dest = path.join(inputs.root, 'elsewhere');
    const fetched = await store.fetch((await store.find(FINGERPRINT))!, dest);
    expect(fetched).toMatchObject({ name: artifact.name, sha256: artifact.sha256, size: artifact.size, manifest: artifact.manifest });
    expect(await sha256File(fetched.tarball)).toBe(artifact.sha256);
    expect((await readdir(dest)).sort()).toEqual(['SHA256SUMS', `${artifact.name}.manifest.json`, `${artifact.name}.tar.gz`].sort());
  });

  it('refuses to fetch a stored tarball that was changed, leaving nothing behind', async () => {
    const { store, inputs, artifact } = await storeWithSample();
    const put = await store.put(artifact);
    const found = (await store.find(FINGERPRINT))!;
    await writeFile(path.join(put.location, `${artifact.name}.tar.gz`), 'corrupted');
    const dest = path.join(inputs.root, 'elsewhere');
    await expect(store.fetch(found, dest)).rejects.toBeInstanceOf(IntegrityError);
    expect(await readdir(dest)).toEqual([]);
  });

  it('serves installArtifact directly: a store dir, chosen by fingerprint', async () => {
    const { store, root, inputs, artifact } = await storeWithSample();
    await store.put(artifact);
    const result = await installArtifact(root, { to: path.join(inputs.root, 'demo'), select: FINGERPRINT.slice(0, 12) });
    expect(result).toMatchObject({ name: artifact.name, checkedAgainst: path.join(root, FINGERPRINT, 'SHA256SUMS') });
  });

  it('rejects a fingerprint that is not hex instead of touching other paths', async () => {
    const store = new DirStore('/nonexistent');
    await expect(store.find('../../etc')).rejects.toThrow(/not a build fingerprint/);
  });
});

describe('directory store after a put was killed (kill -9 between staging and rename)', () => {
  const deadPid = () => {
    const child = spawnSync('true');
    return child.pid;
  };

  it('the next put sweeps the dead put staging dirs of this host, even when the artifact is already stored', async () => {
    const { store, root, artifact } = await storeWithSample();
    await store.put(artifact);
    const tag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
    const leftover = path.join(root, `.put-${tag}-${deadPid()}-${FINGERPRINT.slice(0, 16)}-0badf00d`);
    await mkdir(leftover);
    await writeFile(path.join(leftover, `${artifact.name}.tar.gz`), 'half a tarball');
    await mkdir(`${leftover}.old`);
    expect((await store.put(artifact)).status).toBe('exists');
    expect((await readdir(root)).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('leaves a running put and other hosts staging dirs alone', async () => {
    const { store, root, artifact } = await storeWithSample();
    const tag = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
    const running = `.put-${tag}-${process.pid}-${FINGERPRINT.slice(0, 16)}-00000001`;
    const otherHost = `.put-00000000-${deadPid()}-${FINGERPRINT.slice(0, 16)}-00000002`;
    await mkdir(path.join(root, running), { recursive: true });
    await mkdir(path.join(root, otherHost));
    await store.put(artifact);
    expect((await readdir(root)).filter((name) => name.startsWith('.')).sort()).toEqual([running, otherHost].sort());
  });
});
