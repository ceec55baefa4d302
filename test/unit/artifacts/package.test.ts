import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { watch } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { list, type ReadEntry } from 'tar';
import { describe, expect, it } from 'vitest';
import { parseChecksums, readChecksums, verifyChecksums } from '../../../src/artifacts/checksums.js';
import { parseManifestJson } from '../../../src/artifacts/manifest.js';
import { createArtifact } from '../../../src/artifacts/package.js';
import { NotFoundError } from '../../../src/errors.js';
import { sha256 } from '../../../src/util/fs.js';
import { makeInputs, packageSample } from '../../support/artifacts.js';

interface Listed {
  path: string;
  type: string;
  mode: number;
  uid: number | undefined;
  gid: number | undefined;
  uname: string | undefined;
  gname: string | undefined;
  mtime: Date | undefined;
  data: Buffer;
}

async function entriesOf(file: string): Promise<Listed[]> {
  const entries: Listed[] = [];
  await list({
    file,
    onReadEntry: (entry: ReadEntry) => {
      const chunks: Buffer[] = [];
      const { path: p, type, mode, uid, gid, uname, gname, mtime } = entry;
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () =>
        entries.push({ path: p, type, mode: (mode ?? 0) & 0o7777, uid, gid, uname, gname, mtime, data: Buffer.concat(chunks) }),
      );
    },
  });
  return entries;
}

