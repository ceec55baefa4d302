/**
 * The loopback stand-in for chromium.googlesource.com and quiche.googlesource.com.
 *
 * - git smart HTTP through `git http-backend` (CGI), protocol v2 included: `git clone
 *   http://127.0.0.1:PORT/chromium/src.git` works, so does a shallow fetch of a commit by hash.
 * - gitiles: `GET /<repo>/+/<ref>/<path>?format=TEXT` answers the file base64-encoded, as
 *   googlesource does (ref: refs/tags/X, a branch, a commit hash); `?format=JSON` for commits
 *   and trees, `/+refs[/prefix]?format=JSON`, `/+log/<ref>?format=JSON`. Unknown refs or
 *   paths get a 404 with a short body.
 * - fault knobs, in process (`server.faults`) and over HTTP (`GET`/`POST /_faults`): fail the
 *   next N requests, cut a response after K bytes (TCP reset mid-body), delay responses.
 *
 * Only ever listens on 127.0.0.1.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';

export interface FailFault {
  /** Requests still to fail. */
  count: number;
  /** HTTP status to answer with (default 500). */
  status: number;
  /** Only requests whose path (with query) contains this. */
  pathContains?: string;
}

export interface CutFault {
  /** Body bytes sent before the connection is cut. */
  afterBytes: number;
  /** Responses still to cut (default 1). */
  count: number;
  pathContains?: string;
  /** `reset` (default): TCP RST, curl says "Recv failure: Connection reset by peer" (curl 56);
   * `close`: a plain close mid-body (curl 18, "transfer closed with outstanding read data"). */
  mode: 'reset' | 'close';
}

export interface DelayFault {
  ms: number;
  /** Responses still to delay; null delays every response. */
  count: number | null;
  pathContains?: string;
}

export interface FaultState {
  fail: FailFault | null;
  cut: CutFault | null;
  delay: DelayFault | null;
}

/** What `POST /_faults` accepts (each key optional; `reset: true` clears first). */
export interface FaultRequest {
  reset?: boolean;
  fail?: { count: number; status?: number; pathContains?: string };
  cut?: { afterBytes: number; count?: number; pathContains?: string; mode?: 'reset' | 'close' };
  delay?: { ms: number; count?: number | null; pathContains?: string };
}

export interface UpstreamFaults {
  /** Answer the next `count` matching requests with `status` (default 500). */
  failNext(count: number, opts?: { status?: number; pathContains?: string }): void;
  /** Cut the next `count` (default 1) matching responses after `afterBytes` body bytes. */
  cutNext(afterBytes: number, opts?: { count?: number; pathContains?: string; mode?: 'reset' | 'close' }): void;
  /** Delay responses by `ms`: the next `count` matching ones, or every one if count is omitted. */
  delay(ms: number, opts?: { count?: number; pathContains?: string }): void;
  reset(): void;
  state(): FaultState;
  /** Applies a FaultRequest, as `POST /_faults` does. */
  apply(request: FaultRequest): FaultState;
}

export interface RequestRecord {
  method: string;
  /** Path and query, as requested. */
  path: string;
  status: number;
  /** Body bytes sent. */
  bytes: number;
  /** The fault applied to this request, if any. */
  fault?: 'fail' | 'cut' | 'delay';
}

export interface UpstreamServer {
  /** e.g. http://127.0.0.1:41234 (no trailing slash): the value for chromium_git and quiche_git. */
  baseUrl: string;
  port: number;
  faults: UpstreamFaults;
  /** Every request except /_faults, in arrival order (entries complete when responses end). */
  requests: RequestRecord[];
  close(): Promise<void>;
}

export interface UpstreamServerOptions {
  reposDir: string;
  port?: number;
  host?: '127.0.0.1';
}

const GIT_ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  LC_ALL: 'C',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

interface FaultEngine {
  faults: UpstreamFaults;
  /** Uses up one application of a fault if it matches the path; returns a copy of it, or null. */
  take: <K extends keyof FaultState>(kind: K, path: string) => FaultState[K];
  /** The cut fault that would apply to this path, without using it up. */
  peekCut(path: string): CutFault | null;
  /** Uses up one cut when a response actually reaches the cut point; false if none is left. */
  consumeCut(): boolean;
}

