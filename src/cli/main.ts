import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { doctor, formatHostReport } from '../api/doctor.js';
import { runInContainer } from '../api/docker.js';
import { build, clean, plan, status } from '../api/pipeline.js';
import type { PipelineEvent, Selection } from '../api/types.js';
import { loadConfig } from '../config/load.js';
import { BACKEND_IDS } from '../config/schema.js';
import { TOOL_VERSION } from '../config/version.js';
import { renderConfigJsonSchema } from '../config/json-schema.js';
import { EXIT_CODES, InterruptedError, toBuildQuicheError, UsageError, type BuildQuicheError } from '../errors.js';
import { chooseRenderer, processIo, type Io, type OutputMode } from './output.js';
import { formatDuration, formatFailure } from './render/format.js';
import type { CliContext, GlobalOptions } from './context.js';
import { registerInstallCommand } from './install-command.js';
import { registerLabCommand } from './lab-command.js';
import { registerPatchCommands } from './patch-commands.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/** CLI flags as a partial config (they override the file and BUILD_QUICHE_* env). */
function flagsToConfig(opts: GlobalOptions, cwd: string): Record<string, unknown> {
  const flags: Record<string, Record<string, unknown> | string> = {};
  const section = (name: string) => (flags[name] ??= {}) as Record<string, unknown>;
  if (opts.backend) flags.backend = opts.backend;
  if (opts.pin) section('chromium').version = opts.pin;
  // Paths typed on the command line are relative to where the user is, not to the config file.
  const here = (p: string) => path.resolve(cwd, p);
  if (opts.cacheDir) flags.cacheDir = here(opts.cacheDir);
  if (opts.distDir) flags.distDir = here(opts.distDir);
  if (opts.jobs !== undefined) {
    // The schema validates it (build.jobs), as it does the file's value; text that is no number stays text, so the error shows it.
    const jobs = Number(opts.jobs);
    section('build').jobs = opts.jobs.trim() === '' || Number.isNaN(jobs) ? opts.jobs : jobs;
  }
  if (opts.builder) section('build').builder = opts.builder;
  if (opts.srcDir) section('checkout').srcDir = here(opts.srcDir);
  if (opts.moveExisting) section('checkout').allowMoveExisting = true;
  if (opts.offline) section('depotTools').offline = true;
  return flags;
}

/**
 * The commands --docker applies to: those that read or write the cache. With --docker, the preAction
 * hook runs the whole command in the builder image, and the action on the host does not run.
 */
const DOCKER_COMMANDS = new Set(['build', 'plan', 'status', 'doctor', 'clean']);

interface SelectionFlags {
  from?: string;
  until?: string;
  only?: string[];
  force?: string[] | boolean;
}

function selectionFrom(opts: SelectionFlags): Selection {
  return {
    from: opts.from,
    until: opts.until,
    only: opts.only,
    force: opts.force === true ? 'all' : Array.isArray(opts.force) ? opts.force : undefined,
  };
}

const selectionOptions = (cmd: Command) =>
  cmd
    .option('--from <stage>', 'start at this stage (earlier stages must have completed)')
    .option('--until <stage>', 'stop after this stage')
    .option('--only <stages...>', 'run only these stages')
    .option('--force [stages...]', 'run these stages (or all) even when up to date');

