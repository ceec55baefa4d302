import { existsSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { GOOGLE_RBE_ADDRESS, GOOGLE_RBE_INSTANCE, isPathLike, type RemoteExecutionConfig } from '../config/remote-execution.js';
import { isMissingCommand, type Exec } from '../process/exec.js';

/**
 * `build-quiche doctor` with remoteExecution: does the REAPI endpoint answer, the way siso will talk
 * to it? A TCP connect; a TLS handshake (unless insecure) with the configured CA and client
 * certificate, asking for HTTP/2 as gRPC does; the credential helper run as the Bazel credential
 * helper spec says (`<helper> get`, {"uri": ...} on stdin, {"headers": ...} on stdout); then the
 * first call siso makes, REAPI's Capabilities.GetCapabilities for the instance, with the helper's
 * headers. Each problem comes with its fix; nothing secret (header values) is kept or printed.
 */

export interface RemoteExecutionCheck {
  service: RemoteExecutionConfig['service'];
  address: string;
  instance: string;
  /** One line per step, for the report: [ok, text]. */
  steps: Array<{ ok: boolean | 'warn'; what: string; detail: string }>;
  problems: string[];
  warnings: string[];
  /** What the service said about itself (GetCapabilities), when it answered. */
  capabilities?: { highApiVersion?: string; execEnabled?: boolean; cacheUpdateEnabled?: boolean };
  /** The header names the credential helper returned (never the values). */
  credentialHeaders?: string[];
}

export interface CheckOptions {
  exec: Exec;
  /** Per network step. */
  timeoutMs?: number;
}

const CAPABILITIES_PATH = '/build.bazel.remote.execution.v2.Capabilities/GetCapabilities';
const GRPC_STATUS: Record<number, string> = {
  1: 'CANCELLED',
  2: 'UNKNOWN',
  3: 'INVALID_ARGUMENT',
  4: 'DEADLINE_EXCEEDED',
  5: 'NOT_FOUND',
  7: 'PERMISSION_DENIED',
  8: 'RESOURCE_EXHAUSTED',
  12: 'UNIMPLEMENTED',
  13: 'INTERNAL',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

export function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(at + 1)) };
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<{ ms: number } | { error: string }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: { ms: number } | { error: string }) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ error: `no answer within ${timeoutMs / 1000} s (a firewall dropping packets?)` }));
    socket.once('connect', () => done({ ms: Date.now() - started }));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') done({ error: 'connection refused: nothing listens there' });
      else if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') done({ error: `${host} does not resolve (${error.code})` });
      else done({ error: error.message });
    });
  });
}

interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

function tlsOptions(host: string, files: TlsFiles): tls.ConnectionOptions {
  return {
    ...(net.isIP(host) ? {} : { servername: host }),
    ...(files.ca ? { ca: files.ca } : {}),
    ...(files.cert && files.key ? { cert: files.cert, key: files.key } : {}),
  };
}

type TlsResult =
  | { protocol: string; alpn: string | false; subject: string; issuer: string; validTo: string; daysLeft: number }
  | { error: string; code?: string };

function tlsHandshake(host: string, port: number, files: TlsFiles, timeoutMs: number): Promise<TlsResult> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port, ALPNProtocols: ['h2'], ...tlsOptions(host, files) });
    const done = (result: TlsResult) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ error: `no TLS handshake within ${timeoutMs / 1000} s` }));
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      const name = (entity: object | undefined) =>
        entity
          ? Object.entries(entity as Record<string, string | string[]>)
              .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
              .join(', ')
          : '';
      const validTo = cert.valid_to ?? '';
      done({
        protocol: socket.getProtocol() ?? 'TLS',
        alpn: socket.alpnProtocol ?? false,
        subject: name(cert.subject),
        issuer: name(cert.issuer),
        validTo,
        daysLeft: Math.floor((Date.parse(validTo) - Date.now()) / 86_400_000),
      });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => done({ error: error.message, code: error.code }));
  });
}

/** Why a TLS handshake failed, and what to do about it. */
function tlsFix(error: { error: string; code?: string }, re: RemoteExecutionConfig): string {
  const text = `${error.code ?? ''} ${error.error}`;
  if (/wrong version number|packet length too long|EPROTO|unknown protocol/i.test(text)) {
    return 'it does not speak TLS. If it is a plain-text gRPC port on a closed network, set remoteExecution.insecure: true; else check the port.';
  }
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|unable to get local issuer|self[- ]signed/i.test(text)) {
    return re.tls?.caCert
      ? `its certificate does not chain to ${re.tls.caCert} (remoteExecution.tls.caCert): name the CA that signed it.`
      : "its certificate is not signed by a CA this machine trusts: set remoteExecution.tls.caCert to the service's CA bundle (siso reads it as RBE_tls_ca_cert).";
  }
  if (/ALTNAME|Hostname\/IP does not match/i.test(text))
    return 'its certificate is for another name: use the host name the certificate names in remoteExecution.address.';
  if (/CERT_HAS_EXPIRED|expired/i.test(text)) return 'its certificate has expired: the service must renew it.';
  if (/certificate required|alert number 116|handshake failure|bad certificate/i.test(text)) {
    return 'the service wants a client certificate it accepts: set remoteExecution.tls.clientCert and clientKey (mutual TLS).';
  }
  return 'check the address and the TLS settings (remoteExecution.tls).';
}

