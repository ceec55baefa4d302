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
import { remoteCompile } from './remote-execution.js';
import { parseSisoStats } from '../../../tools/siso.js';
import { chromiumDistributedUse, distributedFor } from '../../distributed.js';
import type { StepProgress } from '../../../tools/builder-output.js';

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

const snapshotFileOf = (app: AppContext) => path.join(app.paths.cacheDir, 'compile-snapshot.json');

/** What tools/up-to-date.ts needs to prove the out dir up to date without the builder's dry run. */
const builtOptions = (ctx: VerifyContext<AppContext>, inputs: CompileInputs, binaries: CompileOutput['binaries']): BuiltOptions => ({
  exec: ctx.exec,
  command: commandFor(ctx, inputs.builder),
  env: { ...depotToolsEnvFor(ctx.app), ...remoteCompile(ctx.app, ctx.upstream<CheckoutOutput>('checkout').remoteExecution)?.env },
  outDir: inputs.outDir,
  targets: inputs.targets,
  binaries,
  snapshotFile: snapshotFileOf(ctx.app),
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
    // With distributed.engine: cc_wrapper's environment and -j from the hosts (stages/distributed.ts).
    const distributed = await distributedFor(ctx, chromiumDistributedUse(ctx.app, inputs.args));
    const jobs = distributed?.jobs ?? jobsOf(ctx.app.config);
    const command = commandFor(ctx, inputs.builder);
    // Remote execution: siso's -remote_jobs/-local_jobs instead of -j, and its TLS/credential environment.
    const remote = remoteCompile(ctx.app, ctx.upstream<CheckoutOutput>('checkout').remoteExecution);
    const report = (progress: StepProgress) => ctx.report.progress(progress);
    const startedAt = await startBuild(snapshotFileOf(ctx.app));
    const built = await build({
      exec: ctx.exec,
      command,
      outDir: inputs.outDir,
      targets: inputs.targets,
      jobs,
      jobArgs: remote?.args,
      env: { ...depotToolsEnvFor(ctx.app), ...remote?.env, ...distributed?.env },
      onProgress: distributed ? distributed.progress(report) : report,
    });
    distributed?.finish();
    throwIfFailed(built, command);
    const stats = remote && parseSisoStats(built.result.tail);
    if (stats)
      ctx.report.note(
        `siso: ${stats.remote} remote, ${stats.local} local, ${stats.cache} from the cache, ${stats.fallback} local fallbacks`,
      );
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
