import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  manifestSchema,
  parseManifest,
  readNeededLibs,
  serializeManifest,
  serverCertsOf,
  type Manifest,
} from '../../../src/artifacts/manifest.js';
import { IntegrityError } from '../../../src/errors.js';
import { sha256 } from '../../../src/util/fs.js';
import { manifestFields, tempDir } from '../../support/artifacts.js';

function sampleManifest(): Manifest {
  return manifestSchema.parse({
    ...manifestFields(),
    schema: 1,
    name: 'quiche-152.0.7977.83-unpatched-linux-x64',
    platform: 'linux-x64',
    files: [{ path: 'bin/quic_client', sha256: sha256('x'), size: 1, mode: '0755', needed: ['libc.so.6'] }],
  });
}

describe('manifest', () => {
  it('serialises identically whatever order the fields were built in', () => {
    const manifest = sampleManifest();
    const reordered = Object.fromEntries(Object.entries(manifest).reverse()) as Manifest;
    reordered.gnArgs = Object.fromEntries(Object.entries(manifest.gnArgs).reverse());
    expect(serializeManifest(reordered)).toBe(serializeManifest(manifest));
    expect(parseManifest(JSON.parse(serializeManifest(manifest)))).toEqual(manifest);
  });

  it('rejects a manifest with a bad field, naming it', () => {
    const bad = { ...sampleManifest(), fingerprint: 'not hex' };
    expect(() => parseManifest(bad)).toThrow(IntegrityError);
    expect(() => parseManifest(bad)).toThrow(/fingerprint/);
  });

  it("names the server's key file: PKCS#8 DER unless the manifest says otherwise (the standalone server reads PEM)", () => {
    const chromium = sampleManifest();
    expect(chromium.serverKeyFile).toBeUndefined();
    expect(serverCertsOf('/a', chromium)).toEqual({ certificate: '/a/certs/leaf_cert.pem', key: '/a/certs/leaf_cert.pkcs8' });
    const standalone = parseManifest({ ...chromium, backend: 'quiche', serverKeyFile: 'certs/leaf_cert.key' });
    expect(serverCertsOf('/a', standalone).key).toBe('/a/certs/leaf_cert.key');
    expect(() => parseManifest({ ...chromium, serverKeyFile: '../../etc/shadow' })).toThrow(/serverKeyFile/);
  });

  it('finds no NEEDED libraries in a file that is not ELF', async () => {
    const file = path.join(await tempDir(), 'script');
    await writeFile(file, '#!/bin/sh\n');
    expect(await readNeededLibs(file)).toEqual([]);
  });
});
