import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestSchema, parseManifest, patchsetId, readNeededLibs, serializeManifest, type Manifest } from '../../src/artifacts/manifest.js';
import { IntegrityError } from '../../src/errors.js';
import { sha256 } from '../../src/util/fs.js';
import { manifestFields, tempDir } from './helpers.js';

const patch = (file: string, content: string) => ({ file, repo: 'quiche', sha256: sha256(content), subject: file });

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
  it("names an empty patch series 'unpatched' and gives a short id that changes with any patch's content", () => {
    expect(patchsetId([])).toBe('unpatched');
    const id = patchsetId([patch('0001-a.patch', 'a'), patch('0002-b.patch', 'b')]);
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    expect(patchsetId([patch('0001-a.patch', 'a'), patch('0002-b.patch', 'B')])).not.toBe(id);
    expect(patchsetId([patch('0002-b.patch', 'b'), patch('0001-a.patch', 'a')])).not.toBe(id);
  });

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

  it('finds no NEEDED libraries in a file that is not ELF', async () => {
    const file = path.join(await tempDir(), 'script');
    await writeFile(file, '#!/bin/sh\n');
    expect(await readNeededLibs(file)).toEqual([]);
  });
});
