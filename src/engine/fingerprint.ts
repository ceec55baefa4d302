import { canonicalJson } from '../util/canonical-json.js';
import { sha256 } from '../util/fs.js';

/** sha256 of the canonical JSON: equal inputs, whatever their key order, give equal fingerprints. */
export function fingerprint(value: unknown): string {
  return sha256(canonicalJson(value));
}

/**
 * The dotted paths whose values differ between two input objects, for "stale because X changed".
 * Arrays and scalars are compared whole; objects are descended into.
 */
export function changedPaths(before: unknown, after: unknown, prefix = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => changedPaths(before[key], after[key], prefix ? `${prefix}.${key}` : key));
  }
  return canonicalJson(before) === canonicalJson(after) ? [] : [prefix || '(all)'];
}