export function createProgram(ctx: CliContext): Command {
  const program = new Command('build-quiche')
    .description("Patch and build Chromium's QUIC toy client and server from a pinned revision: resumable, cached, reproducible.")
    .version(TOOL_VERSION)
    .option('-c, --config <file>', 'config file (default: ./pipeline.config.ts, else built-in defaults)')
    .addOption(
      new Option('--backend <backend>', 'how quiche is built: chromium (default) or quiche (standalone)').choices([...BACKEND_IDS]),
    )
    .option('--pin <version>', 'Chromium version tag (or src commit) to build, e.g. 152.0.7977.83')
    .option('--cache-dir <dir>', 'state, logs, depot_tools and the checkout')
    .option('--dist-dir <dir>', 'where finished tarballs go')
    .option('-j, --jobs <n>', 'parallel compile jobs')
    .addOption(new Option('--builder <builder>', 'autoninja (siso) or ninja').choices(['autoninja', 'ninja']))
    .option('--src-dir <dir>', "adopt an existing gclient root instead of the cache's")
    .option('--move-existing', 'allow syncing an adopted checkout to the pin')
    .option('--offline', 'no CIPD access (mirrors, tests): VPYTHON_BYPASS and --ignore-dep-type=cipd')
    .option('--set <key=value>', 'set any config field, e.g. --set build.args.is_debug=true (repeatable)', collect, [])
    .option('--json', 'machine-readable output (NDJSON events, JSON results)')
    .option('--plain', 'plain line output even on a terminal')
    .option('-v, --verbose', 'print subprocess output and stacks')
    .option('--docker', 'run the command in the builder image (Dockerfile.builder) with docker or podman; see docs/docker.md')
    .showHelpAfterError('(run build-quiche --help for usage)')
    .exitOverride()
    .hook('preAction', async (_program, action) => {
      if (!ctx.globals().docker) return;
      if (!DOCKER_COMMANDS.has(action.name())) {
        throw new UsageError(`--docker applies to ${[...DOCKER_COMMANDS].join(', ')}; \`${action.name()}\` runs on the host.`);
      }
      if (await ctx.inContainer()) throw new RanInContainer();
    });

  selectionOptions(program.command('build', { isDefault: true }).description('run the pipeline (the default command)')).action(
    async (opts: SelectionFlags) => {
      const renderer = chooseRenderer(ctx.mode(), ctx.io);
      let shown: BuildQuicheError | undefined;
      const onEvent = (event: PipelineEvent) => {
        if (event.type === 'stage-fail' && renderer.showsFailures) shown = event.error;
        renderer.onEvent(event);
      };
      try {
        await build({ ...ctx.configOptions(), ...selectionFrom(opts), signal: ctx.signal, onEvent, command: 'build' });
      } catch (error) {
        // The renderer already printed this stage failure; keep only its exit code.
        if (shown && error === shown) throw new AlreadyReported(shown);
        throw error;
      } finally {
        await renderer.done();
      }
    },
  );

  selectionOptions(program.command('plan').description('show what a build would run or skip, and why')).action(
    async (opts: SelectionFlags) => {
      const entries = await plan({ ...ctx.configOptions(), ...selectionFrom(opts) });
      if (ctx.mode().json) return ctx.io.stdout(JSON.stringify(entries, null, 2));
      const width = Math.max(...entries.map((e) => e.stage.length));
      for (const entry of entries) {
        ctx.io.stdout(
          `${entry.stage.padEnd(width)}  ${entry.status.padEnd(15)} ${entry.reason}${entry.summary ? `  [last: ${entry.summary}]` : ''}`,
        );
      }
    },
  );

  program
    .command('status')
    .description('what each stage last did, and whether a run is in progress')
    .action(async () => {
      const report = await status(ctx.configOptions());
      if (ctx.mode().json) return ctx.io.stdout(JSON.stringify(report, null, 2));
      ctx.io.stdout(`cache: ${report.cacheDir}`);
      if (report.lock) {
        ctx.io.stdout(
          report.lockAlive
            ? `lock: held by pid ${report.lock.pid} ("${report.lock.command}", since ${report.lock.startedAt})`
            : `lock: left by pid ${report.lock.pid}, which is no longer running (the next run takes it over)`,
        );
      }
      const width = Math.max(...report.stages.map((s) => s.stage.length));
      for (const s of report.stages) {
        const state = s.guard
          ? s.guard.failure
            ? `FAILED (run ${s.guard.runId}): ${s.guard.failure.message.split('\n')[0]}`
            : `INTERRUPTED (run ${s.guard.runId}, pid ${s.guard.pid}); the next run repairs it`
          : s.record
            ? `done ${s.record.finishedAt} in ${formatDuration(s.record.durationMs)}${s.summary ? `: ${s.summary}` : ''}`
            : s.everyRun
              ? `checked on every run${s.everyRun.lastCheckedAt ? `; last ${s.everyRun.lastCheckedAt}` : ''}`
              : 'never run';
        ctx.io.stdout(`${s.stage.padEnd(width)}  ${state}`);
      }
    });

  program
    .command('doctor')
    .description('check the host: disk, memory, cores, tools')
    .action(async () => {
      const report = await doctor(ctx.configOptions());
      if (ctx.mode().json) ctx.io.stdout(JSON.stringify(report, null, 2));
      else {
        for (const line of formatHostReport(report)) ctx.io.stdout(line);
        for (const warning of report.warnings) ctx.io.stdout(`warning: ${warning}`);
        for (const problem of report.problems) ctx.io.stdout(`problem: ${problem}`);
      }
      if (report.problems.length) ctx.setExitCode(EXIT_CODES.preflight);
    });

  program
    .command('clean')
    .description('forget stage records so they run again (files stay unless --checkout)')
    .option('--stage <stages...>', 'only these stages')
    .option('--checkout', "also delete the cache's own checkout (never an adopted one)")
    .action(async (opts: { stage?: string[]; checkout?: boolean }) => {
      const result = await clean({ ...ctx.configOptions(), stages: opts.stage, checkout: opts.checkout });
      if (ctx.mode().json) return ctx.io.stdout(JSON.stringify(result));
      ctx.io.stdout(`forgot: ${result.forgotten.join(', ')}`);
      for (const dir of result.removed) ctx.io.stdout(`removed: ${dir}`);
    });

  program
    .command('schema')
    .description('print the JSON Schema of pipeline.config.ts')
    .action(() => ctx.io.stdout(renderConfigJsonSchema().trimEnd()));

  program
    .command('config')
    .description('print the effective configuration (after file, env and flags)')
    .action(async () => ctx.io.stdout(JSON.stringify(await loadConfig(ctx.configOptions()), null, 2)));

  registerInstallCommand(program, ctx);
  registerPatchCommands(program, ctx);
  registerLabCommand(program, ctx);
  return program;
}

