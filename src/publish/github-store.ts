import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Octokit } from '@octokit/rest';
import { formatChecksums, parseChecksums, SUMS_FILE } from '../artifacts/checksums.js';
import type { FetchLike } from '../artifacts/download.js';
import { describeBuild, parseManifestJson, serializeManifest } from '../artifacts/manifest.js';
import type { ArtifactResult } from '../artifacts/package.js';
import type { StoreConfig } from '../config/schema.js';
import { BuildQuicheError, ConfigError, DiskSpaceError, InterruptedError, NetworkError, NotFoundError, ToolError } from '../errors.js';
import { sha256, sha256File } from '../util/fs.js';
import { changedSincePackaged, receiveTarball } from './transfer.js';
import { assertFingerprint } from './assert-fingerprint.js';
import type { ArtifactStore, PutResult, StoreCallOptions, StoredArtifact } from './types.js';
import { redact, registerSecret } from '../util/redact.js';

/**
 * GitHub Releases as an artifact store. One release per fingerprint:
 *   tag   `<tagPrefix><first 16 hex of the fingerprint>` (find() needs nothing but the fingerprint)
 *   title the artifact name; body: a summary with a `fingerprint: <hex>` line
 *   assets `<name>.tar.gz`, `<name>.manifest.json`, `SHA256SUMS` (uploaded in that order)
 * A put is idempotent: an asset already there with the same sha256 is skipped; one with a different
 * sha256 is deleted and uploaded again (newest wins; the result names it). The token is only handed
 * to octokit: every error is rebuilt from status and a redacted message, never passed through.
 */

type GitHubConfig = Extract<StoreConfig, { type: 'github' }>;
type Release = Awaited<ReturnType<Octokit['rest']['repos']['getReleaseByTag']>>['data'];
type Asset = Awaited<ReturnType<Octokit['rest']['repos']['listReleaseAssets']>>['data'][number];

const TAG_FINGERPRINT_CHARS = 16;
const SILENT = { debug() {}, info() {}, warn() {}, error() {} };

interface Upload {
  name: string;
  contentType: string;
  sha256: string;
  size: number;
  read: () => Promise<Buffer>;
}

export class GitHubStore implements ArtifactStore {
  readonly #octokit: Octokit;
  readonly owner: string;
  readonly repo: string;

