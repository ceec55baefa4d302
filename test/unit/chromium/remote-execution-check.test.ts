/**
 * doctor's REAPI checks against local stand-ins: a TCP listener that is not gRPC, an h2c and a TLS
 * gRPC server answering REAPI's GetCapabilities (checking the instance and a header), and fake
 * credential helper scripts.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  capabilitiesRequest,
  checkRemoteExecution,
  decodeCapabilities,
  formatRemoteExecutionCheck,
} from '../../../src/chromium/remote-execution-check.js';
import type { RemoteExecutionConfig } from '../../../src/config/remote-execution.js';
import { exec } from '../../../src/process/exec.js';
import { ensureTestCerts } from '../../../src/smoke/certs.js';

let dir: string;
let cert: string;
let key: string;
const servers: Array<{ close(): void }> = [];

/** ServerCapabilities { cache_capabilities { action_cache_update_capabilities { update_enabled } }, execution_capabilities { exec_enabled }, high_api_version { 2, 3 } }. */
function capabilities(execEnabled: boolean): Buffer {
  const field = (n: number, body: Buffer) => Buffer.concat([Buffer.from([(n << 3) | 2, body.length]), body]);
  const bool = (n: number, v: boolean) => Buffer.from([n << 3, v ? 1 : 0]);
  return Buffer.concat([
    field(1, field(2, bool(1, true))),
    field(2, Buffer.concat([Buffer.from([0x08, 0x01]), bool(2, execEnabled)])),
    field(5, Buffer.from([0x08, 0x02, 0x10, 0x03])),
  ]);
}

interface Seen {
  instance?: string;
  header?: string;
}

/** A gRPC server that answers GetCapabilities: UNAUTHENTICATED without `x-api-key: sesame`, NOT_FOUND for an instance but 'main'. */
function serveCapabilities(server: http2.Http2Server | http2.Http2SecureServer, seen: Seen, execEnabled = true): Promise<number> {
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.instance = body.length > 7 ? body.subarray(7).toString('utf8') : '';
      seen.header = headers['x-api-key'] as string | undefined;
      const fail = (status: number, message: string) => {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(status), 'grpc-message': message },
          { endStream: true },
        );
      };
      if (headers[':path'] !== '/build.bazel.remote.execution.v2.Capabilities/GetCapabilities') return fail(12, 'unknown method');
      if (seen.header !== 'sesame') return fail(16, 'no api key');
      if (seen.instance !== 'main') return fail(5, 'no such instance');
      const message = capabilities(execEnabled);
      const frame = Buffer.alloc(5);
      frame.writeUInt32BE(message.length, 1);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.concat([frame, message]));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

