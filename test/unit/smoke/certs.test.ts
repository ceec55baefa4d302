import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTestCerts } from '../../../src/smoke/certs.js';

let dir: string;
const savedCacheHome = process.env.XDG_CACHE_HOME;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bq-certs-'));
  process.env.XDG_CACHE_HOME = path.join(dir, 'xdg');
});
afterAll(async () => {
  process.env.XDG_CACHE_HOME = savedCacheHome;
  await rm(dir, { recursive: true, force: true });
});

const openssl = (args: string[]) => execFileSync('openssl', args, { encoding: 'utf8' });

describe('test certificates', () => {
  it('are byte-identical wherever they are made (reproducible artifacts), and reused from the user cache', async () => {
    const a = await ensureTestCerts(path.join(dir, 'a'));
    const started = Date.now();
    const b = await ensureTestCerts(path.join(dir, 'b'));
    expect(Date.now() - started).toBeLessThan(1000); // copied, not generated again
    for (const file of ['leaf_cert.pem', 'leaf_cert.pkcs8', 'leaf_cert.key']) {
      expect(await readFile(path.join(a.dir, file))).toEqual(await readFile(path.join(b.dir, file)));
    }
  });

  it('hold a PKCS#8 DER key (quic_server --key_file) that matches the PEM certificate for localhost', async () => {
    const certs = await ensureTestCerts(path.join(dir, 'c'));
    const keyModulus = openssl(['rsa', '-inform', 'DER', '-in', certs.key, '-noout', '-modulus']);
    const certModulus = openssl(['x509', '-in', certs.certificate, '-noout', '-modulus']);
    expect(keyModulus).toBe(certModulus);
    expect(openssl(['x509', '-in', certs.certificate, '-noout', '-ext', 'subjectAltName'])).toMatch(
      /DNS:localhost.*IP Address:127\.0\.0\.1/s,
    );
  });
});
