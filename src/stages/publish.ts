import type { AppContext } from './context.js';
import type { ArtifactResult } from '../artifacts/package.js';
import { defineStage, type InputContext } from '../engine/stage.js';
import { createStore, type PutResult } from '../publish/store.js';
import { IDENTITY_STAGES } from './build-identity.js';
import { reusedArtifact } from './reuse.js';

export interface PublishInputs {
  name: string;
  sha256: string;
  fingerprint: string;
  /** Store configs without secrets (tokens stay in the environment). */
  stores: AppContext['config']['publish'];
}

export interface PublishOutput {
  results: Array<{ store: string } & PutResult>;
}

function artifactOf(ctx: InputContext<AppContext>): ArtifactResult {
  return reusedArtifact(ctx)?.artifact ?? ctx.upstream<ArtifactResult>('package');
}

/** To every configured store; each put is idempotent (same artifact and checksum: nothing uploaded). */
export const publishStage = defineStage<AppContext, PublishInputs, PublishOutput>({
  id: 'publish',
  title: 'Publish',
  after: ['reuse', 'package', ...IDENTITY_STAGES],
  enabled: ({ app }) => (app.config.publish.length ? true : 'no stores configured (publish: [])'),
  inputs: (ctx) => {
    const artifact = artifactOf(ctx);
    return { name: artifact.name, sha256: artifact.sha256, fingerprint: artifact.manifest.fingerprint, stores: ctx.app.config.publish };
  },
  async run(ctx) {
    const artifact = artifactOf(ctx);
    const results: PublishOutput['results'] = [];
    for (const config of ctx.app.config.publish) {
      const store = createStore(config, { distDir: ctx.app.paths.distDir, env: ctx.app.env });
      const result = await store.put(artifact, { signal: ctx.signal });
      ctx.report.note(`${store.describe()}: ${result.status === 'exists' ? 'already there' : 'uploaded'} (${result.location})`);
      for (const replaced of result.replaced) ctx.report.note(`${store.describe()}: replaced ${replaced}`);
      results.push({ store: store.describe(), ...result });
    }
    return { results };
  },
  async verify(ctx, { inputs }) {
    for (const config of inputs.stores) {
      if (config.type !== 'dir') continue; // remote stores are checked on put, not on every run
      const found = await createStore(config, { distDir: ctx.app.paths.distDir, env: ctx.app.env }).find(inputs.fingerprint);
      if (!found || found.sha256 !== inputs.sha256) return `${config.path} no longer holds ${inputs.name}`;
    }
    return true;
  },
  describe: (o) => o.results.map((r) => `${r.store}: ${r.status}`).join(', '),
});
