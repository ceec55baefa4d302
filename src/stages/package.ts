import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AppContext } from './context.js';
import { TOOL_VERSION } from '../config/version.js';
import { createArtifact, type ArtifactResult } from '../artifacts/package.js';
import { defineStage } from '../engine/stage.js';
import { ensureTestCerts } from '../smoke/certs.js';
import { sha256File } from '../util/fs.js';
import { artifactNameOf, buildFingerprint, buildIdentity, manifestFieldsOf, type BuildIdentity } from './build-identity.js';
import type { CompileOutput } from '../artifacts/binary.js';
import type { SmokeOutput } from './smoke.js';

export interface PackageInputs {
  identity: BuildIdentity;
  fingerprint: string;
  binaries: Array<{ name: string; sha256: string }>;
  smoke: ReturnType<typeof smokeSummary> | null;
  /** Where the tarball goes: `--dist-dir NEW` on a finished cache must put one in NEW. */
  distDir: string;
  /** The server's key file when it is not certs/leaf_cert.pkcs8 (manifest `serverKeyFile`). */
  serverKeyFile?: string;
}

/**
 * What the manifest says about the smoke test: pass/fail per pair and whether migration was checked
 * across which addresses. Not the migration count, which depends on timing and would make two
 * identical builds package different manifests.
 */
function smokeSummary(smoke: SmokeOutput) {
  return {
    pairs: smoke.pairs,
    migration: smoke.migration.checked
      ? { checked: true, client: smoke.migration.client ?? null, addresses: smoke.migration.addresses ?? [] }
      : { checked: false, skipped: smoke.migration.skipped ?? null },
  };
}

/**
 * The product: `dist/quiche-<version>-<patchset>-linux-x64.tar.gz` with bin/, certs/, manifest.json
 * and SHA256SUMS, reproducible byte for byte (src/artifacts, docs/artifacts.md).
 */
export const packageStage = defineStage<AppContext, PackageInputs, ArtifactResult>({
  id: 'package',
  title: 'Package the artifact',
  after: ['resolve', 'patch-check', 'compile', 'smoke'],
  inputs: (ctx) => {
    const identity = buildIdentity(ctx);
    const smoke = ctx.upstream<SmokeOutput | undefined>('smoke') ?? null;
    const compile = ctx.upstream<CompileOutput>('compile');
    return {
      identity,
      fingerprint: buildFingerprint(identity),
      binaries: compile.binaries.map((b) => ({ name: b.name, sha256: b.sha256 })),
      smoke: smoke ? smokeSummary(smoke) : null,
      distDir: ctx.app.paths.distDir,
      // Only when the server reads a PEM key: builds whose server reads PKCS#8 keep their inputs and bytes.
      ...(compile.serverKeyFormat === 'pem' && { serverKeyFile: 'certs/leaf_cert.key' }),
    };
  },
  async run(ctx, inputs) {
    const compile = ctx.upstream<CompileOutput>('compile');
    // Deterministic and cheap once made: (re)made here so package never depends on smoke's files.
    const certsDir = (await ensureTestCerts(path.join(ctx.app.paths.smoke, 'certs'))).dir;
    const { identity } = inputs;
    const artifact = await createArtifact({
      distDir: inputs.distDir,
      name: artifactNameOf(identity, ctx.app.config),
      binaries: compile.binaries.map((b) => ({ name: b.name, path: b.path })),
      certsDir,
      signal: ctx.signal,
      manifest: {
        ...manifestFieldsOf(identity, ctx.app.config),
        smoke: inputs.smoke,
        ...(inputs.serverKeyFile && { serverKeyFile: inputs.serverKeyFile }),
        fingerprint: inputs.fingerprint,
        tool: { name: 'build-quiche', version: TOOL_VERSION },
      },
    });
    ctx.report.note(`${artifact.tarball} (${(artifact.size / 1024 / 1024).toFixed(1)} MiB, sha256 ${artifact.sha256.slice(0, 16)}…)`);
    return artifact;
  },
  async verify(_ctx, { outputs }) {
    if (!existsSync(outputs.tarball)) return `${outputs.tarball} is missing`;
    return (await sha256File(outputs.tarball)) === outputs.sha256 ? true : `${outputs.tarball} changed`;
  },
  describe: (o) => `${path.basename(o.tarball)} sha256 ${o.sha256.slice(0, 12)}`,
});
