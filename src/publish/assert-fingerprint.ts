import { UsageError } from '../errors.js';

const FINGERPRINT = /^[0-9a-f]{8,128}$/;

/** Stores build paths and tags from fingerprints, so anything but lowercase hex is refused up front. */
export function assertFingerprint(fingerprint: string): void {
  if (!FINGERPRINT.test(fingerprint)) {
    throw new UsageError(`${JSON.stringify(fingerprint)} is not a build fingerprint (lowercase hex).`);
  }
}
