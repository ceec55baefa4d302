import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { cachedUpstream, TAG_150, TAG_152, type UpstreamInfo } from '../../../testkit/build.js';
import { git, removeTempDirs, run, tempDir } from '../../../testkit/helpers.js';
import { startUpstreamServer, type UpstreamServer } from '../../../testkit/server.js';

vi.setConfig({ testTimeout: 30_000, hookTimeout: 120_000 });

let info: UpstreamInfo;
let server: UpstreamServer;

beforeAll(async () => {
  info = await cachedUpstream();
  server = await startUpstreamServer({ reposDir: info.reposDir });
});

afterEach(() => server.faults.reset());

afterAll(async () => {
  await server?.close();
  await removeTempDirs();
});

async function gitiles(path: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${server.baseUrl}${path}`);
  return { status: response.status, text: await response.text() };
}

const decode = (text: string) => Buffer.from(text, 'base64').toString('utf8');

describe('git smart HTTP', () => {
  test.each(['2', '0'])('clones chromium/src over protocol v%s', async (version) => {
    const dir = await tempDir();
    const result = await run('git', [
      '-c',
      `protocol.version=${version}`,
      'clone',
      '-q',
      `${server.baseUrl}/chromium/src.git`,
      `${dir}/src`,
    ]);
    expect(result.exitCode, result.all).toBe(0);
    expect(await git(`${dir}/src`, ['rev-parse', 'HEAD'])).toBe(info.srcMain.srcCommit);
    expect(await git(`${dir}/src`, ['rev-parse', `refs/tags/${TAG_152}^{commit}`])).toBe(info.tags[TAG_152].srcCommit);
  });

  test('fetches one commit by hash into a shallow repository', async () => {
    const dir = await tempDir();
    await git(dir, ['init', '-q', '.']);
    const sha = info.tags[TAG_150].quicheRevision;
    const result = await run('git', ['fetch', '-q', '--depth=1', `${server.baseUrl}/quiche.git`, sha], { cwd: dir });
    expect(result.exitCode, result.all).toBe(0);
    expect(await git(dir, ['rev-parse', 'FETCH_HEAD'])).toBe(sha);
    expect(await git(dir, ['rev-list', '--count', 'FETCH_HEAD'])).toBe('1');
  });

  test('accepts repository URLs without .git, as googlesource does', async () => {
    const result = await run('git', ['ls-remote', `${server.baseUrl}/chromium/tools/depot_tools`, 'refs/heads/main']);
    expect(result.stdout).toContain(info.depotToolsCommits.at(-1)!);
  });

  test('refuses pushes', async () => {
    const dir = await tempDir();
    await git(dir, ['clone', '-q', `${server.baseUrl}/quiche.git`, 'q']);
    const result = await run('git', ['push', 'origin', 'HEAD:refs/heads/other'], { cwd: `${dir}/q` });
    expect(result.exitCode).not.toBe(0);
  });
});

describe('gitiles', () => {
  test('serves DEPS at a tag base64-encoded (?format=TEXT)', async () => {
    const response = await gitiles(`/chromium/src/+/refs/tags/${TAG_152}/DEPS?format=TEXT`);
    expect(response.status).toBe(200);
    expect(decode(response.text)).toContain(`'quiche_revision': '${info.tags[TAG_152].quicheRevision}'`);
  });

  test('serves a quiche file at a commit hash and at a branch', async () => {
    const atCommit = await gitiles(`/quiche/+/${info.tags[TAG_150].quicheRevision}/quiche/quic/tools/quic_toy_client.cc?format=TEXT`);
    expect(atCommit.status).toBe(200);
    expect(decode(atCommit.text)).toContain('SendRequestsAndPrintResponses');
    const atBranch = await gitiles('/quiche.git/+/main/build/source_list.gni?format=TEXT');
    expect(decode(atBranch.text)).toContain('quic_toy_client.cc');
  });

  test('answers 404 with a short body for an unknown ref or path', async () => {
    const ref = await gitiles('/chromium/src/+/refs/tags/999.0.0.0/DEPS?format=TEXT');
    expect(ref.status).toBe(404);
    expect(ref.text.length).toBeLessThan(100);
    const path = await gitiles(`/chromium/src/+/refs/tags/${TAG_152}/NO_SUCH_FILE?format=TEXT`);
    expect(path.status).toBe(404);
    const repo = await gitiles('/no/such/repo/+/main/DEPS?format=TEXT');
    expect(repo.status).toBe(404);
  });

  test("describes a commit as JSON behind the )]}' guard", async () => {
    const response = await gitiles(`/chromium/src/+/refs/tags/${TAG_150}?format=JSON`);
    expect(response.text.startsWith(")]}'\n")).toBe(true);
    const commit = JSON.parse(response.text.slice(5)) as { commit: string; message: string };
    expect(commit.commit).toBe(info.tags[TAG_150].srcCommit);
    expect(commit.message).toContain(`Publish DEPS for ${TAG_150}`);
  });

  test('lists tags with +refs, peeled to their commits', async () => {
    const response = await gitiles('/chromium/src/+refs/tags?format=JSON');
    const refs = JSON.parse(response.text.slice(5)) as Record<string, { value: string; peeled?: string }>;
    expect(refs[TAG_152]).toEqual({ value: info.tags[TAG_152].srcTagObject, peeled: info.tags[TAG_152].srcCommit });
  });
});

describe('fault knobs', () => {
  test('failNext answers the next N requests with the given status, then recovers', async () => {
    server.faults.failNext(2, { status: 503 });
    const path = `/chromium/src/+/refs/tags/${TAG_152}/DEPS?format=TEXT`;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await gitiles(path)).status);
    expect(statuses).toEqual([503, 503, 200]);
    expect(server.requests.slice(-3).map((r) => [r.status, r.fault])).toEqual([
      [503, 'fail'],
      [503, 'fail'],
      [200, undefined],
    ]);
  });

  test('failNext with pathContains only fails matching requests', async () => {
    server.faults.failNext(1, { pathContains: '/quiche' });
    expect((await gitiles('/chromium/src/+/main/DEPS?format=TEXT')).status).toBe(200);
    expect((await gitiles('/quiche/+/main/README.md?format=TEXT')).status).toBe(500);
    expect((await gitiles('/quiche/+/main/README.md?format=TEXT')).status).toBe(200);
  });

  test('cutNext resets the connection after K body bytes', async () => {
    server.faults.cutNext(64);
    const response = await fetch(`${server.baseUrl}/quiche/+/main/quiche/quic/tools/quic_toy_client.cc?format=TEXT`);
    const reader = response.body!.getReader();
    let received = 0;
    const error = await (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return null;
          received += value.length;
        }
      } catch (e) {
        return e;
      }
    })();
    expect(error).not.toBeNull();
    expect(received).toBe(64);
    expect(server.requests.at(-1)).toMatchObject({ bytes: 64, fault: 'cut' });
    expect((await gitiles('/quiche/+/main/README.md?format=TEXT')).status).toBe(200);
  });

  test('cutNext makes git report the transfer failure', async () => {
    const dir = await tempDir();
    server.faults.cutNext(200, { pathContains: 'git-upload-pack' });
    const result = await run('git', ['clone', `${server.baseUrl}/quiche.git`, `${dir}/q`]);
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/curl 56|early EOF|unexpected disconnect/);
  });

  test('delay holds the next response by D ms, or every response without a count', async () => {
    const path = '/quiche/+/main/README.md?format=TEXT';
    server.faults.delay(300, { count: 1 });
    let started = Date.now();
    await gitiles(path);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    started = Date.now();
    await gitiles(path);
    expect(Date.now() - started).toBeLessThan(290);

    server.faults.delay(150);
    started = Date.now();
    await gitiles(path);
    await gitiles(path);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  test('the knobs work over HTTP: POST /_faults sets them, GET /_faults shows them, reset clears', async () => {
    const post = (body: unknown) => fetch(`${server.baseUrl}/_faults`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post({ fail: { count: 1, status: 502 }, delay: { ms: 10, count: 2 } })).status).toBe(200);
    const state = (await (await fetch(`${server.baseUrl}/_faults`)).json()) as { fail: { count: number; status: number } };
    expect(state.fail).toMatchObject({ count: 1, status: 502 });
    expect((await gitiles('/quiche/+/main/README.md?format=TEXT')).status).toBe(502);

    await post({ cut: { afterBytes: 10, pathContains: 'README' } });
    await expect(fetch(`${server.baseUrl}/quiche/+/main/README.md?format=TEXT`).then((r) => r.text())).rejects.toThrow();

    await post({ fail: { count: 5 } });
    await post({ reset: true });
    expect(await (await fetch(`${server.baseUrl}/_faults`)).json()).toEqual({ fail: null, cut: null, delay: null });
    expect((await gitiles('/quiche/+/main/README.md?format=TEXT')).status).toBe(200);
  });

  test('logs every request with method, path and status, but not /_faults', async () => {
    const before = server.requests.length;
    await fetch(`${server.baseUrl}/_faults`);
    await gitiles('/chromium/src/+/main/DEPS?format=TEXT');
    expect(server.requests.slice(before)).toEqual([
      { method: 'GET', path: '/chromium/src/+/main/DEPS?format=TEXT', status: 200, bytes: expect.any(Number) },
    ]);
  });
});
