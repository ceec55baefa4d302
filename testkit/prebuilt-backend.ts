import { chmod, copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { changedBinary, type CompileOutput } from '../src/artifacts/binary.js';
import { quicheCommitInputs } from '../src/pins/resolve-pin.js';
import { defineStage } from '../src/engine/stage.js';
import { describeBinaries, type BuildBackend, type SourceOutput } from '../src/stages/backend.js';
import type { AppContext } from '../src/stages/context.js';
import type { ResolveOutput } from '../src/stages/resolve.js';
import { sha256File } from '../src/util/fs.js';

/**
 * A third backend, written as docs/architecture.md says and touching no common file: it "builds" by
 * copying prebuilt programs from a directory. Its identity is their hashes (pinned by a resolve stage
 * of its own, so reuse can find an artifact before anything is copied); its manifest section is
 * `prebuilt`. It exists to prove the seam.
 */
export const PREBUILT_QUICHE = '9'.repeat(40);
const PROGRAMS = ['epoll_quic_client', 'epoll_quic_server'];

type PrebuiltIdentity = { backend: 'prebuilt'; quiche: string; files: Record<string, string> };
interface PinsOutput {
  files: Record<string, string>;
}

const root = (app: AppContext) => path.join(app.paths.cacheDir, 'prebuilt');

export function prebuiltBackend(from: string): BuildBackend<PrebuiltIdentity> {
  const pins = defineStage<AppContext, { from: string }, PinsOutput>({
    id: 'prebuilt-pins',
    title: 'Hash the prebuilt programs',
    after: ['resolve'],
    pure: true,
    inputs: () => ({ from }),
    run: async (_ctx, inputs) => ({
      files: Object.fromEntries(await Promise.all(PROGRAMS.map(async (name) => [name, await sha256File(path.join(inputs.from, name))]))),
    }),
  });
  const checkout = defineStage<AppContext, { from: string; files: Record<string, string> }, SourceOutput & { dir: string }>({
    id: 'checkout',
    title: 'Copy the prebuilt programs into the cache',
    after: ['prebuilt-pins'],
    inputs: ({ upstream }) => ({ from, files: upstream<PinsOutput>('prebuilt-pins').files }),
    async run(ctx, inputs) {
      const dir = path.join(root(ctx.app), 'src');
      await mkdir(dir, { recursive: true });
      for (const name of Object.keys(inputs.files)) await copyFile(path.join(inputs.from, name), path.join(dir, name));
      return { repos: {}, dir };
    },
  });
  const compile = defineStage<AppContext, { dir: string }, CompileOutput>({
    id: 'compile',
    title: 'Install the programs into the out dir',
    after: ['checkout', 'patch'],
    inputs: ({ upstream }) => ({ dir: upstream<{ dir: string }>('checkout').dir }),
    async run(ctx, inputs) {
      const out = path.join(root(ctx.app), 'out');
      await mkdir(path.join(out, 'bin'), { recursive: true });
      const names = await readdir(inputs.dir);
      for (const name of names) {
        await copyFile(path.join(inputs.dir, name), path.join(out, 'bin', name));
        await chmod(path.join(out, 'bin', name), 0o755);
      }
      const programs = names.map((name) => ({ name, label: `//prebuilt:${name}`, file: `bin/${name}` }));
      return { binaries: await describeBinaries(out, programs, 'The prebuilt directory lost a program.'), steps: names.length };
    },
    verify: async (_ctx, { outputs }) => (await changedBinary(outputs.binaries)) ?? true,
  });
  return {
    id: 'prebuilt',
    title: 'Prebuilt programs (a test backend)',
    resolveInputs: () => quicheCommitInputs(PREBUILT_QUICHE, `file://${from}`),
    resolveStages: [pins],
    sourceStages: [checkout],
    buildStages: [compile],
    targets: PROGRAMS.map((name) => `//prebuilt:${name}`),
    patchRepos: [],
    artifactSuffix: 'prebuilt',
    identity: ({ upstream }) => ({
      backend: 'prebuilt',
      quiche: upstream<ResolveOutput>('resolve').quicheRevision,
      files: upstream<PinsOutput>('prebuilt-pins').files,
    }),
    manifestFields: (build) => ({
      inputs: { src: null, quiche: build.quiche },
      section: { name: 'prebuilt', fields: { files: build.files } },
    }),
    ledgerRoot: root,
    cleanCheckout: async (app) => {
      await rm(root(app), { recursive: true, force: true });
      return [root(app)];
    },
  };
}
