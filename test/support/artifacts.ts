import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Header } from 'tar';
import { afterEach } from 'vitest';
import { removeTempDirs, tempDir } from '../../testkit/helpers.js';
import { artifactName, serializeManifest, type Manifest, type ManifestFields } from '../../src/artifacts/manifest.js';
import { createArtifact, type ArtifactResult, type CreateArtifactOptions } from '../../src/artifacts/package.js';
import { formatChecksums } from '../../src/artifacts/checksums.js';
import { sha256 } from '../../src/util/fs.js';

// Every tempDir() of a test is removed after it.
afterEach(removeTempDirs);
export { tempDir };

export const BINARIES = ['epoll_quic_client', 'epoll_quic_server', 'quic_client', 'quic_server'] as const;
export const VERSION = '152.0.7977.83';
export const FINGERPRINT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

export function manifestFields(overrides: Partial<ManifestFields> = {}): ManifestFields {
  return {
    version: VERSION,
    backend: 'chromium',
    inputs: { src: 'f'.repeat(40), quiche: 'e'.repeat(40) },
    chromium: {
      version: VERSION,
      depotTools: 'd'.repeat(40),
      gnVersion: 'git_revision:abc',
      gnArgs: { is_debug: false, symbol_level: 0, is_component_build: false },
      builder: 'autoninja',
    },
    patches: { patchset: 'unpatched', series: [] },
    targets: ['net:quic_client', 'net:quic_server'],
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
      name: artifactName(fields.version, fields.patches.patchset),
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

/**
 * A standalone build's artifact as build-quiche wrote it before manifest schema 2: the label under
 * `chromium.version`, Chromium's fields and the dependency pins at the top level. One binary, no certs.
 */
export async function schemaOneTarball(dir: string): Promise<{ file: string; name: string; manifest: Record<string, unknown> }> {
  const name = 'quiche-quiche-1ba0d99a5c2f-8b63d5e7a424-standalone-linux-x64';
  const binary = '#!/bin/sh\necho epoll_quic_client\n';
  const manifest = {
    schema: 1,
    name,
    chromium: { version: 'quiche-1ba0d99a5c2f' },
    inputs: { src: null, quiche: '1ba0d99a5c2fec4f4dbb7f98f251b05dcf4e2968', depotTools: null, gnVersion: null },
    patches: { patchset: '8b63d5e7a424', series: [] },
    gnArgs: {},
    targets: ['//quiche:quic_client', '//quiche:quic_server'],
    builder: 'ninja',
    platform: 'linux-x64',
    files: [{ path: 'bin/epoll_quic_client', sha256: sha256(binary), size: binary.length, mode: '0755' }],
    smoke: null,
    backend: 'quiche',
    dependencies: [
      { name: 'boringssl', url: 'http://m/boringssl', ref: '0.20260508.0', commit: '8fd77b6bedc4111625f9c51acf19f519fc4cf1d4' },
    ],
    toolchain: { compiler: 'g++-12 (Debian 12.2.0-14+deb12u1) 12.2.0', cc: 'gcc-12', cxx: 'g++-12', flags: ['-O1'] },
    serverKeyFile: 'certs/leaf_cert.key',
    fingerprint: FINGERPRINT,
    tool: { name: 'build-quiche', version: '0.1.0' },
  };
  const manifestText = serializeManifest(manifest as unknown as Manifest);
  const sums = formatChecksums([
    { path: 'bin/epoll_quic_client', sha256: sha256(binary) },
    { path: 'manifest.json', sha256: sha256(manifestText) },
  ]);
  const file = path.join(dir, `${name}.tar.gz`);
  await rawTarGz(file, [
    { path: `${name}/`, type: 'Directory' },
    { path: `${name}/bin/`, type: 'Directory' },
    { path: `${name}/bin/epoll_quic_client`, data: binary, mode: 0o755 },
    { path: `${name}/manifest.json`, data: manifestText },
    { path: `${name}/SHA256SUMS`, data: sums },
  ]);
  return { file, name, manifest };
}
