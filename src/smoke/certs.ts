import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import forge from 'node-forge';

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

function makeCerts(seed: string) {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, prng: seededPrng(seed), algorithm: 'PRIMEINC', workers: -1 } as forge.pki.rsa.GenerateKeyPairOptions);
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
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const pkcs8 = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keys.privateKey));
  return {
    certificate: forge.pki.certificateToPem(cert),
    keyDer: Buffer.from(forge.asn1.toDer(pkcs8).getBytes(), 'binary'),
    keyPem: forge.pki.privateKeyInfoToPem(pkcs8),
  };
}

/** Creates the certs once per directory (RSA key generation in JS takes a few seconds). */
export async function ensureTestCerts(dir: string, seed = CERT_SEED): Promise<TestCerts> {
  const certs: TestCerts = {
    dir,
    certificate: path.join(dir, 'leaf_cert.pem'),
    key: path.join(dir, 'leaf_cert.pkcs8'),
    keyPem: path.join(dir, 'leaf_cert.key'),
  };
  const seedFile = path.join(dir, 'SEED');
  if (existsSync(certs.key) && (await readFile(seedFile, 'utf8').catch(() => '')) === seed) return certs;
  const made = makeCerts(seed);
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await writeFile(path.join(tmp, 'leaf_cert.pem'), made.certificate);
  await writeFile(path.join(tmp, 'leaf_cert.pkcs8'), made.keyDer);
  await writeFile(path.join(tmp, 'leaf_cert.key'), made.keyPem);
  await writeFile(path.join(tmp, 'SEED'), seed);
  await writeFile(
    path.join(tmp, 'README.txt'),
    'Test certificate for localhost / 127.0.0.1, made by build-quiche from a fixed seed.\nThe private key is NOT secret: use it only for loopback tests (clients run with --disable_certificate_verification).\n',
  );
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  await rename(tmp, dir);
  return certs;
}