/** The fault knobs and the matching logic the request handler uses. */
function createFaults(): FaultEngine {
  let state: FaultState = { fail: null, cut: null, delay: null };
  const faults: UpstreamFaults = {
    failNext(count, opts = {}) {
      state.fail = { count, status: opts.status ?? 500, pathContains: opts.pathContains };
    },
    cutNext(afterBytes, opts = {}) {
      state.cut = { afterBytes, count: opts.count ?? 1, pathContains: opts.pathContains, mode: opts.mode ?? 'reset' };
    },
    delay(ms, opts = {}) {
      state.delay = { ms, count: opts.count ?? null, pathContains: opts.pathContains };
    },
    reset() {
      state = { fail: null, cut: null, delay: null };
    },
    state() {
      return structuredClone(state);
    },
    apply(request) {
      if (request.reset) faults.reset();
      if (request.fail) faults.failNext(request.fail.count, request.fail);
      if (request.cut) faults.cutNext(request.cut.afterBytes, request.cut);
      if (request.delay) faults.delay(request.delay.ms, { ...request.delay, count: request.delay.count ?? undefined });
      return faults.state();
    },
  };
  const matches = (fault: { count: number | null; pathContains?: string } | null, path: string) =>
    !!fault && fault.count !== 0 && (!fault.pathContains || path.includes(fault.pathContains));
  return {
    faults,
    take(kind, path) {
      const fault = state[kind] as { count: number | null; pathContains?: string } | null;
      if (!matches(fault, path)) return null;
      if (fault!.count !== null) fault!.count -= 1;
      return structuredClone(state[kind]);
    },
    peekCut(path) {
      return matches(state.cut, path) ? structuredClone(state.cut) : null;
    },
    consumeCut() {
      if (!state.cut || state.cut.count <= 0) return false;
      state.cut.count -= 1;
      return true;
    },
  };
}

function git(gitDir: string, args: string[]): Promise<{ code: number; stdout: Buffer }> {
  return new Promise((resolve) => {
    execFile('git', ['--git-dir', gitDir, ...args], { env: GIT_ENV, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 }, (error, stdout) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: stdout });
    });
  });
}

/** Finds the bare repo for a URL path prefix such as `chromium/src` or `chromium/src.git`. */
function findRepo(reposDir: string, urlPath: string): string | null {
  const clean = urlPath.replace(/^\/+|\/+$/g, '');
  if (!clean || clean.split('/').includes('..')) return null;
  for (const candidate of clean.endsWith('.git') ? [clean] : [`${clean}.git`, clean]) {
    const dir = join(reposDir, candidate);
    if (existsSync(join(dir, 'HEAD')) && statSync(dir).isDirectory()) return candidate;
  }
  return null;
}

