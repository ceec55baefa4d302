import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatChecksums } from '../../../src/artifacts/checksums.js';
import { installArtifact, verifyInstalled } from '../../../src/artifacts/install.js';
import { IntegrityError } from '../../../src/errors.js';
import { sha256File } from '../../../src/util/fs.js';
import { BINARIES, leftovers, packageSample, rawTarGz, tempDir, type RawEntry } from '../../support/artifacts.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Serve `dir` over loopback HTTP. */
async function serve(dir: string): Promise<string> {
  const server = createServer((req, res) => {
    const file = path.join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    readFile(file).then(
      (data) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(data),
      () => res.writeHead(404).end('not found'),
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function expectRefused(source: string, to: string, message: RegExp): Promise<void> {
  const error = await installArtifact(source, { to }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(IntegrityError);
  expect((error as Error).message).toMatch(message);
  expect(await leftovers(to)).toEqual([]);
}

/** A hostile archive: a plausible artifact top dir plus the given entries. */
async function hostile(entries: RawEntry[]): Promise<{ file: string; to: string }> {
  const dir = await tempDir();
  const file = path.join(dir, 'quiche-1-unpatched-linux-x64.tar.gz');
  await rawTarGz(file, [{ path: 'quiche-1-unpatched-linux-x64/', type: 'Directory' }, ...entries]);
  return { file, to: path.join(dir, 'installed') };
}

describe('installArtifact', () => {
  it('extracts a verified artifact from a dist dir and returns the binaries by name', async () => {
    const { inputs, artifact } = await packageSample();
    const to = path.join(inputs.root, 'demo', 'quic');
    const result = await installArtifact(inputs.distDir, { to });
    expect(result).toMatchObject({ status: 'installed', name: artifact.name, dir: path.join(to, artifact.name), sha256: artifact.sha256 });
    expect(result.checkedAgainst).toBe(artifact.sumsFile);
    expect(Object.keys(result.binaries).sort()).toEqual([...BINARIES]);
    expect(execFileSync(result.binaries.quic_client!).toString()).toBe('quic_client\n');
    expect(result.manifest).toEqual(artifact.manifest);
    expect(await leftovers(to)).toEqual([artifact.name]);
  });

  it('installs from the tarball path, checking the SHA256SUMS next to it', async () => {
    const { inputs, artifact } = await packageSample();
    const result = await installArtifact(artifact.tarball, { to: path.join(inputs.root, 'to') });
    expect(result.checkedAgainst).toBe(artifact.sumsFile);
  });

  it('installs a bare tarball with no SHA256SUMS beside it on the strength of its inner checksums', async () => {
    const { inputs, artifact } = await packageSample();
    const lone = path.join(inputs.root, 'lone', path.basename(artifact.tarball));
    await mkdir(path.dirname(lone));
    await copyFile(artifact.tarball, lone);
    const result = await installArtifact(lone, { to: path.join(inputs.root, 'to') });
    expect(result).toMatchObject({ status: 'installed', checkedAgainst: undefined });
  });

  it('treats re-installing the same artifact as a no-op that re-verifies', async () => {
    const { inputs } = await packageSample();
    const to = path.join(inputs.root, 'to');
    const first = await installArtifact(inputs.distDir, { to });
    const before = await stat(first.binaries.quic_server!);
    const again = await installArtifact(inputs.distDir, { to });
    expect(again.status).toBe('unchanged');
    expect(again.dir).toBe(first.dir);
    const after = await stat(first.binaries.quic_server!);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('replaces an installed copy that no longer verifies', async () => {
    const { inputs } = await packageSample();
    const to = path.join(inputs.root, 'to');
    const first = await installArtifact(inputs.distDir, { to });
    await writeFile(first.binaries.quic_client!, 'tampered');
    const again = await installArtifact(inputs.distDir, { to });
    expect(again.status).toBe('replaced');
    await expect(verifyInstalled(again.dir)).resolves.toMatchObject({ name: first.name });
  });

  it('installs from an http URL of the tarball, with the SHA256SUMS next to it', async () => {
    const { inputs, artifact } = await packageSample();
    const base = await serve(inputs.distDir);
    const result = await installArtifact(`${base}/${path.basename(artifact.tarball)}`, { to: path.join(inputs.root, 'to') });
    expect(result).toMatchObject({ status: 'installed', sha256: artifact.sha256, checkedAgainst: `${base}/SHA256SUMS` });
    expect(await sha256File(result.binaries.quic_server!)).toBe(artifact.manifest.files.find((f) => f.path === 'bin/quic_server')!.sha256);
  });

  it('installs from an http URL of a dist dir, finding the tarball through its SHA256SUMS', async () => {
    const { inputs, artifact } = await packageSample();
    const base = await serve(inputs.distDir);
    const result = await installArtifact(`${base}/`, { to: path.join(inputs.root, 'to') });
    expect(result.name).toBe(artifact.name);
  });

  it('refuses a URL whose SHA256SUMS is missing, downloading nothing into the destination', async () => {
    const { inputs, artifact } = await packageSample();
    await rm(artifact.sumsFile);
    const base = await serve(inputs.distDir);
    await expectRefused(`${base}/${path.basename(artifact.tarball)}`, path.join(inputs.root, 'to'), /SHA256SUMS is missing/);
  });

  it('refuses a tampered tarball that does not match the dist SHA256SUMS', async () => {
    const { inputs, artifact } = await packageSample();
    const bytes = await readFile(artifact.tarball);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20]! + 1) % 256;
    await writeFile(artifact.tarball, bytes);
    await expectRefused(inputs.distDir, path.join(inputs.root, 'to'), /does not match .*SHA256SUMS/);
  });

  it('refuses a tarball whose inner file changed while its inner SHA256SUMS did not', async () => {
    const { inputs, artifact } = await packageSample();
    const work = path.join(inputs.root, 'repack');
    await mkdir(work);
    execFileSync('tar', ['-xzf', artifact.tarball, '-C', work]);
    await writeFile(path.join(work, artifact.name, 'bin', 'quic_client'), '#!/bin/sh\necho evil\n');
    execFileSync('tar', ['-czf', artifact.tarball, '-C', work, artifact.name]);
    // The outer checksum is updated too, so only the inner verification can catch it.
    await writeFile(
      artifact.sumsFile,
      formatChecksums([{ path: path.basename(artifact.tarball), sha256: await sha256File(artifact.tarball) }]),
    );
    await expectRefused(inputs.distDir, path.join(inputs.root, 'to'), /bin\/quic_client \(sha256 does not match SHA256SUMS\)/);
  });

  it("refuses an entry with a '..' component", async () => {
    const { file, to } = await hostile([{ path: 'quiche-1-unpatched-linux-x64/../evil', data: 'x' }]);
    await expectRefused(file, to, /"quiche-1-unpatched-linux-x64\/\.\.\/evil" has a '\.\.' component/);
  });

  it('refuses an entry with an absolute path', async () => {
    const { file, to } = await hostile([{ path: '/tmp/evil', data: 'x' }]);
    await expectRefused(file, to, /"\/tmp\/evil" has an absolute path/);
  });

  it('refuses a symlink escaping the top-level directory', async () => {
    const { file, to } = await hostile([{ path: 'quiche-1-unpatched-linux-x64/bin', type: 'SymbolicLink', linkpath: '../../../etc' }]);
    await expectRefused(file, to, /"quiche-1-unpatched-linux-x64\/bin" is a symlink escaping the top-level directory/);
  });

  it('refuses a symlink that climbs out through another symlink', async () => {
    const { file, to } = await hostile([
      { path: 'quiche-1-unpatched-linux-x64/sub/', type: 'Directory' },
      { path: 'quiche-1-unpatched-linux-x64/sub/up', type: 'SymbolicLink', linkpath: '..' },
      { path: 'quiche-1-unpatched-linux-x64/sub/out', type: 'SymbolicLink', linkpath: 'up/..' },
    ]);
    await expectRefused(file, to, /"quiche-1-unpatched-linux-x64\/sub\/out" is a symlink whose target up\/\.\. mixes names and '\.\.'/);
  });

  it('refuses a symlink to an absolute path', async () => {
    const { file, to } = await hostile([{ path: 'quiche-1-unpatched-linux-x64/link', type: 'SymbolicLink', linkpath: '/etc/passwd' }]);
    await expectRefused(file, to, /symlink to an absolute path/);
  });

  it('refuses a hard link to a file outside the top-level directory', async () => {
    const { file, to } = await hostile([{ path: 'quiche-1-unpatched-linux-x64/passwd', type: 'Link', linkpath: 'etc/passwd' }]);
    await expectRefused(file, to, /hard link escaping/);
  });

  it('refuses a setuid file entry (mode 6755) and extracts nothing', async () => {
    const { file, to } = await hostile([
      { path: 'quiche-1-unpatched-linux-x64/bin/', type: 'Directory' },
      { path: 'quiche-1-unpatched-linux-x64/bin/quic_server', data: 'x', mode: 0o6755 },
    ]);
    await expectRefused(file, to, /"quiche-1-unpatched-linux-x64\/bin\/quic_server" has the setuid\/setgid bit set \(mode 6755\)/);
  });

  it('refuses a setgid directory entry', async () => {
    const { file, to } = await hostile([{ path: 'quiche-1-unpatched-linux-x64/bin/', type: 'Directory', mode: 0o2755 }]);
    await expectRefused(file, to, /setuid\/setgid bit set \(mode 2755\)/);
  });

  it('refuses device and fifo entries', async () => {
    const { file, to } = await hostile([{ path: 'quiche-1-unpatched-linux-x64/pipe', type: 'FIFO' }]);
    await expectRefused(file, to, /"quiche-1-unpatched-linux-x64\/pipe" is a FIFO/);
  });

  it('refuses an entry outside the single top-level directory', async () => {
    const { file, to } = await hostile([{ path: 'another-dir/file', data: 'x' }]);
    await expectRefused(file, to, /outside the single top-level directory/);
  });

  it('refuses a directory with no SHA256SUMS or index.json', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'x.tar.gz'), 'x');
    await expectRefused(dir, path.join(dir, 'to'), /neither index\.json nor SHA256SUMS/);
  });

  it('leaves an unrelated directory of the same name alone', async () => {
    const { inputs, artifact } = await packageSample();
    const to = path.join(inputs.root, 'to');
    await mkdir(path.join(to, artifact.name), { recursive: true });
    await writeFile(path.join(to, artifact.name, 'mine.txt'), 'keep me');
    await expect(installArtifact(inputs.distDir, { to })).rejects.toThrow(/not an installed artifact/);
    expect(await readFile(path.join(to, artifact.name, 'mine.txt'), 'utf8')).toBe('keep me');
  });
});

describe('verifyInstalled', () => {
  it('returns the binaries of an intact install', async () => {
    const { inputs } = await packageSample();
    const installed = await installArtifact(inputs.distDir, { to: path.join(inputs.root, 'to') });
    expect(await verifyInstalled(installed.dir)).toEqual({
      dir: installed.dir,
      name: installed.name,
      manifest: installed.manifest,
      binaries: installed.binaries,
    });
  });

  it('names a changed binary and an added file', async () => {
    const { inputs } = await packageSample();
    const installed = await installArtifact(inputs.distDir, { to: path.join(inputs.root, 'to') });
    await writeFile(installed.binaries.epoll_quic_server!, 'changed');
    await writeFile(path.join(installed.dir, 'bin', 'extra'), 'extra');
    const error = await verifyInstalled(installed.dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as Error).message).toMatch(/bin\/epoll_quic_server \(sha256 does not match SHA256SUMS\)/);
    expect((error as Error).message).toMatch(/bin\/extra \(not listed in SHA256SUMS\)/);
  });
});
