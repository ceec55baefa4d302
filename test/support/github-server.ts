import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback stand-in for the GitHub REST endpoints the GitHub store uses, behaving like GitHub
 * where the store can tell: status codes, the JSON shapes octokit expects, 401 without a valid
 * token, 422 for a duplicate tag or asset name, and asset downloads answered with a 302 to an
 * unauthenticated storage URL (as GitHub redirects to its object storage).
 *
 *   GET    /repos/:owner/:repo/releases/tags/:tag
 *   POST   /repos/:owner/:repo/releases
 *   GET    /repos/:owner/:repo/releases/:id/assets
 *   POST   /uploads/repos/:owner/:repo/releases/:id/assets?name=      (the release's upload_url)
 *   GET    /repos/:owner/:repo/releases/assets/:id                    (JSON, or 302 with Accept: application/octet-stream)
 *   DELETE /repos/:owner/:repo/releases/assets/:id
 *   GET    /:owner/:repo/releases/download/:tag/:name                 (browser_download_url, public)
 *   GET    /_storage/:id?sig=                                         (the redirect target)
 */

export interface FakeAsset {
  id: number;
  name: string;
  label: string | null;
  contentType: string;
  data: Buffer;
}

export interface FakeRelease {
  id: number;
  tag: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  repo: string;
  assets: FakeAsset[];
}

export interface LoggedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  status: number;
  /** Whether a valid token came with it (the header itself is never logged). */
  authenticated: boolean;
}

export interface FakeGitHubOptions {
  token: string;
  /** Repositories that exist ('owner/name'). */
  repos: string[];
  /** Leave out assets' `digest` (as for assets uploaded before GitHub computed it). */
  omitDigest?: boolean;
  /** Quote the first N characters of a rejected Authorization header in the 401 message, as some proxies do. */
  echoCredentials?: number;
}