  private constructor(
    private readonly config: GitHubConfig,
    token: string,
    fetchImpl: FetchLike | undefined,
  ) {
    const [owner, repo] = config.repo.split('/') as [string, string];
    this.owner = owner;
    this.repo = repo;
    registerSecret(token);
    this.#octokit = new Octokit({
      auth: token,
      baseUrl: config.apiUrl.replace(/\/$/, ''),
      userAgent: 'build-quiche',
      log: SILENT,
      request: fetchImpl ? { fetch: fetchImpl } : {},
    });
  }

  /** The token is read from the variable named in the config, once, and kept only inside octokit. */
  static fromConfig(config: GitHubConfig, env: Readonly<Record<string, string | undefined>>, fetchImpl?: FetchLike): GitHubStore {
    const token = env[config.tokenEnv]?.trim();
    if (!token) {
      throw new ConfigError(
        `The GitHub store ${config.repo} needs a token in the environment variable ${config.tokenEnv}, which is not set.`,
        {
          hint: `Export ${config.tokenEnv} with a token that may write releases (contents: write) on ${config.repo}, or change publish[].tokenEnv.`,
        },
      );
    }
    return new GitHubStore(config, token, fetchImpl);
  }

  describe(): string {
    return `github:${this.config.repo}`;
  }

  tagFor(fingerprint: string): string {
    return `${this.config.tagPrefix}${fingerprint.slice(0, TAG_FINGERPRINT_CHARS)}`;
  }

  async find(fingerprint: string, options: StoreCallOptions = {}): Promise<StoredArtifact | undefined> {
    assertFingerprint(fingerprint);
    const release = await this.releaseByTag(this.tagFor(fingerprint), options);
    if (!release || !ownsRelease(release, fingerprint)) return undefined;
    return this.describeRelease(release, fingerprint, options);
  }

  async put(artifact: ArtifactResult, options: StoreCallOptions = {}): Promise<PutResult> {
    const fingerprint = artifact.manifest.fingerprint;
    assertFingerprint(fingerprint);
    const actual = await sha256File(artifact.tarball);
    if (actual !== artifact.sha256) throw changedSincePackaged(artifact, actual, 'uploading');
    const tag = this.tagFor(fingerprint);
    const release = (await this.releaseByTag(tag, options)) ?? (await this.createRelease(tag, artifact, options));
    if (!ownsRelease(release, fingerprint)) {
      throw new ConfigError(`The release ${tag} in ${this.config.repo} is not the build-quiche artifact for fingerprint ${fingerprint}.`, {
        hint: 'Another release uses this tag. Delete or rename it, or set a different tagPrefix for this store.',
      });
    }

    const existing = await this.assets(release.id, options);
    let uploaded = 0;
    const replaced: string[] = [];
    for (const upload of uploadsFor(artifact)) {
      const present = existing.find((asset) => asset.name === upload.name);
      if (present && (await this.assetSha256(present, upload.size, options)) === upload.sha256) continue;
      if (present) {
        await this.call(`deleting the outdated asset ${upload.name}`, options, (request) =>
          this.#octokit.rest.repos.deleteReleaseAsset({ owner: this.owner, repo: this.repo, asset_id: present.id, request }),
        );
        replaced.push(upload.name);
      }
      await this.upload(release, upload, options);
      uploaded++;
    }
    return { status: uploaded === 0 ? 'exists' : 'uploaded', location: release.html_url, replaced };
  }

  async fetch(stored: StoredArtifact, destDir: string, options: StoreCallOptions = {}): Promise<ArtifactResult> {
    assertFingerprint(stored.fingerprint);
    const release = await this.releaseByTag(this.tagFor(stored.fingerprint), options);
    const asset = release && (await this.assets(release.id, options)).find((a) => a.name === `${stored.name}.tar.gz`);
    if (!asset) {
      throw new NotFoundError(`${stored.name}.tar.gz is no longer in ${this.describe()} (release ${this.tagFor(stored.fingerprint)}).`, {
        hint: 'It was deleted after it was found; run again to rebuild.',
      });
    }
    return receiveTarball(stored, destDir, async (tmp) => {
      await this.download(asset, options, (body) => pipeline(body, createWriteStream(tmp)));
    });
  }

  private async describeRelease(release: Release, fingerprint: string, options: StoreCallOptions): Promise<StoredArtifact | undefined> {
    const assets = await this.assets(release.id, options);
    const sumsAsset = assets.find((asset) => asset.name === SUMS_FILE);
    const manifestAsset = assets.find((asset) => asset.name.endsWith('.manifest.json'));
    if (!sumsAsset || !manifestAsset) return undefined;
    const manifestText = (await this.downloadSmall(manifestAsset, options)).toString('utf8');
    const manifest = parseManifestJson(manifestText, `${release.tag_name}/${manifestAsset.name}`);
    if (manifest.fingerprint !== fingerprint) return undefined;
    const tarballName = `${manifest.name}.tar.gz`;
    const listed = parseChecksums((await this.downloadSmall(sumsAsset, options)).toString('utf8'), `${release.tag_name}/${SUMS_FILE}`).find(
      (entry) => entry.path === tarballName,
    );
    const tarball = assets.find((asset) => asset.name === tarballName);
    // An interrupted put leaves a release without all its assets: not found, and the next put completes it.
    if (!listed || !tarball || tarball.state !== 'uploaded') return undefined;
    if (tarball.digest && tarball.digest !== `sha256:${listed.sha256}`) return undefined;
    return {
      store: this.describe(),
      fingerprint,
      name: manifest.name,
      sha256: listed.sha256,
      size: tarball.size,
      location: release.html_url,
      manifest,
    };
  }

  private async releaseByTag(tag: string, options: StoreCallOptions): Promise<Release | undefined> {
    try {
      return await this.call(
        `looking up release ${tag}`,
        options,
        async (request) => (await this.#octokit.rest.repos.getReleaseByTag({ owner: this.owner, repo: this.repo, tag, request })).data,
      );
    } catch (error) {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    }
  }

  private async createRelease(tag: string, artifact: ArtifactResult, options: StoreCallOptions): Promise<Release> {
    try {
      return await this.call(
        `creating release ${tag}`,
        options,
        async (request) =>
          (
            await this.#octokit.rest.repos.createRelease({
              owner: this.owner,
              repo: this.repo,
              tag_name: tag,
              name: artifact.name,
              body: releaseBody(artifact),
              draft: false,
              prerelease: false,
              make_latest: 'false',
              request,
            })
          ).data,
      );
    } catch (error) {
      // Another publisher created it between our lookup and our create.
      const raced = error instanceof ToolError && (error.data as { status?: number } | undefined)?.status === 422;
      const release = raced ? await this.releaseByTag(tag, options) : undefined;
      if (release) return release;
      throw error;
    }
  }

  private async assets(releaseId: number, options: StoreCallOptions): Promise<Asset[]> {
    return this.call('listing release assets', options, (request) =>
      this.#octokit.paginate(this.#octokit.rest.repos.listReleaseAssets, {
        owner: this.owner,
        repo: this.repo,
        release_id: releaseId,
        per_page: 100,
        request,
      }),
    );
  }

  /** GitHub reports `digest` for assets uploaded since mid-2025; older ones are downloaded and hashed. */
  private async assetSha256(asset: Asset, expectedSize: number, options: StoreCallOptions): Promise<string> {
    // An upload that broke off leaves an asset that is not 'uploaded': never equal, so it is replaced.
    if (asset.state !== 'uploaded' || asset.size !== expectedSize) return '';
    if (asset.digest?.startsWith('sha256:')) return asset.digest.slice('sha256:'.length);
    const hash = createHash('sha256');
    await this.download(asset, options, async (body) => {
      for await (const chunk of body) hash.update(chunk as Buffer);
    });
    return hash.digest('hex');
  }

  private async upload(release: Release, upload: Upload, options: StoreCallOptions): Promise<void> {
    const data = await upload.read();
    await this.call(`uploading ${upload.name}`, options, (request) =>
      this.#octokit.request({
        method: 'POST',
        url: release.upload_url,
        name: upload.name,
        headers: { 'content-type': upload.contentType, 'content-length': data.length },
        data,
        request,
      }),
    );
  }

  private async downloadSmall(asset: Asset, options: StoreCallOptions): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await this.download(asset, options, async (body) => {
      for await (const chunk of body) chunks.push(chunk as Buffer);
    });
    return Buffer.concat(chunks);
  }

  /** Stream an asset's bytes (GitHub answers with a redirect to storage, which fetch follows). */
  private async download(asset: Asset, options: StoreCallOptions, consume: (body: Readable) => Promise<void>): Promise<void> {
    await this.call(`downloading ${asset.name}`, options, async (request) => {
      const response = await this.#octokit.request('GET /repos/{owner}/{repo}/releases/assets/{asset_id}', {
        owner: this.owner,
        repo: this.repo,
        asset_id: asset.id,
        headers: { accept: 'application/octet-stream' },
        request: { ...request, parseSuccessResponseBody: false },
      });
      const body = response.data as unknown as WebReadableStream<Uint8Array> | null;
      if (!body) throw new NetworkError(`GitHub sent no content for ${asset.name}.`);
      await consume(Readable.fromWeb(body));
    });
  }

  /**
   * Run one API call and turn whatever it throws into a typed error whose message and payload were
   * built here, with the token removed. The original error (which holds request details) is dropped.
   */
  private async call<T>(action: string, options: StoreCallOptions, run: (request: { signal?: AbortSignal }) => Promise<T>): Promise<T> {
    try {
      return await run(options.signal ? { signal: options.signal } : {});
    } catch (error) {
      throw this.translate(error, action, options.signal);
    }
  }

  private translate(error: unknown, action: string, signal: AbortSignal | undefined): BuildQuicheError {
    const where = `${this.describe()}: ${action}`;
    // Ours, raised inside run(): built without the token.
    if (error instanceof BuildQuicheError) return error;
    if (signal?.aborted || (error as Error | undefined)?.name === 'AbortError') return new InterruptedError(`Interrupted while ${action}.`);
    const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 0;
    const message = redact(String((error as Error | undefined)?.message ?? error)).replace(/ - https:\/\/docs\.github\.com\S*/, '');
    const data = { status };
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (status === 0 && code === 'ENOSPC') return new DiskSpaceError(`${where} failed: the disk is full.`, { data });
    if (status === 0 && code) return new BuildQuicheError('internal', `${where} failed: ${message}.`, { data });
    const tokenEnv = this.config.tokenEnv;
    if (status === 401) {
      return new ConfigError(`${where} failed: GitHub rejected the token in ${tokenEnv} (401 ${message}).`, {
        hint: `Check that ${tokenEnv} holds a valid, unexpired token.`,
        data,
      });
    }
    if (status === 403 || status === 429) {
      const rateLimited = /rate limit/i.test(message) || status === 429;
      if (rateLimited)
        return new NetworkError(`${where} failed: GitHub rate limit (${status} ${message}).`, { hint: 'Wait and run again.', data });
      return new ConfigError(`${where} failed: the token in ${tokenEnv} may not do this (403 ${message}).`, {
        hint: `Give the token contents: write on ${this.config.repo}.`,
        data,
      });
    }
    if (status === 404) {
      return new NotFoundError(`${where}: not found (404).`, {
        hint: `Check that ${this.config.repo} exists and that the token in ${tokenEnv} can see it.`,
        data,
      });
    }
    // octokit reports a request that got no response at all (refused, DNS, TLS) as status 500.
    if ((error as { response?: unknown }).response === undefined) {
      return new NetworkError(`${where} failed: could not reach ${this.config.apiUrl} (${message}).`, {
        hint: "Check the network and the store's apiUrl, then run again (finished work is kept).",
        data,
      });
    }
    if (status >= 500) {
      return new NetworkError(`${where} failed: GitHub answered ${status} (${message}).`, {
        hint: 'GitHub failed; run again (finished work is kept).',
        data,
      });
    }
    return new ToolError(`${where} failed: GitHub answered ${status}: ${message}.`, { data });
  }
}

