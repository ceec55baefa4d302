import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CompileOutput } from '../src/artifacts/binary.js';
import type { Stage } from '../src/engine/stage.js';
import type { AppContext } from '../src/stages/context.js';
import { build, throwIfFailed } from '../src/tools/builder.js';
import { prebuiltBackend } from './prebuilt-backend.js';
import { writeConfigFile } from './world.js';

/**
 * A build that prints fast, for measuring what build-quiche's output costs and whether a slow reader
 * of it can hold the build up (bench/output-overhead.ts, test/integration/slow-reader.test.ts).
 *
 * The test backend of prebuilt-backend.ts, whose compile stage first runs a stand-in ninja through the
 * real compile path (tools/builder.ts build(): exec, the stage log, progress parsing, the renderer's
 * events): a Python program that prints LOUD_LINES ninja status lines as fast as the pipe takes them
 * and writes, when done, how long that took it (its own clock: a reader that holds build-quiche up
 * holds it up too). loud-cli.ts runs the real CLI with this backend registered.
 */

export const PRINTER = `import os, sys, time
n = int(os.environ.get('LOUD_LINES', '100000'))
start = time.monotonic()
w = sys.stdout.write
for i in range(1, n + 1):
    w(f"[{i}/{n}] CXX obj/net/third_party/quiche/src/quiche/quic/core/libquiche.quic_file_{i % 1000}.o\\n")
sys.stdout.flush()
report = os.environ.get('LOUD_PRINTER_REPORT')
if report:
    with open(report, 'w') as f:
        f.write(str(time.monotonic() - start))
`;

export interface LoudWorld {
  dir: string;
  config: string;
  /** The stand-in programs the prebuilt backend copies. */
  fixtures: string;
  printer: string;
}

/** A work dir with a config for the loud backend, its stand-in programs and the printer. */
export async function loudWorld(dir: string): Promise<LoudWorld> {
  const fixtures = path.join(dir, 'fixtures');
  await mkdir(fixtures, { recursive: true });
  for (const name of ['epoll_quic_client', 'epoll_quic_server']) {
    await writeFile(path.join(fixtures, name), `#!/bin/sh\necho ${name}\n`);
    await chmod(path.join(fixtures, name), 0o755);
  }
  const printer = path.join(dir, 'loud-ninja.py');
  await writeFile(printer, PRINTER);
  const series = path.join(dir, 'series');
  await writeFile(series, '');
  const config = await writeConfigFile(dir, {
    backend: 'prebuilt',
    cacheDir: path.join(dir, 'cache'),
    distDir: path.join(dir, 'dist'),
    patches: { series },
    smoke: { enabled: false },
    publish: [],
    preflight: { minFreeDiskGb: 0.1, minMemoryGb: 0.5 },
  });
  return { dir, config, fixtures, printer };
}

/** prebuiltBackend with a compile stage that runs the printer first, and never up to date. */
export function loudBackend(fixtures: string, printer: string) {
  const backend = prebuiltBackend(fixtures);
  const copy = backend.buildStages[0] as Stage<AppContext, { dir: string }, CompileOutput>;
  const compile: Stage<AppContext, { dir: string }, CompileOutput> = {
    ...copy,
    async run(ctx, inputs) {
      const outDir = path.join(ctx.app.paths.cacheDir, 'prebuilt', 'out', 'Release');
      await mkdir(outDir, { recursive: true });
      const command = 'python3';
      // This process's CPU while the build prints: exec, the stage log, progress, events and renderer.
      const cpu = process.cpuUsage();
      const started = performance.now();
      const built = await build({
        exec: (_file, args, options) => ctx.exec(command, [printer, ...args], options),
        command,
        outDir,
        targets: [],
        jobs: 2,
        env: {},
        onProgress: (progress) => ctx.report.progress(progress),
      });
      const used = process.cpuUsage(cpu);
      const report = process.env.LOUD_STAGE_REPORT;
      if (report) {
        const stage = { cpuSeconds: (used.user + used.system) / 1e6, wallSeconds: (performance.now() - started) / 1000 };
        await writeFile(report, JSON.stringify(stage));
      }
      throwIfFailed(built, command);
      return copy.run(ctx, inputs);
    },
    verify: () => Promise.resolve('the loud build always runs'),
  };
  return { ...backend, buildStages: [compile as Stage<AppContext, unknown, unknown>] };
}

