/**
 * A finished real standalone build (the real tier's, in BQ_REAL_CACHE, default ~/.cache/build-quiche-real,
 * work/main) seen from outside: its out dir, the dependencies' CMake build trees, and the exact compile
 * commands ninja ran there (`ninja -t commands`). The real tier's distcc test and bench/distcc.bench.ts
 * recompile those commands elsewhere; nothing here writes to the build.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REAL_CACHE_DIR = process.env.BQ_REAL_CACHE ?? path.join(os.homedir(), '.cache', 'build-quiche-real');

export interface RealBuild {
  /** The build's cache dir (work/main/cache). */
  cacheDir: string;
  /** cache/quiche: the root every compile of the build is mapped relative to. */
  quicheRoot: string;
  /** The quiche out dir holding build.ninja. */
  outDir: string;
  /** CMake build trees by dependency (boringssl, abseil-cpp, protobuf), when still on disk. */
  trees: Record<string, string>;
  /** The toolchain the build pinned. */
  toolchain: { cc: string; cxx: string; flags: string[]; launcher?: string };
}

interface StageRecordLike {
  outputs?: Record<string, unknown>;
}

/** The finished real build, or why there is none (its compile stage has not completed). */
export function finishedRealBuild(work = path.join(REAL_CACHE_DIR, 'work', 'main')): RealBuild | string {
  const stateFile = path.join(work, 'cache', 'state.json');
  if (!existsSync(stateFile)) return `no real build at ${work} (npm run test:real builds one)`;
  const stages = (JSON.parse(readFileSync(stateFile, 'utf8')) as { stages: Record<string, StageRecordLike> }).stages;
  const compile = stages.compile?.outputs;
  const configure = stages.configure?.outputs as { outDir?: string } | undefined;
  const pins = stages['dependency-pins']?.outputs as { toolchain?: RealBuild['toolchain'] } | undefined;
  const installed = (stages['dependency-builds']?.outputs as { installed?: Record<string, { prefix: string }> } | undefined)?.installed;
  if (!compile || !configure?.outDir || !pins?.toolchain || !installed)
    return `the real build at ${work} has not finished its compile stage`;
  if (!existsSync(path.join(configure.outDir, 'build.ninja'))) return `${configure.outDir}/build.ninja is gone`;
  const quicheRoot = path.dirname(path.dirname(configure.outDir));
  const trees: Record<string, string> = {};
  for (const [name, dep] of Object.entries(installed)) {
    const tree = path.join(quicheRoot, 'build', path.basename(dep.prefix));
    if (existsSync(path.join(tree, 'build.ninja'))) trees[name] = tree;
  }
  return { cacheDir: path.join(work, 'cache'), quicheRoot, outDir: configure.outDir, trees, toolchain: pins.toolchain };
}

export interface CompileCommand {
  /** The directory ninja ran it in. */
  dir: string;
  /** The command as ninja ran it, launcher (ccache) and all. */
  command: string;
  /** The object it writes (relative to dir). */
  output: string;
  /** The source it compiles. */
  source: string;
}

/** Every C/C++ compile ninja would run for `targets` in `dir` (`ninja -t commands`), in ninja's order. */
export function compileCommands(dir: string, targets: readonly string[] = []): CompileCommand[] {
  const text = execFileSync('ninja', ['-C', dir, '-t', 'commands', ...targets], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const commands: CompileCommand[] = [];
  for (const line of text.split('\n')) {
    const cmd = line.replace(/^cd \S+ && /, '');
    if (!/(^|\s)-c\s/.test(cmd) || !/\s-o\s/.test(cmd)) continue;
    const output = /\s-o\s+(\S+)/.exec(cmd)?.[1];
    const source = /\s-c\s+(\S+)/.exec(cmd)?.[1];
    if (!output || !source || !/\.(cc|c|cpp)$/.test(source)) continue;
    commands.push({ dir, command: cmd, output, source });
  }
  return commands;
}

/** `count` commands spread evenly over the list (the same ones every time). */
export function spread<T>(list: readonly T[], count: number): T[] {
  if (list.length <= count) return [...list];
  return Array.from({ length: count }, (_, i) => list[Math.floor((i * list.length) / count)]!);
}

/**
 * A command (a shell string, as ninja runs it) rewritten to compile directly (no ccache), with the object
 * going to `out` (an absolute path), no depfile, `extraFlags` at the end (after the build's own, as the
 * toolchain's release flags come after a CMake project's: `-g0` after BoringSSL's `-ggdb`) and, when
 * given, `prefix` (e.g. 'distcc') in front. Run it with `sh -c` in command.dir.
 */
export function retarget(command: CompileCommand, out: string, prefix = '', extraFlags: readonly string[] = []): string {
  let cmd = command.command.replace(/^(\S*\/)?(ccache|distcc)\s+/, '');
  cmd = cmd.replace(/\s-o\s+\S+/, ` -o '${out}'`);
  cmd = cmd.replace(/\s-M[FTQ]\s+\S+/g, '').replace(/\s-MM?D(?=\s)/g, '');
  return `${prefix ? `${prefix} ` : ''}${cmd}${extraFlags.length ? ` ${extraFlags.join(' ')}` : ''}`;
}
