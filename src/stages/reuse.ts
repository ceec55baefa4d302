import { existsSync } from 'node:fs';
import type { AppContext } from './context.js';
import type { ArtifactResult } from '../artifacts/package.js';
import { defineStage, type InputContext } from '../engine/stage.js';
import { InternalError } from '../errors.js';
import { createStore } from '../publish/store.js';
import { sha256File } from '../util/fs.js';
import { buildFingerprint, buildIdentity } from './build-identity.js';

export interface ReuseInputs {
  fingerprint: string;
  stores: string[];
}

export type ReuseOutput =
  | { hit: false; fingerprint: string; searched: string[] }
  | { hit: true; fingerprint: string; store: string; name: string; artifact: ArtifactResult };

/**
 * Before the backend fetches anything: if a store already holds an artifact with this build's
 * fingerprint, download and verify it, and every build stage is switched off for this run. A miss
 * is recorded too, so a rerun does not ask the stores again (`--force reuse` does).
 */
export const reuseStage = defineStage<AppContext, ReuseInputs, ReuseOutput>({
  id: 'reuse',
  title: 'Look for a finished artifact',
  after: ['resolve', 'patch-check'],
  enabled: ({ app }) =>
    !app.config.reuse ? 'reuse is off in the config' : app.config.publish.length === 0 ? 'no stores configured' : true,
  inputs: (ctx) => ({
    fingerprint: buildFingerprint(buildIdentity(ctx)),
    stores: ctx.app.config.publish.map((s) => (s.type === 'dir' ? `dir:${s.path}` : `github:${s.repo}`)),
  }),
  async run(ctx, inputs) {
    const searched: string[] = [];
    for (const config of ctx.app.config.publish) {
      // Reuse only saves time: a store that cannot be asked (no token, offline) is noted and skipped.
      try {
        const store = createStore(config, { distDir: ctx.app.paths.distDir, env: ctx.app.env });
        searched.push(store.describe());
        const found = await store.find(inputs.fingerprint, { signal: ctx.signal });
        if (!found) continue;
        ctx.report.note(
          `${found.name} with fingerprint ${inputs.fingerprint.slice(0, 12)} is in ${store.describe()}: downloading instead of building`,
        );
        const artifact = await store.fetch(found, ctx.app.paths.distDir, { signal: ctx.signal });
        return { hit: true, fingerprint: inputs.fingerprint, store: store.describe(), name: found.name, artifact };
      } catch (error) {
        ctx.signal.throwIfAborted();
        ctx.report.note(`could not look in a ${config.type} store (${(error as Error).message.split('\n')[0]}); building instead`);
      }
    }
    ctx.report.note(`no store holds fingerprint ${inputs.fingerprint.slice(0, 12)} yet: building`);
    return { hit: false, fingerprint: inputs.fingerprint, searched };
  },
  async verify(_ctx, { outputs }) {
    if (!outputs.hit) return true;
    if (!existsSync(outputs.artifact.tarball)) return `${outputs.artifact.tarball} is missing`;
    return (await sha256File(outputs.artifact.tarball)) === outputs.artifact.sha256 ? true : `${outputs.artifact.tarball} changed`;
  },
  describe: (o) => (o.hit ? `reused ${o.name} from ${o.store}` : `not in ${o.searched.length} store(s)`),
});

/**
 * A build stage's `enabled`: off (with the reason) when the reuse stage found a finished artifact for
 * exactly these inputs (a hit recorded for other inputs, e.g. with --from after a config change, does
 * not count), else true.
 */
export function enabledUnlessReused(ctx: InputContext<AppContext>): true | string {
  const reuse = reusedArtifact(ctx);
  return reuse ? `artifact ${reuse.name} reused from ${reuse.store}` : true;
}

export function reusedArtifact(ctx: InputContext<AppContext>): Extract<ReuseOutput, { hit: true }> | undefined {
  const reuse = ctx.upstreamIfDone<ReuseOutput | undefined>('reuse');
  if (!reuse?.hit) return undefined;
  try {
    return reuse.fingerprint === buildFingerprint(buildIdentity(ctx)) ? reuse : undefined;
  } catch (error) {
    if (error instanceof InternalError) throw error; // an undeclared read is a bug, not "no artifact"
    return undefined; // the identity's own inputs are not there: nothing can be trusted as reused
  }
}
