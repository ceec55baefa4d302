import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { depotToolsEnv, type AppContext } from '../app/context.js';
import { FailureCollector, parseProgress } from '../chromium/build-output.js';
import type { CheckoutOutput } from '../chromium/types.js';
import { defineStage, type StageContext } from '../engine/stage.js';
import { CompileError } from '../errors.js';
import { jobsFor, type HostReport } from '../app/host-check.js';
import { exec } from '../process/exec.js';
import { sha256File } from '../util/fs.js';
import type { ConfigureOutput } from './configure.js';
import { reusedArtifactReason } from './reuse.js';

export interface CompileInputs {
  outDir: string;
  builder: 'autoninja' | 'ninja';
  args: Record<string, string | number | boolean>;
  targets: string[];
  commits: Record<string, string>;
  /** The patched files' content hashes: an edited patch means a rebuild. */
  patched: unknown;
}

export interface Binary {
  name: string;
  label: string;
  path: string;
  sha256: string;
  size: number;
}

export interface CompileOutput {
  binaries: Binary[];
  /** Steps the builder ran this time (0 when everything was up to date). */
  steps: number;
}

/** `net:quic_client` -> `quic_client`; `//net/tools:foo` -> `foo`; `net/foo` -> `foo`. */
export const binaryName = (label: string) => label.split(':').pop()!.split('/').pop()!;

type Ctx = StageContext<AppContext>;

function builderCommand(app: AppContext, src: string, builder: 'autoninja' | 'ninja'): string {
  if (builder === 'autoninja') return 'autoninja';
  if (app.config.build.ninja) return app.config.build.ninja;
  const bundled = path.join(src, 'third_party', 'ninja', 'ninja');
  return existsSync(bundled) ? bundled : 'ninja';
}

export const compileStage = defineStage<AppContext, CompileInputs, CompileOutput>({
  id: 'compile',
  title: 'Compile',
  after: ['checkout', 'patch', 'configure'],
  enabled: (ctx) => reusedArtifactReason(ctx),
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
    const jobs = ctx.app.config.build.jobs ?? suggestedJobs(ctx);
    const command = builderCommand(ctx.app, ctx.upstream<CheckoutOutput>('checkout').repos.src.path, inputs.builder);
    const failures = new FailureCollector();
    let lastProgress = 0;
    let steps = 0;
    const result = await ctx.exec(command, ['-C', inputs.outDir, '-j', String(jobs), ...inputs.targets], {
      env: depotToolsEnv(ctx.app),
      cwd: path.dirname(path.dirname(inputs.outDir)),
      captureStdout: false,
      allowFailure: true,
      onLine: (line) => {
        failures.push(line);
        const progress = parseProgress(line);
        if (!progress) return;
        steps = Math.max(steps, progress.done);
        const now = Date.now();
        // 30,000 steps: throttle UI updates, the log file still gets every line.
        if (now - lastProgress > 100 || progress.done === progress.total) {
          lastProgress = now;
          ctx.report.progress(progress);
        }
      },
    });
    if (result.exitCode !== 0) {
      const first = failures.failures[0];
      if (first) {
        throw new CompileError(
          `Compile failed at ${first.step}${failures.failures.length > 1 ? ` (and ${failures.failures.length - 1} more step(s))` : ''}:\n  ${first.message.join('\n  ')}`,
          { hint: 'Fix the source (or the patch that changed it), then run again: finished steps are kept.', data: { failures: failures.failures } },
        );
      }
      throw new CompileError(`${command} failed with exit code ${result.exitCode}.`, { tail: result.tail.slice(-20) });
    }
    return { binaries: await describeBinaries(inputs), steps };
  },
  async verify(ctx, { inputs, outputs }) {
    for (const binary of outputs.binaries) {
      if (!existsSync(binary.path)) return `${binary.name} is missing`;
      if ((await stat(binary.path)).size !== binary.size || (await sha256File(binary.path)) !== binary.sha256) return `${binary.name} changed`;
    }
    const command = builderCommand(ctx.app, ctx.upstream<CheckoutOutput>('checkout').repos.src.path, inputs.builder);
    const dry = await exec(command, ['-C', inputs.outDir, '-n', ...inputs.targets], {
      env: depotToolsEnv(ctx.app),
      signal: ctx.signal,
      allowFailure: true,
      captureStdout: true,
      timeoutMs: 300_000,
    }).catch((error: Error) => ({ exitCode: -1, stdout: error.message, stderr: '' }));
    if (dry.exitCode !== 0) return `${command} -n failed`;
    return /no work to do|everything is up-to-date/.test(`${dry.stdout}\n${dry.stderr}`) ? true : 'the builder has work left';
  },
  describe: (o) => `${o.binaries.length} binaries, ${o.steps} steps`,
});

/** preflight's suggestion; with --from/--only (no preflight this run) the same rule from the host. */
function suggestedJobs(ctx: Ctx): number {
  try {
    return ctx.upstream<HostReport>('preflight').suggestedJobs;
  } catch {
    return jobsFor(ctx.app.config);
  }
}

async function describeBinaries(inputs: CompileInputs): Promise<Binary[]> {
  return Promise.all(
    inputs.targets.map(async (label) => {
      const name = binaryName(label);
      const file = path.join(inputs.outDir, name);
      if (!existsSync(file)) throw new CompileError(`The build finished but ${file} (${label}) is missing.`, { hint: 'Is the target an executable?' });
      return { name, label, path: file, sha256: await sha256File(file), size: (await stat(file)).size };
    }),
  );
}
