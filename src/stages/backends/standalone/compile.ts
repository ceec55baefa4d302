import { defineStage } from '../../../engine/stage.js';
import { CompileError } from '../../../errors.js';
import { systemOpensslHeaders } from '../../../standalone/header-check.js';
import { PROGRAMS } from '../../../standalone/source-list.js';
import { build, dryRun, ninjaDeps, throwIfFailed } from '../../../tools/builder.js';
import { changedBinary, type CompileOutput } from '../../../artifacts/binary.js';
import { describeBinaries } from '../../backend.js';
import type { AppContext } from '../../context.js';
import { jobsOf } from '../../host-check.js';
import type { StandaloneCheckoutOutput } from './checkout.js';
import type { StandaloneConfigureOutput } from './configure.js';
import { compilerCacheEnv } from './layout.js';
import type { DependencyPinsOutput } from './dependency-pins.js';
import { distributedFor, standaloneDistributedUse } from '../../distributed.js';
import type { StepProgress } from '../../../tools/builder-output.js';

export interface StandaloneCompileInputs {
  outDir: string;
  ninjaSha256: string;
  commits: Record<string, string>;
  /** The patched files' content hashes: an edited patch means a rebuild. */
  patched: unknown;
}

/** Both programs under Chromium's names, so smoke, the lab and consumers do not care which backend built them. */
const TARGETS = PROGRAMS.map((p) => ({ name: p.output, label: `//quiche:${p.bazelTarget}`, file: `bin/${p.output}` }));

const ninjaOf = (app: AppContext) => app.config.build.ninja ?? 'ninja';

/**
 * ninja over the generated build.ninja with live [N/M] progress, then proof that BoringSSL's headers
 * won (no object depends on a system OpenSSL header, from `ninja -t deps`).
 */
export const standaloneCompileStage = defineStage<AppContext, StandaloneCompileInputs, CompileOutput>({
  id: 'compile',
  title: 'Compile epoll_quic_client and epoll_quic_server',
  // dependency-pins: the toolchain, read only by run (the distributed engine's probe), never an input.
  after: ['dependency-pins', 'checkout', 'patch', 'configure'],
  inputs: ({ upstream }) => {
    const configure = upstream<StandaloneConfigureOutput>('configure');
    const { sources } = upstream<StandaloneCheckoutOutput>('checkout');
    return {
      outDir: configure.outDir,
      ninjaSha256: configure.ninjaSha256,
      commits: Object.fromEntries(Object.entries(sources).map(([name, repo]) => [name, repo.commit])),
      patched: upstream<unknown>('patch'),
    };
  },
  async run(ctx, inputs) {
    const command = ninjaOf(ctx.app);
    const { toolchain } = ctx.upstream<DependencyPinsOutput>('dependency-pins');
    const distributed = await distributedFor(ctx, standaloneDistributedUse(ctx.app, toolchain));
    const report = (progress: StepProgress) => ctx.report.progress(progress);
    const built = await build({
      exec: ctx.exec,
      command,
      outDir: inputs.outDir,
      targets: TARGETS.map((t) => t.file),
      jobs: distributed?.jobs ?? jobsOf(ctx.app.config),
      env: { ...compilerCacheEnv(ctx.app), ...distributed?.env },
      onProgress: distributed ? distributed.progress(report) : report,
    });
    distributed?.finish();
    throwIfFailed(built, command);
    const foreign = systemOpensslHeaders(await ninjaDeps({ exec: ctx.exec, command, outDir: inputs.outDir }));
    if (foreign.length) {
      throw new CompileError(
        `${foreign.length} object(s) were compiled against a system OpenSSL header instead of BoringSSL's, e.g. ${foreign[0]!.object} used ${foreign[0]!.header}.`,
        {
          hint: "BoringSSL's include directory must come first; this is a bug in the generated build.ninja. The binaries are not trusted.",
          data: { foreign: foreign.slice(0, 20) },
        },
      );
    }
    ctx.report.note(`${built.steps} step(s); no object uses a system OpenSSL header`);
    // quiche's default proof source (quiche_default_proof_providers_impl.cc) loads --key_file as PEM.
    return {
      binaries: await describeBinaries(inputs.outDir, TARGETS, 'Check build.ninja in the out dir.'),
      steps: built.steps,
      serverKeyFormat: 'pem',
    };
  },
  async verify(ctx, { inputs, outputs }) {
    const changed = await changedBinary(outputs.binaries);
    if (changed) return changed;
    return dryRun({
      exec: ctx.exec,
      command: ninjaOf(ctx.app),
      outDir: inputs.outDir,
      targets: TARGETS.map((t) => t.file),
      env: {},
    });
  },
  describe: (o) => `${o.binaries.length} binaries, ${o.steps} steps`,
});
