import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { installArtifact } from '../../../src/artifacts/install.js';
import { createArtifact } from '../../../src/artifacts/package.js';
import { ConfigError, IntegrityError } from '../../../src/errors.js';
import { createStore, type ArtifactStore } from '../../../src/publish/store.js';
import { sha256File } from '../../../src/util/fs.js';
import { FINGERPRINT, packageSample } from '../../support/artifacts.js';
import { startFakeGitHub, type FakeGitHub } from '../../support/github-server.js';

const TOKEN = 'ghp_fakeTokenThatMustNeverLeak0123456789';
const REPO = 'octo/quiche-artifacts';

let github: FakeGitHub;
beforeEach(async () => {
  github = await startFakeGitHub({ token: TOKEN, repos: [REPO] });
});
afterEach(async () => {
  await github.close();
});

function store(token = TOKEN, fake = github): ArtifactStore {
  return createStore(
    { type: 'github', repo: REPO, tokenEnv: 'QUICHE_STORE_TOKEN', apiUrl: fake.url, tagPrefix: 'quiche-' },
    { distDir: '/unused', env: { QUICHE_STORE_TOKEN: token } },
  );
}

const uploads = () => github.writes().filter((r) => r.path.startsWith('/uploads/'));

describe('GitHub Releases store', () => {
  it('creates one release per fingerprint and uploads the tarball, the manifest and SHA256SUMS', async () => {
    const { artifact } = await packageSample();
    const result = await store().put(artifact);
    expect(result.status).toBe('uploaded');
    expect(github.releases).toHaveLength(1);
    const release = github.releases[0]!;
    expect(release.tag).toBe(`quiche-${FINGERPRINT.slice(0, 16)}`);
    expect(release.name).toBe(artifact.name);
    expect(release.body).toContain(`fingerprint: ${FINGERPRINT}`);
    expect(release.assets.map((a) => a.name)).toEqual([`${artifact.name}.tar.gz`, `${artifact.name}.manifest.json`, 'SHA256SUMS']);
    expect(release.assets[2]!.data.toString()).toBe(`${artifact.sha256}  ${artifact.name}.tar.gz\n`);
    expect(result.location).toContain(`/releases/tag/${release.tag}`);
  });

  it('reports exists and uploads nothing when the same artifact is put again', async () => {
    const { artifact } = await packageSample();
    await store().put(artifact);
    const before = github.requests.length;
    expect(await store().put(artifact)).toMatchObject({ status: 'exists', replaced: [] });
    expect(github.requests.slice(before).filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('recognises identical assets without digests by downloading and hashing them', async () => {
    await github.close();
    github = await startFakeGitHub({ token: TOKEN, repos: [REPO], omitDigest: true });
    const { artifact } = await packageSample();
    await store().put(artifact);
    expect(await store().put(artifact)).toMatchObject({ status: 'exists' });
    expect(uploads()).toHaveLength(3);
  });

  it('replaces a same-name asset whose checksum differs, and says so', async () => {
    const { artifact, inputs } = await packageSample();
    await store().put(artifact);
    await rm(inputs.distDir, { recursive: true });
    const rebuilt = await createArtifact({
      ...inputs.options,
      manifest: { ...inputs.options.manifest, smoke: { fetched: true, rerun: 2 } },
    });
    const result = await store().put(rebuilt);
    expect(result).toMatchObject({
      status: 'uploaded',
      replaced: [`${artifact.name}.tar.gz`, `${artifact.name}.manifest.json`, 'SHA256SUMS'],
    });
    expect(github.writes().filter((r) => r.method === 'DELETE')).toHaveLength(3);
    expect(github.releases[0]!.assets.map((a) => a.name)).toHaveLength(3);
  });

  it('completes a release left half-uploaded by an interrupted put', async () => {
    const { artifact } = await packageSample();
    await store().put(artifact);
    github.releases[0]!.assets.splice(1); // only the tarball made it
    expect(await store().find(FINGERPRINT)).toBeUndefined();
    expect(await store().put(artifact)).toMatchObject({ status: 'uploaded' });
    expect(
      uploads()
        .slice(3)
        .map((r) => r.query.name),
    ).toEqual([`${artifact.name}.manifest.json`, 'SHA256SUMS']);
    expect(await store().find(FINGERPRINT)).toBeDefined();
  });

  it('finds an artifact by fingerprint', async () => {
    const { artifact } = await packageSample();
    await store().put(artifact);
    expect(await store().find(FINGERPRINT)).toMatchObject({
      store: `github:${REPO}`,
      fingerprint: FINGERPRINT,
      name: artifact.name,
      sha256: artifact.sha256,
      size: artifact.size,
      manifest: artifact.manifest,
    });
  });

  it('finds nothing for a fingerprint it has not stored', async () => {
    expect(await store().find('0123456789abcdef0123')).toBeUndefined();
  });

  it('fetches into a destination dir and verifies the download', async () => {
    const { artifact, inputs } = await packageSample();
    await store().put(artifact);
    const dest = path.join(inputs.root, 'fetched');
    const fetched = await store().fetch((await store().find(FINGERPRINT))!, dest);
    expect(fetched).toMatchObject({ name: artifact.name, sha256: artifact.sha256, manifest: artifact.manifest });
    expect(await sha256File(fetched.tarball)).toBe(artifact.sha256);
  });

  it('refuses a download whose bytes do not match, leaving nothing in the destination', async () => {
    const { artifact, inputs } = await packageSample();
    await store().put(artifact);
    const found = (await store().find(FINGERPRINT))!;
    github.releases[0]!.assets[0]!.data = Buffer.from('tampered');
    const dest = path.join(inputs.root, 'fetched');
    await expect(store().fetch(found, dest)).rejects.toBeInstanceOf(IntegrityError);
    expect(await readdir(dest)).toEqual([]);
  });

  it("installs from the release asset's download URL, verified against the SHA256SUMS asset", async () => {
    const { artifact, inputs } = await packageSample();
    await store().put(artifact);
    const url = `${github.url}/${REPO}/releases/download/quiche-${FINGERPRINT.slice(0, 16)}/${artifact.name}.tar.gz`;
    const result = await installArtifact(url, { to: path.join(inputs.root, 'demo') });
    expect(result).toMatchObject({ name: artifact.name, sha256: artifact.sha256 });
  });

  it('needs the token variable named in the config, and says which', () => {
    const config = { type: 'github', repo: REPO, tokenEnv: 'QUICHE_STORE_TOKEN', apiUrl: github.url, tagPrefix: 'quiche-' } as const;
    expect(() => createStore(config, { distDir: '/unused', env: {} })).toThrow(ConfigError);
    expect(() => createStore(config, { distDir: '/unused', env: { QUICHE_STORE_TOKEN: '' } })).toThrow(/QUICHE_STORE_TOKEN/);
  });

  it('explains a rejected token without revealing it', async () => {
    const { artifact } = await packageSample();
    const wrong = 'ghp_wrongTokenAlsoSecret987654321';
    const error = await store(wrong)
      .put(artifact)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/rejected the token in QUICHE_STORE_TOKEN \(401 Bad credentials\)/);
    expect(inspect(error, { depth: Infinity, showHidden: true })).not.toContain(wrong);
    expect(JSON.stringify(error)).not.toContain(wrong);
  });

  it('hides a token a server or proxy quotes back in its error, even cut to a prefix', async () => {
    const echoing = await startFakeGitHub({ token: TOKEN, repos: [REPO], echoCredentials: 'token '.length + 14 });
    try {
      const { artifact } = await packageSample();
      const wrong = 'proxyPassXq9v7Lm2Zt4Rk8Wn';
      const error = await store(wrong, echoing)
        .put(artifact)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain('401 Bad credentials "token [REDACTED]…"');
      expect(inspect(error, { depth: Infinity, showHidden: true })).not.toContain(wrong.slice(0, 8));
    } finally {
      await echoing.close();
    }
  });

  it('never lets the token reach results, errors or console output', async () => {
    const captured: string[] = [];
    const capture = (...args: unknown[]) => {
      captured.push(args.map((a) => inspect(a, { depth: Infinity })).join(' '));
      return true;
    };
    const spies = [
      ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((method) => vi.spyOn(console, method).mockImplementation(capture)),
      vi.spyOn(process.stdout, 'write').mockImplementation(capture),
      vi.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];
    const outcomes: unknown[] = [];
    try {
      const { artifact, inputs } = await packageSample();
      const s = store();
      outcomes.push(s, s.describe(), await s.put(artifact), await s.put(artifact));
      const found = await s.find(FINGERPRINT);
      outcomes.push(found, await s.fetch(found!, path.join(inputs.root, 'fetched')));
      await github.close();
      outcomes.push(await s.find(FINGERPRINT).catch((e: unknown) => e));
      github = await startFakeGitHub({ token: TOKEN, repos: [] });
      outcomes.push(
        await store(TOKEN, github)
          .put(artifact)
          .catch((e: unknown) => e),
      );
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
    const everything = [...outcomes.map((o) => inspect(o, { depth: Infinity, showHidden: true })), ...captured].join('\n');
    expect(outcomes.at(-2)).toBeInstanceOf(Error);
    expect(outcomes.at(-1)).toBeInstanceOf(Error);
    expect(everything).not.toContain(TOKEN);
  });
});