async function helperScript(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\n${body}\n`);
  await chmod(file, 0o755);
  return file;
}

const base = (address: string, extra: Partial<RemoteExecutionConfig> = {}): RemoteExecutionConfig => ({
  enabled: true,
  service: 'reapi',
  address,
  instance: 'main',
  backendConfig: 'google.star',
  insecure: false,
  cacheOnly: false,
  strictRemote: false,
  keepExecStream: false,
  ...extra,
});
const check = (re: RemoteExecutionConfig) => checkRemoteExecution(re, { exec, timeoutMs: 3000 });

let goodHelper: string;
let h2cPort: number;
let tlsPort: number;
const h2cSeen: Seen = {};
const tlsSeen: Seen = {};

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bq-reapi-check-'));
  // The project's own loopback test certificate (localhost, 127.0.0.1; self-signed, so it is its own CA).
  const certs = await ensureTestCerts(path.join(dir, 'certs'));
  cert = certs.certificate;
  key = certs.keyPem;
  goodHelper = await helperScript(
    'good.sh',
    `[ "$1" = get ] || exit 2\ncat > ${path.join(dir, 'request.json')}\necho '{"headers": {"X-Api-Key": ["sesame"]}, "expires": "2999-01-01T00:00:00Z"}'`,
  );
  const h2c = http2.createServer();
  servers.push(h2c);
  h2cPort = await serveCapabilities(h2c, h2cSeen);
  const secure = http2.createSecureServer({ cert: await readFile(cert), key: await readFile(key), allowHTTP1: false });
  servers.push(secure);
  tlsPort = await serveCapabilities(secure, tlsSeen, false);
});
afterAll(async () => {
  for (const server of servers) server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the REAPI endpoint check', () => {
  it('encodes GetCapabilitiesRequest and reads ServerCapabilities', () => {
    expect(capabilitiesRequest('main')).toEqual(Buffer.from([0, 0, 0, 0, 6, 0x0a, 4, ...Buffer.from('main')]));
    expect(capabilitiesRequest('')).toEqual(Buffer.alloc(5));
    expect(decodeCapabilities(capabilities(true))).toEqual({ highApiVersion: '2.3', execEnabled: true, cacheUpdateEnabled: true });
  });

  it('names an endpoint nobody listens on', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const report = await check(base(`127.0.0.1:${port}`, { insecure: true }));
    expect(report.problems).toEqual([expect.stringContaining(`The REAPI endpoint 127.0.0.1:${port} does not answer: connection refused`)]);
  });

  it('passes an h2c REAPI service in insecure mode, with the instance and the helper-less call', async () => {
    const report = await check(base(`127.0.0.1:${h2cPort}`, { insecure: true }));
    // No credentials in insecure mode: the service refuses, and says so.
    expect(report.problems).toEqual([expect.stringContaining('refused GetCapabilities with UNAUTHENTICATED (no api key)')]);
    expect(report.problems[0]).toContain('credentialHelper');
    expect(report.warnings).toContain('remoteExecution.insecure: gRPC in plain text without credentials; only on a closed network.');
    expect(h2cSeen.instance).toBe('main');
  });

  it('runs the credential helper per the spec and sends its headers: a full pass over TLS with the CA', async () => {
    const report = await check(base(`127.0.0.1:${tlsPort}`, { credentialHelper: goodHelper, tls: { caCert: cert } }));
    expect(report.problems).toEqual([]);
    expect(report.credentialHeaders).toEqual(['X-Api-Key']);
    expect(JSON.parse(await readFile(path.join(dir, 'request.json'), 'utf8'))).toEqual({ uri: `https://127.0.0.1:${tlsPort}` });
    expect(tlsSeen.header).toBe('sesame');
    expect(report.capabilities).toEqual({ highApiVersion: '2.3', execEnabled: false, cacheUpdateEnabled: true });
    // This service does not execute: doctor suggests cacheOnly.
    expect(report.warnings).toEqual([expect.stringContaining('set remoteExecution.cacheOnly')]);
    const lines = formatRemoteExecutionCheck(report).join('\n');
    expect(lines).toContain(`ok   remote   siso remote execution: REAPI service 127.0.0.1:${tlsPort}, instance 'main'`);
    expect(lines).toContain('TLS');
    expect(lines).not.toContain('sesame');
  });

  it('names an untrusted certificate and the fix (tls.caCert)', async () => {
    const report = await check(base(`127.0.0.1:${tlsPort}`, { credentialHelper: goodHelper }));
    expect(report.problems).toEqual([expect.stringContaining('set remoteExecution.tls.caCert')]);
  });

  it('names a plain-text endpoint reached with TLS (the fix: insecure)', async () => {
    const report = await check(base(`127.0.0.1:${h2cPort}`, { credentialHelper: goodHelper }));
    expect(report.problems).toEqual([expect.stringContaining('it does not speak TLS')]);
  });

  it('names a wrong instance', async () => {
    const report = await check(base(`127.0.0.1:${tlsPort}`, { credentialHelper: goodHelper, tls: { caCert: cert }, instance: 'default' }));
    expect(report.problems).toEqual([expect.stringContaining("NOT_FOUND (no such instance): check remoteExecution.instance ('default')")]);
  });

  it.each([
    ['exits non-zero', 'echo "token expired, run login" >&2; exit 4', 'exited with 4: token expired, run login'],
    ['prints no JSON', 'echo hello', 'did not print JSON'],
    ['prints no headers', 'echo \'{"expires": "2999-01-01T00:00:00Z"}\'', 'printed no headers'],
  ])('names a credential helper that %s', async (_what, body, message) => {
    const helper = await helperScript(`bad-${message.length}.sh`, body);
    const report = await check(base(`127.0.0.1:${tlsPort}`, { credentialHelper: helper, tls: { caCert: cert } }));
    expect(report.problems[0]).toContain(`The credential helper does not work: \`${helper} get\` ${message}`);
  });

  it('names a credential helper that is not there, and TLS files that are not there', async () => {
    const report = await check(
      base(`127.0.0.1:${tlsPort}`, { credentialHelper: 'no-such-helper-anywhere', tls: { caCert: path.join(dir, 'nope.pem') } }),
    );
    expect(report.problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('remoteExecution.tls.caCert'),
        expect.stringContaining('no-such-helper-anywhere is not found on PATH'),
      ]),
    );
  });
});

describe('build-quiche doctor with remoteExecution', () => {
  async function doctorCli(set: string[]): Promise<{ code: number; out: string }> {
    const { runCli } = await import('../../../src/cli/main.js');
    const lines: string[] = [];
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const host = ['preflight.tools=', 'preflight.minFreeDiskGb=0', 'preflight.minMemoryGb=0', `cacheDir=${path.join(dir, 'cache')}`];
      const args = ['doctor', ...[...host, ...set].flatMap((s) => ['--set', s])];
      const code = await runCli(args, { stdout: (l) => lines.push(l), stderr: (l) => lines.push(l), isTTY: false, env: {} });
      return { code, out: lines.join('\n') };
    } finally {
      process.chdir(cwd);
    }
  }
  const endpoint = (port: number) => [
    `remoteExecution.address=127.0.0.1:${port}`,
    'remoteExecution.instance=main',
    'remoteExecution.backendConfig=google.star',
  ];

  it('reports the endpoint, TLS, the credentials and GetCapabilities, and passes', async () => {
    const result = await doctorCli([
      ...endpoint(tlsPort),
      `remoteExecution.credentialHelper=${goodHelper}`,
      `remoteExecution.tls.caCert=${cert}`,
      'remoteExecution.cacheOnly=true',
    ]);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(/ok +remote +siso remote execution: REAPI service 127\.0\.0\.1:\d+, instance 'main'/);
    expect(result.out).toMatch(/ok +endpoint +127\.0\.0\.1:\d+ accepts TCP connections/);
    expect(result.out).toMatch(/ok +credentials .* gave header\(s\) X-Api-Key/);
    expect(result.out).toMatch(/ok +REAPI +GetCapabilities for instance 'main' answered: API up to v2\.3, execution disabled/);
    expect(result.out).not.toContain('sesame');
  });

  it('fails (exit 8, as a host problem) when the service refuses, naming the fix', async () => {
    const result = await doctorCli([...endpoint(h2cPort), 'remoteExecution.insecure=true']);
    expect(result.code, result.out).toBe(8);
    expect(result.out).toMatch(/FAIL remote/);
    expect(result.out).toMatch(
      /problem: 127\.0\.0\.1:\d+ refused GetCapabilities with UNAUTHENTICATED \(no api key\): the service wants credentials/,
    );
  });
});
