import { z } from 'zod';
import { IntegrityError } from '../errors.js';
import { ARTIFACT_NAME_PATTERN } from './manifest.js';

/**
 * index.json of a directory store (docs/artifacts.md, "Directory store"). Defined here, next to the
 * consumer side, because `installArtifact(<store dir>)` reads it as well as the dir store writes it.
 * Paths are relative to the store directory and always '<fingerprint>/<file>'.
 */

export const STORE_INDEX_FILE = 'index.json';

const relative = z.string().regex(/^[0-9a-f]+\/[A-Za-z0-9._+-]+$/, 'a <fingerprint>/<file> path');

export const storeIndexEntrySchema = z.strictObject({
  name: z.string().regex(ARTIFACT_NAME_PATTERN),
  /** The build's label (manifest.ts buildLabel(): a Chromium version, or quiche-<commit12>). */
  label: z.string().optional(),
  /** The same label under index schema 1's name: still written, so older readers of a shared store keep working. */
  chromiumVersion: z.string(),
  patchset: z.string(),
  tarball: relative,
  manifest: relative,
  sums: relative,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
});

export const storeIndexSchema = z.strictObject({
  schema: z.literal(1),
  /** Keyed by the build fingerprint. */
  artifacts: z.record(z.string().regex(/^[0-9a-f]+$/), storeIndexEntrySchema),
});

export type StoreIndex = z.output<typeof storeIndexSchema>;
export type StoreIndexEntry = z.output<typeof storeIndexEntrySchema>;

export function parseStoreIndex(text: string, source: string): StoreIndex {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new IntegrityError(`${source} is not valid JSON.`, { cause: error });
  }
  const result = storeIndexSchema.safeParse(value);
  if (!result.success) {
    throw new IntegrityError(`${source} is not a build-quiche store index: ${result.error.issues[0]?.message ?? 'invalid'}.`);
  }
  return result.data;
}