/** Runs the CLI; returns the exit code (never calls process.exit, so tests can call it). */
export async function runCli(argv: string[], io: Io = processIo(), signal: AbortSignal = new AbortController().signal): Promise<number> {
  let exitCode = 0;
  let program: Command | undefined;
  const globals = (): GlobalOptions => program?.opts<GlobalOptions>() ?? { set: [] };
  const mode = (): OutputMode => ({ json: !!globals().json, verbose: !!globals().verbose, plain: !!globals().plain });
  const ctx: CliContext = {
    io,
    globals,
    mode,
    signal,
    setExitCode: (code) => (exitCode = code),
    configOptions: () => ({
      configFile: globals().config,
      flags: flagsToConfig(globals(), process.cwd()),
      set: globals().set,
      cwd: process.cwd(),
      env: io.env,
    }),
    inContainer: async () => {
      if (!globals().docker) return false;
      const config = await loadConfig(ctx.configOptions());
      exitCode = await runInContainer({ argv, config, io, signal, env: io.env });
      return true;
    },
  };
  program = createProgram(ctx);
  program.configureOutput({ writeOut: (s) => io.stdout(s.replace(/\n$/, '')), writeErr: (s) => io.stderr(s.replace(/\n$/, '')) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      return thrown.exitCode === 0 ? 0 : 2;
    }
    if (thrown instanceof AlreadyReported) return signal.aborted ? 130 : thrown.error.exitCode;
    if (thrown instanceof RanInContainer) return exitCode;
    const error: BuildQuicheError = signal.aborted ? new InterruptedError('Interrupted.', { cause: thrown }) : toBuildQuicheError(thrown);
    reportError(error, ctx);
    return error.exitCode;
  }
}

/** The command ran in the builder image (--docker); its exit code is set and the host action is skipped. */
class RanInContainer extends Error {}

/** A failure the renderer has shown already; carries only its exit code up. */
class AlreadyReported extends Error {
  constructor(readonly error: BuildQuicheError) {
    super(error.message);
  }
}

function reportError(error: BuildQuicheError, ctx: CliContext): void {
  if (ctx.mode().json) {
    ctx.io.stdout(JSON.stringify({ type: 'error', error: error.toJSON() }));
    return;
  }
  for (const line of formatFailure(error, undefined, ctx.mode().verbose)) ctx.io.stderr(line);
}
