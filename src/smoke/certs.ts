import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Forge from 'node-forge';

/**
 * Test certificates for the smoke test and for demos that reuse the artifact. They are derived
 * deterministically from a fixed seed (seeded RSA key generation, fixed serial and validity, and
 * RSA PKCS#1 v1.5 signatures, which are deterministic), so two clean builds package byte-identical
 * certs and therefore byte-identical tarballs. The private key is public by construction: these
 * certs are for loopback tests with --disable_certificate_verification, never for real servers.
 */

export const CERT_SEED = 'build-quiche test certificate v1';

export interface TestCerts {
  dir: string;
  /** PEM certificate chain (quic_server --certificate_file). */
  certificate: string;
  /** PKCS#8 DER private key (quic_server --key_file). */
  key: string;
  keyPem: string;
}

function seededPrng(seed: string) {
  let counter = 0;
  return {
    getBytesSync(count: number): string {
      let out = '';
      while (out.length < count) out += createHash('sha256').update(`${seed}:${counter++}`).digest('binary');
      return out.slice(0, count);
    },
  };
}

function makeCerts(forge: typeof Forge, seed: string) {
  const keys = forge.pki.rsa.generateKeyPair({
    bits: 2048,
    prng: seededPrng(seed),
    algorithm: 'PRIMEINC',
    workers: -1,
  } as Forge.pki.rsa.GenerateKeyPairOptions);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date('2000-01-01T00:00:00Z');
  cert.validity.notAfter = new Date('2099-12-31T23:59:59Z');
  const name = [
    { name: 'commonName', value: 'localhost' },
    { name: 'organizationName', value: 'build-quiche test certificate (not secret)' },
  ];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const pkcs8 = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keys.privateKey));
  return {
    certificate: forge.pki.certificateToPem(cert),
    keyDer: Buffer.from(forge.asn1.toDer(pkcs8).getBytes(), 'binary'),
    keyPem: forge.pki.privateKeyInfoToPem(pkcs8),
  };
}

/** The certs are the same everywhere, so they are generated once per user and copied from there. */
function sharedCertsDir(seed: string): string {
  const cacheHome = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(cacheHome, 'build-quiche', `test-certs-${createHash('sha256').update(seed).digest('hex').slice(0, 12)}`);
}

async function isComplete(dir: string, seed: string): Promise<boolean> {
  return existsSync(path.join(dir, 'leaf_cert.pkcs8')) && (await readFile(path.join(dir, 'SEED'), 'utf8').catch(() => '')) === seed;
}

/** Writes the cert files into a temp dir and renames it into place, so `dir` is whole or absent. */
async function writeCertsDir(dir: string, seed: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await fill(tmp);
  await writeFile(path.join(tmp, 'SEED'), seed);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  await rename(tmp, dir).catch(async (error: NodeJS.ErrnoException) => {
    // Another process finished the same (identical) certs first.
    await rm(tmp, { recursive: true, force: true });
    if (!(await isComplete(dir, seed))) throw error;
  });
}

const CERT_FILES = ['leaf_cert.pem', 'leaf_cert.pkcs8', 'leaf_cert.key', 'README.txt'];

/** The test certs in `dir`: copied from the per-user cache, generated there first if needed. */
export async function ensureTestCerts(dir: string, seed = CERT_SEED): Promise<TestCerts> {
  const certs: TestCerts = {
    dir,
    certificate: path.join(dir, 'leaf_cert.pem'),
    key: path.join(dir, 'leaf_cert.pkcs8'),
    keyPem: path.join(dir, 'leaf_cert.key'),
  };
  if (await isComplete(dir, seed)) return certs;
  const shared = sharedCertsDir(seed);
  if (!(await isComplete(shared, seed))) {
    // node-forge is loaded only when certs are generated (once per user), not by every CLI start.
    const made = makeCerts((await import('node-forge')).default, seed);
    await writeCertsDir(shared, seed, async (tmp) => {
      await writeFile(path.join(tmp, 'leaf_cert.pem'), made.certificate);
      await writeFile(path.join(tmp, 'leaf_cert.pkcs8'), made.keyDer);
      await writeFile(path.join(tmp, 'leaf_cert.key'), made.keyPem);
      await writeFile(
        path.join(tmp, 'README.txt'),
        'Test certificate for localhost / 127.0.0.1, made by build-quiche from a fixed seed.\nThe private key is NOT secret: use it only for loopback tests (clients run with --disable_certificate_verification).\n',
      );
    });
  }
  await writeCertsDir(dir, seed, async (tmp) => {
    for (const file of CERT_FILES) await copyFile(path.join(shared, file), path.join(tmp, file));
  });
  return certs;
}
