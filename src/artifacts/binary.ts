import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { sha256File } from '../util/fs.js';

/**
 * The programs a build makes, as every backend reports them and the smoke test, the package stage
 * and the lab consume them (below the stages, so the toy-program driver can use them too).
 */
export interface Binary {
  /** As Chromium names them: epoll_quic_client, quic_server, ... (smoke pairs them by name). */
  name: string;
  label: string;
  path: string;
  sha256: string;
  size: number;
}

/** The contract of the last build stage (`compile`). */
export interface CompileOutput {
  binaries: Binary[];
  /** Steps the builder ran this time (0 when everything was up to date). */
  steps: number;
  /**
   * The private-key format the built servers read from --key_file: Chromium's quic_server takes
   * PKCS#8 DER (the default); quiche's standalone default proof source takes PEM.
   */
  serverKeyFormat?: 'pkcs8-der' | 'pem';
}

/** Why a recorded binary no longer matches what is on disk (missing, other size or hash), else undefined. */
export async function changedBinary(binaries: readonly Binary[]): Promise<string | undefined> {
  for (const binary of binaries) {
    if (!existsSync(binary.path)) return `${binary.name} is missing`;
    if ((await stat(binary.path)).size !== binary.size || (await sha256File(binary.path)) !== binary.sha256)
      return `${binary.name} changed`;
  }
  return undefined;
}

/** `net:quic_client` -> `quic_client`; `//net/tools:foo` -> `foo`; `net/foo` -> `foo`. */
export const binaryName = (label: string) => label.split(':').pop()!.split('/').pop()!;