export interface FakeGitHub {
  /** Base URL: use as the store's apiUrl. */
  url: string;
  requests: LoggedRequest[];
  releases: FakeRelease[];
  /** Requests that changed state (POST, PATCH, DELETE). */
  writes(): LoggedRequest[];
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';
const FIXED_TIME = '2000-01-01T00:00:00Z';

export async function startFakeGitHub(options: FakeGitHubOptions): Promise<FakeGitHub> {
  const releases: FakeRelease[] = [];
  const requests: LoggedRequest[] = [];
  const signature = randomBytes(8).toString('hex');
  let nextId = 1000;
  let base = '';

  const releaseJson = (release: FakeRelease) => ({
    url: `${base}/repos/${release.repo}/releases/${release.id}`,
    html_url: `${base}/${release.repo}/releases/tag/${encodeURIComponent(release.tag)}`,
    assets_url: `${base}/repos/${release.repo}/releases/${release.id}/assets`,
    upload_url: `${base}/uploads/repos/${release.repo}/releases/${release.id}/assets{?name,label}`,
    tarball_url: `${base}/repos/${release.repo}/tarball/${release.tag}`,
    zipball_url: `${base}/repos/${release.repo}/zipball/${release.tag}`,
    id: release.id,
    node_id: `RE_${release.id}`,
    tag_name: release.tag,
    target_commitish: 'main',
    name: release.name,
    body: release.body,
    draft: release.draft,
    prerelease: release.prerelease,
    created_at: FIXED_TIME,
    published_at: release.draft ? null : FIXED_TIME,
    author: { login: 'fake-user', id: 1, type: 'User' },
    assets: release.assets.map((asset) => assetJson(release, asset)),
  });

  const assetJson = (release: FakeRelease, asset: FakeAsset) => ({
    url: `${base}/repos/${release.repo}/releases/assets/${asset.id}`,
    browser_download_url: `${base}/${release.repo}/releases/download/${encodeURIComponent(release.tag)}/${encodeURIComponent(asset.name)}`,
    id: asset.id,
    node_id: `RA_${asset.id}`,
    name: asset.name,
    label: asset.label,
    state: 'uploaded',
    content_type: asset.contentType,
    size: asset.data.length,
    digest: options.omitDigest ? null : `sha256:${createHash('sha256').update(asset.data).digest('hex')}`,
    download_count: 0,
    created_at: FIXED_TIME,
    updated_at: FIXED_TIME,
    uploader: null,
  });

  const findAsset = (repo: string, id: number) => {
    for (const release of releases) {
      if (release.repo !== repo) continue;
      const asset = release.assets.find((a) => a.id === id);
      if (asset) return { release, asset };
    }
    return undefined;
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      send(res, 500, { message: `fake github: ${(error as Error).message}` });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', base);
    const method = req.method ?? 'GET';
    const body = await readBody(req);
    const entry: LoggedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      authenticated: isAuthorized(req, options.token),
    };
    requests.push(entry);
    const reply = (status: number, json?: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      send(res, status, json, headers);
    };
    const raw = (status: number, data: Buffer, contentType: string) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': contentType, 'content-length': String(data.length) });
      res.end(data);
    };
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);

    // Storage and browser downloads are public (signed URL / public repo): no token needed.
    if (parts[0] === '_storage' && parts.length === 2 && method === 'GET') {
      const asset = releases.flatMap((r) => r.assets).find((a) => a.id === Number(parts[1]));
      if (!asset || url.searchParams.get('sig') !== signature) return reply(403, { message: 'Request has expired' });
      return raw(200, asset.data, 'application/octet-stream');
    }
    if (parts.length === 6 && parts[2] === 'releases' && parts[3] === 'download' && method === 'GET') {
      const release = releases.find((r) => r.repo === `${parts[0]}/${parts[1]}` && r.tag === parts[4]);
      const asset = release?.assets.find((a) => a.name === parts[5]);
      if (!asset) return reply(404, { message: 'Not Found' });
      return raw(200, asset.data, 'application/octet-stream');
    }

    const api = parts[0] === 'uploads' ? parts.slice(1) : parts;
    if (api[0] !== 'repos' || api.length < 4) return reply(404, { message: 'Not Found', documentation_url: DOCS });
    if (!req.headers.authorization) return reply(401, { message: 'Requires authentication', documentation_url: DOCS, status: '401' });
    if (!entry.authenticated) {
      const quoted = options.echoCredentials ? ` "${req.headers.authorization.slice(0, options.echoCredentials)}…"` : '';
      return reply(401, { message: `Bad credentials${quoted}`, documentation_url: DOCS, status: '401' });
    }
    const repo = `${api[1]}/${api[2]}`;
    if (!options.repos.includes(repo) || api[3] !== 'releases')
      return reply(404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
    const rest = api.slice(4);

    if (parts[0] === 'uploads') {
      const release = releases.find((r) => r.repo === repo && r.id === Number(rest[0]));
      if (method !== 'POST' || rest[1] !== 'assets' || rest.length !== 2 || !release)
        return reply(404, { message: 'Not Found', documentation_url: DOCS });
      const name = url.searchParams.get('name');
      if (!name)
        return reply(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'ReleaseAsset', code: 'missing', field: 'name' }],
          documentation_url: DOCS,
        });
      if (release.assets.some((a) => a.name === name)) {
        return reply(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }],
          documentation_url: DOCS,
          status: '422',
        });
      }
      const asset: FakeAsset = {
        id: nextId++,
        name,
        label: url.searchParams.get('label'),
        contentType: String(req.headers['content-type'] ?? 'application/octet-stream'),
        data: body,
      };
      release.assets.push(asset);
      return reply(201, assetJson(release, asset));
    }

    if (rest.length === 2 && rest[0] === 'tags' && method === 'GET') {
      const release = releases.find((r) => r.repo === repo && r.tag === rest[1] && !r.draft);
      return release ? reply(200, releaseJson(release)) : reply(404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
    }
    if (rest.length === 0 && method === 'POST') {
      const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      if (typeof input.tag_name !== 'string' || !input.tag_name) {
        return reply(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'Release', code: 'missing_field', field: 'tag_name' }],
          documentation_url: DOCS,
        });
      }
      if (releases.some((r) => r.repo === repo && r.tag === input.tag_name)) {
        return reply(422, {
          message: 'Validation Failed',
          errors: [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }],
          documentation_url: DOCS,
          status: '422',
        });
      }
      const release: FakeRelease = {
        id: nextId++,
        tag: input.tag_name,
        name: typeof input.name === 'string' ? input.name : null,
        body: typeof input.body === 'string' ? input.body : null,
        draft: input.draft === true,
        prerelease: input.prerelease === true,
        repo,
        assets: [],
      };
      releases.push(release);
      return reply(201, releaseJson(release), { location: `${base}/repos/${repo}/releases/${release.id}` });
    }
    if (rest.length === 2 && rest[1] === 'assets' && method === 'GET') {
      const release = releases.find((r) => r.repo === repo && r.id === Number(rest[0]));
      if (!release) return reply(404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
      const perPage = Math.min(Number(url.searchParams.get('per_page') ?? 30), 100);
      const page = Number(url.searchParams.get('page') ?? 1);
      const slice = release.assets.slice((page - 1) * perPage, page * perPage);
      const headers: Record<string, string> = {};
      if (page * perPage < release.assets.length) {
        const next = new URL(url);
        next.searchParams.set('page', String(page + 1));
        headers.link = `<${next.href}>; rel="next"`;
      }
      return reply(
        200,
        slice.map((asset) => assetJson(release, asset)),
        headers,
      );
    }
    if (rest.length === 2 && rest[0] === 'assets') {
      const found = findAsset(repo, Number(rest[1]));
      if (!found) return reply(404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
      if (method === 'DELETE') {
        found.release.assets = found.release.assets.filter((a) => a !== found.asset);
        entry.status = 204;
        res.writeHead(204);
        res.end();
        return;
      }
      if (method === 'GET') {
        if (req.headers.accept === 'application/octet-stream') {
          return reply(302, undefined, { location: `${base}/_storage/${found.asset.id}?sig=${signature}` });
        }
        return reply(200, assetJson(found.release, found.asset));
      }
    }
    return reply(404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    requests,
    releases,
    writes: () => requests.filter((r) => ['POST', 'PATCH', 'PUT', 'DELETE'].includes(r.method)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function isAuthorized(req: IncomingMessage, token: string): boolean {
  const match = /^(?:token|bearer)\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1] === token;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, json: unknown, headers: Record<string, string> = {}): void {
  if (json === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const data = Buffer.from(JSON.stringify(json));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(data.length), ...headers });
  res.end(data);
}