export async function startUpstreamServer(opts: UpstreamServerOptions): Promise<UpstreamServer> {
  const host = opts.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new Error('the upstream server only listens on 127.0.0.1');
  const reposDir = opts.reposDir;
  const engine = createFaults();
  const faults = engine.faults;
  const takeFault = engine.take;
  const requests: RequestRecord[] = [];
  const sockets = new Set<Socket>();
  const children = new Set<ChildProcess>();
  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      } else {
        res.destroy();
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawPath = req.url ?? '/';
    const url = new URL(rawPath, 'http://127.0.0.1');
    if (url.pathname === '/_faults') return handleFaults(req, res);

    const record: RequestRecord = { method: req.method ?? 'GET', path: rawPath, status: 0, bytes: 0 };
    requests.push(record);

    const delay = takeFault('delay', rawPath);
    if (delay) {
      record.fault = 'delay';
      await new Promise((resolve) => setTimeout(resolve, delay.ms));
    }
    const fail = takeFault('fail', rawPath);
    if (fail) {
      record.fault = 'fail';
      req.resume();
      const body = `fault injected: ${fail.status}\n`;
      res.writeHead(fail.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      record.status = fail.status;
      record.bytes = Buffer.byteLength(body);
      return;
    }
    // A cut is used up only by a response that reaches the cut point.
    const body = new BodyWriter(res, record, engine.peekCut(rawPath), () => engine.consumeCut());

    const pathname = decodeURIComponent(url.pathname);
    const gitiles = pathname.match(/^\/(.+?)\/\+(refs|log)?(\/.*)?$/);
    if (gitiles) {
      await handleGitiles(url, gitiles[1]!, gitiles[2] ?? '', (gitiles[3] ?? '').replace(/^\//, ''), body);
      return;
    }
    const smart = pathname.match(/^\/(.+?)(\/(?:info\/refs|git-upload-pack|git-receive-pack|HEAD|objects\/.*))$/);
    const repo = smart ? findRepo(reposDir, smart[1]!) : null;
    if (smart && repo) {
      await handleGitHttp(req, url, `/${repo}${smart[2]}`, body);
      return;
    }
    req.resume();
    body.text(404, 'Not Found\n');
  }

  async function handleFaults(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let state = faults.state();
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      try {
        const request = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as FaultRequest;
        state = faults.apply(request);
      } catch (error) {
        res.writeHead(400, { 'Content-Type': 'text/plain' });
        res.end(`bad fault request: ${error instanceof Error ? error.message : String(error)}\n`);
        return;
      }
    } else if (req.method !== 'GET') {
      res.writeHead(405, { 'Content-Type': 'text/plain' });
      res.end('use GET or POST\n');
      return;
    }
    const json = JSON.stringify(state);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(json + '\n');
  }

  async function handleGitHttp(req: IncomingMessage, url: URL, pathInfo: string, body: BodyWriter): Promise<void> {
    if (pathInfo.endsWith('/git-receive-pack') || url.searchParams.get('service') === 'git-receive-pack') {
      req.resume();
      body.text(403, 'pushing is not supported by the test upstream\n');
      return;
    }
    const env: NodeJS.ProcessEnv = {
      ...GIT_ENV,
      GIT_PROJECT_ROOT: reposDir,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: pathInfo,
      REQUEST_METHOD: req.method ?? 'GET',
      QUERY_STRING: url.search.replace(/^\?/, ''),
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_SOFTWARE: 'build-quiche-upstream',
    };
    if (req.headers['content-type']) env.CONTENT_TYPE = req.headers['content-type'];
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
    if (req.headers['git-protocol']) env.GIT_PROTOCOL = String(req.headers['git-protocol']);

    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    child.on('close', () => children.delete(child));
    body.onAbort(() => child.kill('SIGKILL'));
    req.pipe(child.stdin);
    child.stdin.on('error', () => {});
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));

    let header = Buffer.alloc(0);
    let headersDone = false;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (headersDone) {
          body.write(chunk);
          return;
        }
        header = Buffer.concat([header, chunk]);
        const crlf = header.indexOf('\r\n\r\n');
        const lf = header.indexOf('\n\n');
        const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf >= 0 ? lf + 2 : -1;
        if (end < 0) return;
        headersDone = true;
        let status = 200;
        const headers: Record<string, string> = {};
        for (const line of header.subarray(0, end).toString('latin1').split(/\r?\n/)) {
          const colon = line.indexOf(':');
          if (colon <= 0) continue;
          const name = line.slice(0, colon).trim();
          const value = line.slice(colon + 1).trim();
          if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
          else headers[name] = value;
        }
        body.head(status, headers);
        const rest = header.subarray(end);
        if (rest.length) body.write(rest);
      });
      child.on('close', () => {
        if (!headersDone) body.text(500, `git http-backend failed: ${stderr.trim()}\n`);
        else body.end();
        resolve();
      });
    });
  }

  async function handleGitiles(url: URL, repoPath: string, kind: string, rest: string, body: BodyWriter): Promise<void> {
    const repo = findRepo(reposDir, repoPath);
    if (!repo) return body.text(404, 'Not Found\n');
    const gitDir = join(reposDir, repo);
    const format = (url.searchParams.get('format') ?? '').toUpperCase();

    if (kind === 'refs') {
      const listing = await git(gitDir, ['for-each-ref', '--format=%(refname) %(objectname) %(*objectname)']);
      const prefix = rest ? `refs/${rest.replace(/\/+$/, '')}/` : '';
      const result: Record<string, { value: string; peeled?: string }> = {};
      for (const line of listing.stdout.toString('utf8').split('\n').filter(Boolean)) {
        const [name, value, peeled] = line.split(' ') as [string, string, string | undefined];
        if (prefix && !name.startsWith(prefix)) continue;
        result[prefix ? name.slice(prefix.length) : name] = peeled ? { value, peeled } : { value };
      }
      return body.json(result);
    }

    const resolved = await resolveRefAndPath(gitDir, rest);
    if (!resolved) return body.text(404, 'Not Found\n');
    const { commit, path } = resolved;

    if (kind === 'log') {
      const n = Math.min(Number.parseInt(url.searchParams.get('n') ?? '100', 10) || 100, 1000);
      const revs = await git(gitDir, ['rev-list', `--max-count=${n}`, commit, ...(path ? ['--', path] : [])]);
      const log = [];
      for (const sha of revs.stdout.toString('utf8').split('\n').filter(Boolean)) log.push(await commitJson(gitDir, sha));
      return body.json({ log });
    }
    if (!path) {
      if (format === 'JSON') return body.json(await commitJson(gitDir, commit));
      const raw = await git(gitDir, ['cat-file', 'commit', commit]);
      return body.text(200, raw.stdout.toString('base64'));
    }
    const type = (await git(gitDir, ['cat-file', '-t', `${commit}:${path}`])).stdout.toString('utf8').trim();
    if (type === 'blob') {
      if (format !== 'TEXT') return body.text(400, 'Only ?format=TEXT is supported for files\n');
      const blob = await git(gitDir, ['cat-file', 'blob', `${commit}:${path}`]);
      return body.text(200, blob.stdout.toString('base64'));
    }
    if (type === 'tree') {
      const tree = await git(gitDir, ['ls-tree', `${commit}:${path}`]);
      const text = tree.stdout.toString('utf8');
      if (format === 'JSON') {
        const entries = text
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [meta, name] = line.split('\t') as [string, string];
            const [mode, entryType, id] = meta.split(' ') as [string, string, string];
            return { mode: Number.parseInt(mode, 8), type: entryType, id, name };
          });
        const id = (await git(gitDir, ['rev-parse', `${commit}:${path}`])).stdout.toString('utf8').trim();
        return body.json({ id, entries });
      }
      return body.text(200, Buffer.from(text).toString('base64'));
    }
    return body.text(404, 'Not Found\n');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `http://${host}:${port}`,
    port,
    faults,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const child of children) child.kill('SIGKILL');
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Resolves `<ref>/<path>` like gitiles: the shortest leading run of segments that names a commit. */
async function resolveRefAndPath(gitDir: string, rest: string): Promise<{ commit: string; path: string } | null> {
  const segments = rest.split('/').filter((s) => s.length > 0);
  for (let i = 1; i <= segments.length; i++) {
    const candidate = segments.slice(0, i).join('/');
    if (candidate.startsWith('-')) return null;
    const result = await git(gitDir, ['rev-parse', '--verify', '-q', `${candidate}^{commit}`]);
    if (result.code === 0) {
      return { commit: result.stdout.toString('utf8').trim(), path: segments.slice(i).join('/') };
    }
  }
  return null;
}

