import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Header } from 'tar';
import { afterEach } from 'vitest';
import { removeTempDirs, tempDir } from '../../testkit/helpers.js';
import { artifactName, type ManifestFields } from '../../src/artifacts/manifest.js';
import { createArtifact, type ArtifactResult, type CreateArtifactOptions } from '../../src/artifacts/package.js';

// Every tempDir() of a test is removed after it.
afterEach(removeTempDirs);
export { tempDir };

export const BINARIES = ['epoll_quic_client', 'epoll_quic_server', 'quic_client', 'quic_server'] as const;
export const VERSION = '152.0.7977.83';
export const FINGERPRINT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

export function manifestFields(overrides: Partial<ManifestFields> = {}): ManifestFields {
  return {
    chromium: { version: VERSION },
    inputs: { src: 'f'.repeat(40), quiche: 'e'.repeat(40), depotTools: 'd'.repeat(40), gnVersion: 'git_revision:abc' },
    patches: { patchset: 'unpatched', series: [] },
    gnArgs: { is_debug: false, symbol_level: 0, is_component_build: false },
    targets: ['net:quic_client', 'net:quic_server'],
    builder: 'autoninja',
    smoke: { fetched: true, migration: 'skipped' },
    fingerprint: FINGERPRINT,
    tool: { name: 'build-quiche', version: '0.1.0' },
    ...overrides,
  };
}

export interface Inputs {
  root: string;
  distDir: string;
  options: CreateArtifactOptions;
}

/** Four small executable scripts standing in for the toy binaries, a certs dir, and packaging options. */
export async function makeInputs(overrides: Partial<ManifestFields> = {}): Promise<Inputs> {
  const root = await tempDir();
  const out = path.join(root, 'out');
  const certs = path.join(root, 'certs');
  await mkdir(out, { recursive: true });
  await mkdir(certs, { recursive: true });
  for (const name of BINARIES) await writeFile(path.join(out, name), `#!/bin/sh\necho ${name}\n`, { mode: 0o700 });
  await writeFile(path.join(certs, 'leaf_cert.pem'), '-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n');
  await writeFile(path.join(certs, 'leaf_cert.pkcs8'), 'fake key\n', { mode: 0o600 });
  const fields = manifestFields(overrides);
  const distDir = path.join(root, 'dist');
  return {
    root,
    distDir,
    options: {
      distDir,
      name: artifactName(fields.chromium.version, fields.patches.patchset),
      binaries: BINARIES.map((name) => ({ name, path: path.join(out, name) })),
      certsDir: certs,
      manifest: fields,
    },
  };
}

export async function packageSample(overrides: Partial<ManifestFields> = {}): Promise<{ inputs: Inputs; artifact: ArtifactResult }> {
  const inputs = await makeInputs(overrides);
  return { inputs, artifact: await createArtifact(inputs.options) };
}

export interface RawEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'FIFO' | 'CharacterDevice';
  linkpath?: string;
  data?: string;
  mode?: number;
}

/** A .tar.gz with exactly these headers, however hostile (for the install refusal tests). */
export async function rawTarGz(file: string, entries: RawEntry[]): Promise<void> {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const data = Buffer.from(entry.data ?? '');
    const type = entry.type ?? 'File';
    const header = new Header({
      path: entry.path,
      type,
      linkpath: entry.linkpath,
      mode: entry.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      uid: 0,
      gid: 0,
      size: type === 'File' ? data.length : 0,
      mtime: new Date(0),
    });
    header.encode();
    blocks.push(header.block as Buffer);
    if (type === 'File') blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  await writeFile(file, await promisify(gzip)(Buffer.concat(blocks)));
}

/** Everything in `dir` and its parent that an install could have left: the destination and temp siblings. */
export async function leftovers(to: string): Promise<string[]> {
  const inTo = await readdir(to).catch(() => [] as string[]);
  const siblings = (await readdir(path.dirname(to))).filter((name) => name.startsWith(`.${path.basename(to)}.`));
  return [...inTo, ...siblings];
}
