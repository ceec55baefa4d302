import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  backendSectionOf,
  buildLabel,
  manifestBackend,
  MANIFEST_SCHEMA_VERSION,
  parseManifest,
  readNeededLibs,
  serializeManifest,
  serverCertsOf,
  type Manifest,
} from '../../../src/artifacts/manifest.js';
import { IntegrityError } from '../../../src/errors.js';
import { sha256 } from '../../../src/util/fs.js';
import { manifestFields, schemaOneTarball, tempDir } from '../../support/artifacts.js';

const common = {
  schema: MANIFEST_SCHEMA_VERSION,
  name: 'quiche-152.0.7977.83-unpatched-linux-x64',
  platform: 'linux-x64',
  files: [{ path: 'bin/quic_client', sha256: sha256('x'), size: 1, mode: '0755', needed: ['libc.so.6'] }],
};

function sampleManifest(): Manifest {
  return parseManifest({ ...manifestFields(), ...common });
}

/** A standalone build of a quiche commit, as the standalone backend describes it. */
function standaloneManifest(): Manifest {
  const { chromium: _chromium, ...fields } = manifestFields();
  return parseManifest({
    ...fields,
    ...common,
    version: 'quiche-1ba0d99a5c2f',
    backend: 'quiche',
    inputs: { src: null, quiche: '1ba0d99a5c2fec4f4dbb7f98f251b05dcf4e2968' },
    standalone: { dependencies: [], toolchain: { compiler: 'g++-12', cc: 'gcc-12', cxx: 'g++-12', flags: ['-O1'] } },
    serverKeyFile: 'certs/leaf_cert.key',
  });
}

describe('manifest', () => {
  it('serialises identically whatever order the fields were built in', () => {
    const manifest = sampleManifest();
    const reordered = Object.fromEntries(Object.entries(manifest).reverse()) as Manifest;
    const section = backendSectionOf(manifest)!;
    expect(section.name).toBe('chromium');
    const gnArgs = section.fields.gnArgs as Record<string, unknown>;
    (reordered as Record<string, unknown>).chromium = { ...section.fields, gnArgs: Object.fromEntries(Object.entries(gnArgs).reverse()) };
    expect(serializeManifest(reordered)).toBe(serializeManifest(manifest));
    expect(parseManifest(JSON.parse(serializeManifest(manifest)))).toEqual(manifest);
  });

  it('rejects a manifest with a bad field, naming it', () => {
    const bad = { ...sampleManifest(), fingerprint: 'not hex' };
    expect(() => parseManifest(bad)).toThrow(IntegrityError);
    expect(() => parseManifest(bad)).toThrow(/fingerprint/);
  });

  it("holds exactly one backend's section, named by a word, beside the common fields", () => {
    const { chromium, ...withoutSection } = sampleManifest();
    expect(() => parseManifest(withoutSection)).toThrow(/exactly one backend section expected, found none/);
    expect(() => parseManifest({ ...withoutSection, chromium, standalone: {} })).toThrow(/found chromium, standalone/);
    expect(() => parseManifest({ ...withoutSection, 'gn-args': {} })).toThrow(/gn-args: a backend section is named/);
    expect(() => parseManifest({ ...withoutSection, chromium: 'not an object' })).toThrow(/chromium/);
  });

  it("labels a build by its version, and calls a quiche commit's label no Chromium version", () => {
    expect(buildLabel(sampleManifest())).toBe('152.0.7977.83');
    expect(manifestBackend(sampleManifest())).toBe('chromium');
    const standalone = standaloneManifest();
    expect(buildLabel(standalone)).toBe('quiche-1ba0d99a5c2f');
    expect(manifestBackend(standalone)).toBe('quiche');
    expect(backendSectionOf(standalone)).toMatchObject({ name: 'standalone', fields: { toolchain: { compiler: 'g++-12' } } });
    // No chromium key at all: every reader takes the label from buildLabel().
    expect(serializeManifest(standalone)).not.toContain('chromium');
    expect('chromium' in standalone).toBe(false);
  });

  it('reads a schema-1 manifest as it was written, bytes and all', async () => {
    const { manifest } = await schemaOneTarball(await tempDir());
    const parsed = parseManifest(manifest);
    expect(parsed.schema).toBe(1);
    expect(buildLabel(parsed)).toBe('quiche-1ba0d99a5c2f');
    expect(manifestBackend(parsed)).toBe('quiche');
    expect(backendSectionOf(parsed)).toBeUndefined();
    expect(serializeManifest(parsed)).toBe(serializeManifest(manifest as unknown as Manifest));
    expect(() => parseManifest({ ...manifest, version: 'x' })).toThrow(/version/);
  });

  it("names the server's key file: PKCS#8 DER unless the manifest says otherwise (the standalone server reads PEM)", () => {
    const chromium = sampleManifest();
    expect(chromium.serverKeyFile).toBeUndefined();
    expect(serverCertsOf('/a', chromium)).toEqual({ certificate: '/a/certs/leaf_cert.pem', key: '/a/certs/leaf_cert.pkcs8' });
    expect(serverCertsOf('/a', standaloneManifest()).key).toBe('/a/certs/leaf_cert.key');
    expect(() => parseManifest({ ...chromium, serverKeyFile: '../../etc/shadow' })).toThrow(/serverKeyFile/);
  });

  it('finds no NEEDED libraries in a file that is not ELF', async () => {
    const file = path.join(await tempDir(), 'script');
    await writeFile(file, '#!/bin/sh\n');
    expect(await readNeededLibs(file)).toEqual([]);
  });
});