describe('createArtifact', () => {
  it('gives byte-identical tarballs for the same inputs packaged twice', async () => {
    const inputs = await makeInputs();
    const first = await createArtifact(inputs.options);
    const firstBytes = await readFile(first.tarball);
    const second = await createArtifact({ ...inputs.options, distDir: path.join(inputs.root, 'dist2') });
    expect(second.sha256).toBe(first.sha256);
    expect(sha256(await readFile(second.tarball))).toBe(sha256(firstBytes));
  });

  it('gives a different tarball when a binary changes', async () => {
    const inputs = await makeInputs();
    const first = await createArtifact(inputs.options);
    await writeFile(inputs.options.binaries[0]!.path, '#!/bin/sh\necho changed\n');
    const second = await createArtifact(inputs.options);
    expect(second.sha256).not.toBe(first.sha256);
  });

  it('lays out bin/, certs/, manifest.json and SHA256SUMS under one top-level directory, sorted', async () => {
    const { artifact } = await packageSample();
    const entries = await entriesOf(artifact.tarball);
    const top = artifact.name;
    expect(entries.map((e) => e.path)).toEqual([
      `${top}/`,
      `${top}/SHA256SUMS`,
      `${top}/bin/`,
      `${top}/bin/epoll_quic_client`,
      `${top}/bin/epoll_quic_server`,
      `${top}/bin/quic_client`,
      `${top}/bin/quic_server`,
      `${top}/certs/`,
      `${top}/certs/leaf_cert.pem`,
      `${top}/certs/leaf_cert.pkcs8`,
      `${top}/manifest.json`,
    ]);
    expect(path.basename(artifact.tarball)).toBe(`${top}.tar.gz`);
  });

  it('normalises owner, times and modes: uid/gid 0, no names, fixed mtime, 0755 for bin and dirs, 0644 otherwise', async () => {
    const { artifact } = await packageSample();
    for (const entry of await entriesOf(artifact.tarball)) {
      expect(entry).toMatchObject({ uid: 0, gid: 0, uname: '', gname: '' });
      expect(entry.mtime?.toISOString()).toBe('2000-01-01T00:00:00.000Z');
      const executable = entry.type === 'Directory' || entry.path.includes('/bin/');
      expect(entry.mode, entry.path).toBe(executable ? 0o755 : 0o644);
    }
  });

  it('takes the entry mtime from the caller when given (SOURCE_DATE_EPOCH-style)', async () => {
    const inputs = await makeInputs();
    const artifact = await createArtifact({ ...inputs.options, mtime: new Date(1_700_000_000_000) });
    const entries = await entriesOf(artifact.tarball);
    expect(new Set(entries.map((e) => e.mtime?.getTime()))).toEqual(new Set([1_700_000_000_000]));
  });

  it('writes a gzip header without a timestamp and with OS Unix', async () => {
    const { artifact } = await packageSample();
    const head = (await readFile(artifact.tarball)).subarray(0, 10);
    expect([...head.subarray(0, 3)]).toEqual([0x1f, 0x8b, 8]);
    expect(head[3]).toBe(0); // no name, comment or extra fields
    expect(head.readUInt32LE(4)).toBe(0);
    expect(head[9]).toBe(3);
  });

  it('records every file but manifest.json and SHA256SUMS in the manifest, with matching sha256, size and mode', async () => {
    const { artifact } = await packageSample();
    const entries = await entriesOf(artifact.tarball);
    const files = entries.filter((e) => e.type === 'File' && !/\/(manifest\.json|SHA256SUMS)$/.test(e.path));
    const manifest = parseManifestJson(entries.find((e) => e.path.endsWith('/manifest.json'))!.data.toString());
    expect(manifest).toEqual(artifact.manifest);
    expect(manifest.files.map((f) => f.path)).toEqual(files.map((e) => e.path.slice(artifact.name.length + 1)));
    for (const entry of files) {
      const record = manifest.files.find((f) => `${artifact.name}/${f.path}` === entry.path)!;
      expect(record.sha256).toBe(sha256(entry.data));
      expect(record.size).toBe(entry.data.length);
      expect(record.mode).toBe(`0${entry.mode.toString(8)}`);
    }
  });

  it('keeps the given manifest fields and holds no wall-clock time', async () => {
    const { artifact } = await packageSample();
    const text = await readFile(artifact.manifestFile, 'utf8');
    expect(artifact.manifest).toMatchObject({
      schema: 2,
      platform: 'linux-x64',
      backend: 'chromium',
      chromium: { builder: 'autoninja' },
      patches: { patchset: 'unpatched' },
    });
    expect(text).not.toMatch(/20\d\d-\d\d-\d\dT/);
  });

  it('lists every other file in the inner SHA256SUMS, which sha256sum -c accepts', async () => {
    const { artifact, inputs } = await packageSample();
    const entries = await entriesOf(artifact.tarball);
    const sums = parseChecksums(entries.find((e) => e.path.endsWith('/SHA256SUMS'))!.data.toString());
    const others = entries.filter((e) => e.type === 'File' && !e.path.endsWith('/SHA256SUMS'));
    expect(sums.map((s) => s.path)).toEqual(others.map((e) => e.path.slice(artifact.name.length + 1)));
    for (const entry of others) expect(sums.find((s) => entry.path.endsWith(`/${s.path}`))!.sha256).toBe(sha256(entry.data));

    const unpacked = path.join(inputs.root, 'unpacked');
    await mkdir(unpacked);
    execFileSync('tar', ['-xzf', artifact.tarball, '-C', unpacked]);
    expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: path.join(unpacked, artifact.name) }).toString()).toMatch(
      /manifest\.json: OK/,
    );
  });

  it('records the NEEDED libraries of a real ELF binary', async () => {
    const inputs = await makeInputs();
    const elf = path.join(inputs.root, 'hello');
    try {
      await writeFile(`${elf}.c`, 'int main(void) { return 0; }\n');
      execFileSync('cc', ['-o', elf, `${elf}.c`], { stdio: 'ignore' });
    } catch {
      execFileSync('cp', ['/bin/true', elf]);
    }
    const artifact = await createArtifact({ ...inputs.options, binaries: [{ name: 'quic_client', path: elf }] });
    const record = artifact.manifest.files.find((f) => f.path === 'bin/quic_client')!;
    expect(record.needed).toContain('libc.so.6');
    expect(artifact.manifest.files.find((f) => f.path === 'certs/leaf_cert.pem')!.needed).toBeUndefined();
  });

  it('writes <name>.manifest.json and a dist SHA256SUMS that lists the tarball and keeps other entries', async () => {
    const inputs = await makeInputs();
    await mkdir(inputs.distDir, { recursive: true });
    await writeFile(path.join(inputs.distDir, 'other.tar.gz'), 'other');
    await writeFile(path.join(inputs.distDir, 'SHA256SUMS'), `${sha256('other')}  other.tar.gz\n${'0'.repeat(64)}  deleted.tar.gz\n`);
    const artifact = await createArtifact(inputs.options);
    expect(artifact.sumsFile).toBe(path.join(inputs.distDir, 'SHA256SUMS'));
    expect(await readChecksums(artifact.sumsFile)).toEqual([
      { path: 'other.tar.gz', sha256: sha256('other') },
      { path: `${artifact.name}.tar.gz`, sha256: artifact.sha256 },
    ]);
    expect((await verifyChecksums(inputs.distDir, await readChecksums(artifact.sumsFile))).ok).toBe(true);
    expect(parseManifestJson(await readFile(path.join(inputs.distDir, `${artifact.name}.manifest.json`), 'utf8'))).toEqual(
      artifact.manifest,
    );
  });

  it('fails on a missing binary, naming it, and leaves nothing in dist', async () => {
    const inputs = await makeInputs();
    const binaries = [...inputs.options.binaries, { name: 'extra', path: path.join(inputs.root, 'nope') }];
    const error = await createArtifact({ ...inputs.options, binaries }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toContain('extra');
    expect(await readdir(inputs.distDir).catch(() => [])).toEqual([]);
  });

  it('leaves no partial tarball in dist when packaging is interrupted while writing', async () => {
    const inputs = await makeInputs();
    const big = path.join(inputs.root, 'big');
    await writeFile(big, randomBytes(24 * 1024 * 1024));
    await mkdir(inputs.distDir);
    const controller = new AbortController();
    const watcher = watch(inputs.distDir, (_event, name) => {
      if (name?.endsWith('.tmp')) controller.abort();
    });
    try {
      const binaries = [{ name: 'quic_server', path: big }];
      await expect(createArtifact({ ...inputs.options, binaries, signal: controller.signal })).rejects.toThrow();
    } finally {
      watcher.close();
    }
    expect(controller.signal.aborted).toBe(true);
    expect(await readdir(inputs.distDir)).toEqual([]);
  });

  it('removes temp tarballs left by a killed run', async () => {
    const inputs = await makeInputs();
    await mkdir(inputs.distDir);
    const stale = `${inputs.options.name}.tar.gz.12345.deadbeef.tmp`;
    await writeFile(path.join(inputs.distDir, stale), 'partial');
    await createArtifact(inputs.options);
    expect(await readdir(inputs.distDir)).not.toContain(stale);
  });
});