export interface LoudRun {
  /** The printer's own time from its first line to its last. */
  printerSeconds: number;
  /** The CLI's CPU and wall time while the printer ran (what the lines cost it). */
  stage: { cpuSeconds: number; wallSeconds: number };
  /** The CLI's exit code, CPU, peak RSS, and how long its run took and when it exited. */
  cli: { code: number; cpuSeconds: number; maxRssMb: number; runMs: number; exitMs: number };
  /** What the reader got. */
  stdout: string;
  /** Lines in the compile stage's log. */
  logLines: number;
}

export interface LoudOptions {
  world: LoudWorld;
  /** CLI arguments after `build` (--json, --plain, -v ...). */
  args: string[];
  lines: number;
  /** Run the CLI on a terminal (script(1) gives it a pty), as the live view needs. */
  tty?: boolean;
  /**
   * How the reader takes build-quiche's output: 'fast', or bytes per second until the printer is
   * done (then fast, so the run can end).
   */
  reader: 'fast' | { bytesPerSecond: number };
}

const TSX = import.meta.resolve('tsx');
const LOUD_CLI = path.join(import.meta.dirname, 'loud-cli.ts');

/** Runs the loud build through the real CLI in a child process, read as `reader` says. */
export async function runLoud(options: LoudOptions): Promise<LoudRun> {
  const { world } = options;
  const printerReport = path.join(world.dir, 'printer-report.txt');
  const cliReport = path.join(world.dir, 'cli-report.json');
  const stageReport = path.join(world.dir, 'stage-report.json');
  for (const file of [printerReport, cliReport, stageReport]) await rm(file, { force: true });
  const argv = [process.execPath, '--import', TSX, LOUD_CLI, '-c', world.config, 'build', ...options.args];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOUD_FIXTURES: world.fixtures,
    LOUD_PRINTER: world.printer,
    LOUD_LINES: String(options.lines),
    LOUD_PRINTER_REPORT: printerReport,
    LOUD_CLI_REPORT: cliReport,
    LOUD_STAGE_REPORT: stageReport,
  };
  if (options.tty) {
    delete env.CI;
    env.TERM = 'xterm-256color';
  } else env.CI = '1';
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const child = options.tty
    ? // A pty has no size of its own: give it one, as a terminal window has.
      spawn('script', ['-qfec', `stty cols 120 rows 40; exec ${argv.map(quote).join(' ')}`, '/dev/null'], {
        cwd: world.dir,
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      })
    : spawn(argv[0]!, argv.slice(1), { cwd: world.dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const chunks: Buffer[] = [];
  const stdout = child.stdout;
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  if (options.reader === 'fast') {
    stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  } else {
    // Paused, the stream stops reading the pipe once its small buffer is full; read() takes a slice.
    const slice = Math.max(1, Math.round(options.reader.bytesPerSecond / 10));
    stdout.pause();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (existsSync(printerReport)) {
          clearInterval(timer);
          resolve();
          return;
        }
        const chunk = stdout.read(slice) as Buffer | null;
        if (chunk) chunks.push(chunk);
      }, 100);
      void exited.then(() => {
        clearInterval(timer);
        resolve();
      });
    });
    stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    stdout.resume();
  }
  await exited;
  const cli = JSON.parse(await readFile(cliReport, 'utf8')) as LoudRun['cli'];
  const printerSeconds = Number(await readFile(printerReport, 'utf8'));
  const stage = JSON.parse(await readFile(stageReport, 'utf8')) as LoudRun['stage'];
  const logs = path.join(world.dir, 'cache', 'logs');
  const runs = (await readdir(logs)).sort();
  const log = await readFile(path.join(logs, runs.at(-1)!, 'compile.log'), 'utf8');
  const logLines = log.split('\n').filter((l) => /^\[\d+\/\d+\] CXX /.test(l)).length;
  return { printerSeconds, stage, cli, stdout: Buffer.concat(chunks).toString('utf8'), logLines };
}
