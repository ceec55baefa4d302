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

/** 2: each backend's fields under a section of its own (1 called every label `chromium.version`). */
export const MANIFEST_SCHEMA_VERSION = 2;
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

/** The fields every schema has, whichever backend built the artifact. */
const sharedFields = {
  name: z.string().regex(ARTIFACT_NAME_PATTERN, 'an artifact name like quiche-<version>-<patchset>-linux-x64'),
  patches: z.strictObject({
    patchset: z.string().min(1),
    series: z.array(patchSchema),
  }),
  targets: z.array(z.string().min(1)),
  platform: z.literal(PLATFORM),
  files: z.array(manifestFileSchema),
  smoke: z.record(z.string(), z.unknown()).nullable(),
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
};

/** The commits a build is made of: Chromium's src (null when no Chromium pin named quiche) and quiche's. */
const sourceCommits = z.strictObject({
  src: z.string().min(1).nullable(),
  quiche: z.string().min(1),
});

/**
 * Schema 2 (written now). The common fields say what the build is called (`version`), which backend
 * built it and from which commits; the backend's own record sits under one key it names (`chromium`:
 * depot_tools, gn, builder; `standalone`: dependency pins, toolchain; a new backend's: its own).
 * This module does not know those records: each is a JSON object the backend wrote.
 */
const manifestFieldsSchema = z.object({
  /** What the build is called: the Chromium version of its pin, or quiche-<commit12> for a quiche commit built alone. */
  version: z.string().min(1),
  /** The backend that built it (its config value: chromium, quiche, ...). */
  backend: z.string().min(1),
  inputs: sourceCommits,
  ...sharedFields,
});
const BACKEND_SECTION_NAME = /^[a-z][A-Za-z0-9]*$/;
const backendSection = z.record(z.string(), z.unknown());

export const manifestSchema = manifestFieldsSchema
  .extend({ schema: z.literal(MANIFEST_SCHEMA_VERSION) })
  .catchall(backendSection)
  .superRefine((manifest, ctx) => {
    const sections = backendSectionNames(manifest);
    if (sections.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `exactly one backend section expected, found ${sections.length ? sections.join(', ') : 'none'}`,
      });
    }
    for (const name of sections.filter((section) => !BACKEND_SECTION_NAME.test(section))) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'a backend section is named by a lowerCamelCase word' });
    }
  });

/**
 * Schema 1 (build-quiche before backends had sections of their own): read, never written. It called
 * every build's label `chromium.version`, and put Chromium's fields (and a standalone build's
 * dependencies and toolchain) at the top level.
 */
export const manifestSchemaV1 = z.strictObject({
  schema: z.literal(1),
  chromium: z.strictObject({ version: z.string().min(1) }),
  inputs: z.strictObject({
    ...sourceCommits.shape,
    depotTools: z.string().nullable(),
    gnVersion: z.string().nullable(),
  }),
  gnArgs: z.record(z.string(), gnValue),
  builder: z.enum(['autoninja', 'ninja']),
  backend: z.string().min(1).optional(),
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
  toolchain: z
    .strictObject({ compiler: z.string().min(1), cc: z.string().min(1), cxx: z.string().min(1), flags: z.array(z.string()) })
    .optional(),
  ...sharedFields,
});

/** A schema-2 manifest as written: the common fields, and the backend's section under its name. */
export type ManifestDocument = z.output<typeof manifestFieldsSchema> & { schema: typeof MANIFEST_SCHEMA_VERSION } & {
  [section: string]: unknown;
};
/** What the packager is given: the manifest minus what it computes itself. */
export type ManifestFields = Omit<z.output<typeof manifestFieldsSchema>, 'name' | 'platform' | 'files'> & { [section: string]: unknown };
export type ManifestV1 = z.output<typeof manifestSchemaV1>;

/**
 * A manifest as read, in the schema it was written in (bytes round-trip: a store or a dist dir keeps
 * an older artifact's manifest as it is). buildLabel() and manifestBackend() answer for either.
 */
export type Manifest = ManifestV1 | ManifestDocument;

export type ManifestFile = z.output<typeof manifestFileSchema>;
export type PatchRecord = z.output<typeof patchSchema>;

/** The keys of a schema-2 manifest that are a backend's own section (not a common field). */
function backendSectionNames(manifest: object): string[] {
  const common = new Set(['schema', ...Object.keys(manifestFieldsSchema.shape)]);
  return Object.keys(manifest).filter((key) => !common.has(key));
}

/** What the build is called, for people and reports: the Chromium version of its pin, or quiche-<commit12>. */
export const buildLabel = (manifest: Manifest): string => (manifest.schema === 1 ? manifest.chromium.version : manifest.version);

/** The backend that built it (schema 1 named only a backend other than chromium). */
export const manifestBackend = (manifest: Manifest): string => manifest.backend ?? 'chromium';

/** One phrase for people: "152.0.7977.83 (chromium backend)", "quiche-1ba0d99a5c2f (quiche backend)". */
export const describeBuild = (manifest: Manifest): string => `${buildLabel(manifest)} (${manifestBackend(manifest)} backend)`;

/** The backend's own record (schema 2: its section; schema 1 had none), for the backend that wrote it. */
export function backendSectionOf(manifest: Manifest): { name: string; fields: Record<string, unknown> } | undefined {
  if (manifest.schema === 1) return undefined;
  const [name] = backendSectionNames(manifest);
  return name === undefined ? undefined : { name, fields: manifest[name] as Record<string, unknown> };
}

export function artifactName(version: string, patchset: string): string {
  return `quiche-${version}-${patchset}-${PLATFORM}`;
}

export function manifestProblems(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

/**
 * Validate a manifest read from an artifact or a store, in the schema it names (1 or 2); the error
 * names every bad field.
 */
export function parseManifest(value: unknown, source = 'manifest.json'): Manifest {
  const schemaOne = (value as { schema?: unknown } | null)?.schema === 1;
  const result = schemaOne ? manifestSchemaV1.safeParse(value) : manifestSchema.safeParse(value);
  if (!result.success) {
    const problems = manifestProblems(result.error);
    throw new IntegrityError(`${source} is not a valid build-quiche manifest: ${problems.join('; ')}.`, {
      hint: `The artifact is damaged or was not made by build-quiche (manifest schema 1 or ${MANIFEST_SCHEMA_VERSION}).`,
      data: { problems },
    });
  }
  return schemaOne ? result.data : result.data;
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
export function serializeManifest(manifest: Manifest | ManifestDocument): string {
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
export function serverCertsOf(artifactDir: string, manifest: { serverKeyFile?: string | undefined }): { certificate: string; key: string } {
  return {
    certificate: path.join(artifactDir, 'certs', 'leaf_cert.pem'),
    key: path.join(artifactDir, manifest.serverKeyFile ?? 'certs/leaf_cert.pkcs8'),
  };
}