const fingerprintLine = (fingerprint: string) => `fingerprint: ${fingerprint}`;

/** Guards against a tag collision with a release that is not ours (or another fingerprint's). */
function ownsRelease(release: Release, fingerprint: string): boolean {
  return (release.body ?? '').split(/\r?\n/).some((line) => line.trim() === fingerprintLine(fingerprint));
}

function releaseBody(artifact: ArtifactResult): string {
  const { manifest } = artifact;
  return [
    `build-quiche artifact \`${artifact.name}\`: ${describeBuild(manifest)}, ` +
      `patchset ${manifest.patches.patchset}, ${manifest.platform}.`,
    '',
    fingerprintLine(manifest.fingerprint),
    `sha256: ${artifact.sha256}`,
    '',
    'Install: `build-quiche install <URL of the .tar.gz asset> --to <dir>` (verifies SHA256SUMS and the inner checksums).',
    '',
  ].join('\n');
}

function uploadsFor(artifact: ArtifactResult): Upload[] {
  const manifest = Buffer.from(serializeManifest(artifact.manifest));
  const sums = Buffer.from(formatChecksums([{ path: `${artifact.name}.tar.gz`, sha256: artifact.sha256 }]));
  const inMemory = (name: string, contentType: string, data: Buffer): Upload => ({
    name,
    contentType,
    sha256: sha256(data),
    size: data.length,
    read: () => Promise.resolve(data),
  });
  return [
    {
      name: `${artifact.name}.tar.gz`,
      contentType: 'application/gzip',
      sha256: artifact.sha256,
      size: artifact.size,
      read: () => readFile(artifact.tarball),
    },
    inMemory(`${artifact.name}.manifest.json`, 'application/json', manifest),
    inMemory(SUMS_FILE, 'text/plain', sums),
  ];
}