async function commitJson(gitDir: string, sha: string): Promise<Record<string, unknown>> {
  const format = ['%H', '%T', '%P', '%an', '%ae', '%ad', '%cn', '%ce', '%cd', '%B'].join('%x00');
  const out = await git(gitDir, ['show', '-s', '--date=format:%a %b %d %H:%M:%S %Y %z', `--format=${format}`, sha]);
  const [commit, tree, parents, an, ae, ad, cn, ce, cd, message] = out.stdout.toString('utf8').split('\0');
  return {
    commit,
    tree,
    parents: parents ? parents.split(' ') : [],
    author: { name: an, email: ae, time: ad },
    committer: { name: cn, email: ce, time: cd },
    message,
  };
}

/** Writes one response, counting body bytes, and cuts it mid-body when a cut fault says so. */
class BodyWriter {
  private sent = 0;
  private aborted = false;
  private readonly abortHandlers: (() => void)[] = [];

  constructor(
    private readonly res: ServerResponse,
    private readonly record: RequestRecord,
    private readonly cut: CutFault | null,
    private readonly consumeCut: () => boolean,
  ) {
    res.on('close', () => {
      if (!res.writableFinished) this.abort();
    });
  }

  onAbort(handler: () => void): void {
    this.abortHandlers.push(handler);
  }

  head(status: number, headers: Record<string, string>): void {
    this.record.status = status;
    this.res.writeHead(status, headers);
  }

  write(chunk: Buffer): void {
    if (this.aborted) return;
    if (this.cut && this.sent + chunk.length >= this.cut.afterBytes && this.consumeCut()) {
      this.record.fault = 'cut';
      const keep = Math.max(0, this.cut.afterBytes - this.sent);
      if (keep > 0) this.res.write(chunk.subarray(0, keep));
      this.sent += keep;
      this.record.bytes = this.sent;
      this.abort();
      const socket = this.res.socket;
      // Let the partial chunk reach the client, then drop the connection.
      setImmediate(() => {
        if (this.cut!.mode === 'reset' && socket && 'resetAndDestroy' in socket) socket.resetAndDestroy();
        else socket?.destroy();
      });
      return;
    }
    this.sent += chunk.length;
    this.record.bytes = this.sent;
    this.res.write(chunk);
  }

  end(): void {
    if (!this.aborted) this.res.end();
  }

  text(status: number, text: string): void {
    this.head(status, { 'Content-Type': 'text/plain; charset=utf-8' });
    this.write(Buffer.from(text, 'utf8'));
    this.end();
  }

  json(value: unknown): void {
    // Gitiles prefixes JSON with an XSSI guard line.
    this.head(200, { 'Content-Type': 'application/json; charset=utf-8' });
    this.write(Buffer.from(`)]}'\n${JSON.stringify(value, null, 2)}\n`, 'utf8'));
    this.end();
  }

  private abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    for (const handler of this.abortHandlers) handler();
  }
}
