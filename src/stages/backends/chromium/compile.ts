import path from 'node:path';
import type { CheckoutOutput } from './checkout.js';
import { defineStage, type InputContext, type VerifyContext } from '../../../engine/stage.js';
import { build, builderCommand, throwIfFailed, type Builder } from '../../../tools/builder.js';
import { recordBuilt, startBuild, verifyBuilt, type BuiltOptions } from '../../../tools/up-to-date.js';
import { binaryName, changedBinary, type CompileOutput } from '../../../artifacts/binary.js';
import { describeBinaries } from '../../backend.js';
import type { AppContext } from '../../context.js';
import { depotToolsEnvFor } from './paths.js';
import { jobsOf } from '../../host-check.js';
import type { ConfigureOutput } from './configure.js';

export interface CompileInputs {
  outDir: string;
  builder: Builder;
  args: Record<string, string | number | boolean>;
  targets: string[];
  commits: Record<string, string>;
  /** The patched files' content hashes: an edited patch means a rebuild. */
  patched: unknown;
}

const commandFor = (ctx: InputContext<AppContext>, builder: Builder) =>
  builderCommand({ builder, src: ctx.upstream<CheckoutOutput>('checkout').repos.src.path, ninja: ctx.app.config.build.ninja });

/** What tools/up-to-date.ts needs to prove the out dir up to date without the builder's dry run. */
const builtOptions = (ctx: VerifyContext<AppContext>, inputs: CompileInputs, binaries: CompileOutput['binaries']): BuiltOptions => ({
  exec: ctx.exec,
  command: commandFor(ctx, inputs.builder),
  env: depotToolsEnvFor(ctx.app),
  outDir: inputs.outDir,
  targets: inputs.targets,
  binaries,
  snapshotFile: path.join(ctx.app.paths.cacheDir, 'compile-snapshot.json'),
});

export const compileStage = defineStage<AppContext, CompileInputs, CompileOutput>({
  id: 'compile',
  title: 'Compile',
  after: ['checkout', 'patch', 'configure'],
  inputs: ({ app, upstream }) => {
    const configure = upstream<ConfigureOutput>('configure');
    const checkout = upstream<CheckoutOutput>('checkout');
    return {
      outDir: configure.outDir,
      builder: configure.builder,
      args: configure.args,
      targets: app.config.build.targets,
      commits: checkout.verified,
      patched: upstream<unknown>('patch'),
    };
  },
  async run(ctx, inputs) {
    // -j is not an input (it does not change what gets built). preflight suggests the same number.
    const jobs = jobsOf(ctx.app.config);
    const command = commandFor(ctx, inputs.builder);
    const startedAt = await startBuild(builtOptions(ctx, inputs, []).snapshotFile);
    const built = await build({
      exec: ctx.exec,
      command,
      outDir: inputs.outDir,
      targets: inputs.targets,
      jobs,
      env: depotToolsEnvFor(ctx.app),
      onProgress: (progress) => ctx.report.progress(progress),
    });
    throwIfFailed(built, command);
    const programs = inputs.targets.map((label) => ({ name: binaryName(label), label, file: binaryName(label) }));
    const binaries = await describeBinaries(inputs.outDir, programs, 'Is the target an executable?');
    ctx.log.write(await recordBuilt(builtOptions(ctx, inputs, binaries), startedAt));
    return { binaries, steps: built.steps };
  },
  async verify(ctx, { inputs, outputs }) {
    return verifyBuilt(builtOptions(ctx, inputs, outputs.binaries), () => changedBinary(outputs.binaries));
  },
  describe: (o) => `${o.binaries.length} binaries, ${o.steps} steps`,
});