/** The Bazel credential helper protocol. Header values never leave this function. */
async function credentialHeaders(
  exec: Exec,
  helper: string,
  uri: string,
  timeoutMs: number,
): Promise<{ headers: Record<string, string[]>; expires?: string } | { error: string }> {
  let result;
  try {
    result = await exec(helper, ['get'], { input: JSON.stringify({ uri }), captureStdout: true, allowFailure: true, timeoutMs });
  } catch (error) {
    if (isMissingCommand(error)) return { error: `${helper} is not found${isPathLike(helper) ? '' : ' on PATH'}` };
    return { error: (error as Error).message.split('\n')[0]! };
  }
  if (result.exitCode !== 0) {
    const said = result.stderr.trim().split('\n').pop() ?? '';
    return { error: `\`${helper} get\` exited with ${result.exitCode}${said ? `: ${said}` : ''}` };
  }
  let response: unknown;
  try {
    response = JSON.parse(result.stdout);
  } catch {
    return { error: `\`${helper} get\` did not print JSON` };
  }
  const headers = (response as { headers?: unknown } | null)?.headers;
  const valid =
    typeof headers === 'object' &&
    headers !== null &&
    Object.values(headers).every((v) => Array.isArray(v) && v.every((x) => typeof x === 'string'));
  if (!valid || Object.keys(headers).length === 0) {
    return { error: `\`${helper} get\` printed no headers; the spec wants {"headers": {"name": ["value", ...]}}` };
  }
  const expires = (response as { expires?: unknown }).expires;
  return { headers: headers as Record<string, string[]>, ...(typeof expires === 'string' ? { expires } : {}) };
}

// ---- a minimal protobuf reader, for ServerCapabilities ----

type Fields = Map<number, Array<number | Buffer>>;

function readVarint(buf: Buffer, pos: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, pos];
    shift += 7;
  }
}

function protoFields(buf: Buffer): Fields {
  const fields: Fields = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [key, next] = readVarint(buf, pos);
    pos = next;
    const field = Math.floor(key / 8);
    const wire = key & 7;
    let value: number | Buffer;
    if (wire === 0) [value, pos] = readVarint(buf, pos);
    else if (wire === 2) {
      const [length, start] = readVarint(buf, pos);
      value = buf.subarray(start, start + length);
      pos = start + length;
    } else if (wire === 1) {
      value = buf.subarray(pos, pos + 8);
      pos += 8;
    } else if (wire === 5) {
      value = buf.subarray(pos, pos + 4);
      pos += 4;
    } else throw new Error(`wire type ${wire}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const sub = (fields: Fields, n: number) => {
  const v = fields.get(n)?.[0];
  return Buffer.isBuffer(v) ? protoFields(v) : undefined;
};
const num = (fields: Fields | undefined, n: number) => {
  const v = fields?.get(n)?.[0];
  return typeof v === 'number' ? v : undefined;
};

/** ServerCapabilities: high_api_version (5), execution_capabilities.exec_enabled (2.2), cache_capabilities.action_cache_update_capabilities.update_enabled (1.2.1). */
export function decodeCapabilities(message: Buffer): RemoteExecutionCheck['capabilities'] {
  try {
    const caps = protoFields(message);
    const high = sub(caps, 5);
    const execution = sub(caps, 2);
    const cache = sub(caps, 1);
    const acUpdate = cache && sub(cache, 2);
    return {
      ...(high ? { highApiVersion: `${num(high, 1) ?? 0}.${num(high, 2) ?? 0}` } : {}),
      execEnabled: num(execution, 2) === 1,
      cacheUpdateEnabled: num(acUpdate, 1) === 1,
    };
  } catch {
    return undefined;
  }
}

/** GetCapabilitiesRequest { string instance_name = 1; } in a gRPC frame. */
export function capabilitiesRequest(instance: string): Buffer {
  const name = Buffer.from(instance, 'utf8');
  const varint: number[] = [];
  for (let n = name.length; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      varint.push(n);
      break;
    }
    varint.push((n % 128) | 0x80);
  }
  const message = name.length ? Buffer.concat([Buffer.from([0x0a, ...varint]), name]) : Buffer.alloc(0);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(message.length, 1);
  return Buffer.concat([frame, message]);
}

type GrpcResult = { status: number; message: string; body: Buffer } | { error: string };

function getCapabilities(
  address: string,
  instance: string,
  insecure: boolean,
  files: TlsFiles,
  headers: Record<string, string[]>,
  timeoutMs: number,
): Promise<GrpcResult> {
  const { host, port } = splitAddress(address);
  const authority = `${insecure ? 'http' : 'https'}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  return new Promise((resolve) => {
    let settled = false;
    const client = http2.connect(authority, insecure ? {} : tlsOptions(host, files));
    const finish = (result: GrpcResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ error: `no gRPC answer within ${timeoutMs / 1000} s` }), timeoutMs);
    client.on('error', (error: Error) => finish({ error: error.message }));
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    const request = client.request({
      ...lower,
      ':method': 'POST',
      ':path': CAPABILITIES_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let status: number | undefined;
    let message = '';
    let httpStatus = 0;
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h['grpc-status'] !== undefined) status = Number(h['grpc-status']);
      if (typeof h['grpc-message'] === 'string') message = decodeURIComponent(h['grpc-message']);
    };
    request.on('response', (h) => {
      httpStatus = Number(h[':status']);
      take(h);
    });
    request.on('trailers', take);
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('error', (error: Error) => finish({ error: error.message }));
    request.on('end', () => {
      if (status === undefined) {
        finish({ error: `HTTP ${httpStatus || '?'} without a gRPC status: the endpoint does not speak gRPC` });
        return;
      }
      const body = Buffer.concat(chunks);
      finish({ status, message, body: body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)) : Buffer.alloc(0) });
    });
    request.end(capabilitiesRequest(instance));
  });
}

