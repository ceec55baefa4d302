import path from 'node:path';
import { open } from 'node:fs/promises';
import { z } from 'zod';
import { canonicalJson } from '../util/canonical-json.js';
import { IntegrityError } from '../errors.js';
import { exec } from '../process/exec.js';

/**
 * manifest.json: everything needed to tell what an artifact is and whether it is intact. It holds no
 * wall-clock time, host name or path on the build machine, so the same inputs give the same bytes.
 */

export const MANIFEST_SCHEMA_VERSION = 1;
export const PLATFORM = 'linux-x64';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lowercase hex');
/** A path inside the artifact's top directory: relative, '/'-separated, no '.' or '..' parts. */
const innerPath = z
  .string()
  .regex(/^(?!\/)(?!.*\/\/)(?!.*\/$)[^\\\n]+$/, 'a relative path')
  .refine((p) => p.split('/').every((part) => part !== '.' && part !== '..'), 'no . or .. components');

export const ARTIFACT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

const gnValue = z.union([z.string(), z.number(), z.boolean()]);

export const manifestFileSchema = z.strictObject({
  path: innerPath,
  sha256: sha256Hex,
  size: z.number().int().nonnegative(),
  /** Octal permission bits as stored in the tarball: '0755' for bin/, '0644' otherwise. */
  mode: z.string().regex(/^0[0-7]{3}$/),
  /** ELF DT_NEEDED entries (`readelf -d`), for ELF files only. */
  needed: z.array(z.string()).optional(),
});

export const patchSchema = z.strictObject({
  file: z.string().min(1),
  repo: z.string().min(1),
  sha256: sha256Hex,
  subject: z.string(),
});

export const manifestSchema = z.strictObject({
  schema: z.literal(MANIFEST_SCHEMA_VERSION),
  name: z.string().regex(ARTIFACT_NAME_PATTERN, 'an artifact name like quiche-<version>-<patchset>-linux-x64'),
  chromium: z.strictObject({ version: z.string().min(1) }),
  inputs: z.strictObject({
    /** null: a standalone build of a quiche commit no Chromium pin named (quiche.revision). */
    src: z.string().min(1).nullable(),
    quiche: z.string().min(1),
    depotTools: z.string().nullable(),
    gnVersion: z.string().nullable(),
  }),
  patches: z.strictObject({
    patchset: z.string().min(1),
    series: z.array(patchSchema),
  }),
  gnArgs: z.record(z.string(), gnValue),
  targets: z.array(z.string().min(1)),
  builder: z.enum(['autoninja', 'ninja']),
  platform: z.literal(PLATFORM),
  files: z.array(manifestFileSchema),
  smoke: z.record(z.string(), z.unknown()).nullable(),
  /** Present for a backend other than 'chromium' (absent keeps Chromium manifests as they were). */
  backend: z.string().min(1).optional(),
  /** Standalone builds: every dependency as cloned (URL after mirrors, the ref asked for, the verified commit). */
  dependencies: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        url: z.string().min(1),
        ref: z.string().min(1),
        commit: z.string().regex(/^[0-9a-f]{40}$/),
      }),
    )
    .optional(),
  /** Standalone builds: the compiler (first line of --version), the drivers and the flags. */
  toolchain: z
    .strictObject({ compiler: z.string().min(1), cc: z.string().min(1), cxx: z.string().min(1), flags: z.array(z.string()) })
    .optional(),
  /**
   * The key file the artifact's server reads, when it is not certs/leaf_cert.pkcs8 (Chromium's toy
   * server: PKCS#8 DER). The standalone server reads PEM: certs/leaf_cert.key. Absent keeps Chromium
   * manifests as they were.
   */
  serverKeyFile: z
    .string()
    .regex(/^certs\/[\w.-]+$/, 'a file under certs/')
    .optional(),
  fingerprint: z.string().regex(/^[0-9a-f]{8,128}$/, 'a hex fingerprint'),
  tool: z.strictObject({ name: z.literal('build-quiche'), version: z.string().min(1) }),
});

export type Manifest = z.output<typeof manifestSchema>;
export type ManifestFile = z.output<typeof manifestFileSchema>;
export type PatchRecord = z.output<typeof patchSchema>;
/** What the packager is given: the manifest minus what it computes itself. */
export type ManifestFields = Omit<Manifest, 'schema' | 'name' | 'platform' | 'files'>;

export function artifactName(version: string, patchset: string): string {
  return `quiche-${version}-${patchset}-${PLATFORM}`;
}

export function manifestProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/** Validate a manifest read from an artifact or a store; the error names every bad field. */
export function parseManifest(value: unknown, source = 'manifest.json'): Manifest {
  const result = manifestSchema.safeParse(value);
  if (!result.success) {
    const problems = manifestProblems(result.error);
    throw new IntegrityError(`${source} is not a valid build-quiche manifest: ${problems.join('; ')}.`, {
      hint: 'The artifact is damaged or was not made by build-quiche (manifest schema 1).',
      data: { problems },
    });
  }
  return result.data;
}

export function parseManifestJson(text: string, source = 'manifest.json'): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new IntegrityError(`${source} is not valid JSON.`, { cause: error });
  }
  return parseManifest(value, source);
}

/**
 * The manifest's bytes: keys sorted at every level, files sorted by path, two-space indent. Equal
 * manifests always serialise identically, whatever order their fields were built in.
 */
export function serializeManifest(manifest: Manifest): string {
  const sorted = { ...manifest, files: [...manifest.files].sort((a, b) => compareBytes(a.path, b.path)) };
  return `${JSON.stringify(JSON.parse(canonicalJson(sorted)), null, 2)}\n`;
}

/** Byte-order comparison (not locale-aware), so sorting is the same on every machine. */
export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

export async function isElf(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.equals(ELF_MAGIC);
  } finally {
    await handle.close();
  }
}

/** The shared libraries an ELF file needs (DT_NEEDED, from `readelf -d`); [] for anything else. */
export async function readNeededLibs(file: string, options: { signal?: AbortSignal } = {}): Promise<string[]> {
  if (!(await isElf(file))) return [];
  // LC_ALL=C: the "Shared library: [..]" wording is what we parse.
  const result = await exec('readelf', ['-d', '-W', file], { env: { LC_ALL: 'C' }, signal: options.signal });
  return [...result.stdout.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((match) => match[1] as string);
}

/** The certificate and the key file (absolute) that an installed artifact's server is started with. */
export function serverCertsOf(artifactDir: string, manifest: Pick<Manifest, 'serverKeyFile'>): { certificate: string; key: string } {
  return {
    certificate: path.join(artifactDir, 'certs', 'leaf_cert.pem'),
    key: path.join(artifactDir, manifest.serverKeyFile ?? 'certs/leaf_cert.pkcs8'),
  };
}