function readTlsFiles(re: RemoteExecutionConfig, problems: string[]): TlsFiles {
  const read = (field: string, file: string | undefined) => {
    if (file === undefined) return undefined;
    if (!existsSync(file)) {
      problems.push(`remoteExecution.${field} (${file}) does not exist: fix the path (relative to the config file).`);
      return undefined;
    }
    return readFileSync(file);
  };
  return {
    ca: read('tls.caCert', re.tls?.caCert),
    cert: read('tls.clientCert', re.tls?.clientCert),
    key: read('tls.clientKey', re.tls?.clientKey),
  };
}

export async function checkRemoteExecution(re: RemoteExecutionConfig, options: CheckOptions): Promise<RemoteExecutionCheck> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const address = re.service === 'google-rbe' ? GOOGLE_RBE_ADDRESS : re.address!;
  const instance = re.service === 'google-rbe' ? (re.instance ?? '') : (re.instance ?? '');
  const report: RemoteExecutionCheck = { service: re.service, address, instance, steps: [], problems: [], warnings: [] };
  const step = (ok: boolean | 'warn', what: string, detail: string) => report.steps.push({ ok, what, detail });

  if (re.backendConfig !== undefined && isPathLike(re.backendConfig) && !existsSync(re.backendConfig)) {
    report.problems.push(`remoteExecution.backendConfig (${re.backendConfig}) does not exist: configure_siso.py would fail to copy it.`);
  }
  const files = re.insecure ? {} : readTlsFiles(re, report.problems);

  // Credentials first: GetCapabilities needs them, and a helper that fails is worth knowing even offline.
  let headers: Record<string, string[]> = {};
  const mtls = Boolean(re.tls?.clientCert);
  if (re.credentialHelper !== undefined && !re.insecure && !mtls) {
    const got = await credentialHeaders(options.exec, re.credentialHelper, `https://${address}`, 30_000);
    if ('error' in got) {
      step(false, 'credentials', got.error);
      report.problems.push(
        `The credential helper does not work: ${got.error}. siso runs it the same way (SISO_CREDENTIAL_HELPER); fix the helper or remoteExecution.credentialHelper.`,
      );
    } else {
      headers = got.headers;
      report.credentialHeaders = Object.keys(got.headers).sort();
      const expired = got.expires !== undefined && Date.parse(got.expires) < Date.now();
      step(
        expired ? 'warn' : true,
        'credentials',
        `${re.credentialHelper} gave header(s) ${report.credentialHeaders.join(', ')}${got.expires ? `, expiring ${got.expires}` : ''}`,
      );
      if (expired)
        report.warnings.push(
          `The credential helper's headers expired at ${got.expires}; siso would ask it again, but check the helper refreshes them.`,
        );
    }
  } else if (mtls) {
    step(true, 'credentials', 'mutual TLS (siso sets SISO_CREDENTIAL_HELPER=mTLS: no per-RPC credentials)');
  } else if (re.insecure) {
    step(true, 'credentials', 'none (insecure mode sends none)');
  } else if (re.service === 'google-rbe') {
    report.warnings.push(
      "Google's RBE needs credentials: run `siso login`, or set remoteExecution.credentialHelper (e.g. gcloud). Doctor cannot check a login it does not hold.",
    );
  } else {
    step('warn', 'credentials', 'none configured: siso sends no per-RPC credentials');
  }

  const { host, port } = splitAddress(address);
  const tcp = await tcpConnect(host, port, timeoutMs);
  if ('error' in tcp) {
    step(false, 'endpoint', `${address}: ${tcp.error}`);
    report.problems.push(
      `The REAPI endpoint ${address} does not answer: ${tcp.error}. Check remoteExecution.address and that this machine can reach it.`,
    );
    return report;
  }
  step(true, 'endpoint', `${address} accepts TCP connections (${tcp.ms} ms)`);

  if (re.insecure) {
    report.warnings.push('remoteExecution.insecure: gRPC in plain text without credentials; only on a closed network.');
  } else {
    const handshake = await tlsHandshake(host, port, files, timeoutMs);
    if ('error' in handshake) {
      step(false, 'TLS', handshake.error);
      report.problems.push(`The TLS handshake with ${address} failed (${handshake.error}): ${tlsFix(handshake, re)}`);
      return report;
    }
    step(true, 'TLS', `${handshake.protocol}, certificate ${handshake.subject} by ${handshake.issuer}, valid to ${handshake.validTo}`);
    if (handshake.alpn !== 'h2') {
      report.warnings.push(`${address} did not agree to HTTP/2 (ALPN h2) in the TLS handshake; gRPC needs it. Is this the gRPC port?`);
    }
    if (handshake.daysLeft < 14) report.warnings.push(`The certificate of ${address} expires in ${handshake.daysLeft} day(s).`);
  }

  const answer = await getCapabilities(address, instance, re.insecure, files, headers, timeoutMs);
  if ('error' in answer) {
    step(false, 'REAPI', answer.error);
    report.problems.push(`${address} did not answer REAPI's GetCapabilities (${answer.error}): is it a Remote Execution API endpoint?`);
    return report;
  }
  if (answer.status !== 0) {
    const name = GRPC_STATUS[answer.status] ?? String(answer.status);
    step(false, 'REAPI', `GetCapabilities for instance '${instance}': ${name}${answer.message ? ` (${answer.message})` : ''}`);
    const fix =
      answer.status === 16
        ? 'the service wants credentials it accepts: set remoteExecution.credentialHelper, or tls.clientCert and clientKey.'
        : answer.status === 7
          ? 'the credentials are valid but not allowed this instance: check remoteExecution.instance and your account.'
          : answer.status === 5 || answer.status === 3
            ? `check remoteExecution.instance ('${instance}').`
            : answer.status === 12
              ? 'the endpoint speaks gRPC but not REAPI: check the address and port.'
              : "see the service's logs.";
    report.problems.push(`${address} refused GetCapabilities with ${name}${answer.message ? ` (${answer.message})` : ''}: ${fix}`);
    return report;
  }
  report.capabilities = decodeCapabilities(answer.body);
  const caps = report.capabilities;
  step(
    true,
    'REAPI',
    `GetCapabilities for instance '${instance}' answered${caps?.highApiVersion ? `: API up to v${caps.highApiVersion}` : ''}${caps ? `, execution ${caps.execEnabled ? 'enabled' : 'disabled'}` : ''}`,
  );
  if (caps && !caps.execEnabled && !re.cacheOnly) {
    report.warnings.push(
      `${address} does not offer remote execution for instance '${instance}' (exec_enabled is false): set remoteExecution.cacheOnly to use it as a cache only.`,
    );
  }
  if (re.service === 'google-rbe' && !GOOGLE_RBE_INSTANCE.test(instance))
    report.warnings.push('The Google RBE instance is not projects/<p>/instances/<i>.');
  return report;
}

export function formatRemoteExecutionCheck(report: RemoteExecutionCheck): string[] {
  const mark = (ok: boolean | 'warn') => (ok === true ? 'ok  ' : ok === 'warn' ? 'warn' : 'FAIL');
  return [
    `${report.problems.length ? 'FAIL' : 'ok  '} remote   siso remote execution: ${report.service === 'google-rbe' ? "Google's RBE" : 'REAPI service'} ${report.address}, instance '${report.instance}'`,
    ...report.steps.map((s) => `${mark(s.ok)}   ${s.what.padEnd(11)} ${s.detail}`),
  ];
}
