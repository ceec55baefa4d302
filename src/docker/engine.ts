import { exec, isMissingCommand, type ExecResult } from '../process/exec.js';
import { ContainerEngineNotFoundError } from './errors.js';

export type EngineKind = 'docker' | 'podman';
export type EnginePreference = 'auto' | EngineKind;

/** A container engine that answered: which CLI to run, and how it maps users. */
export interface ContainerEngine {
  /** The command to run (`docker`, `podman`, or a path). */
  command: string;
  /** What it really is: `docker` may be podman's compatibility wrapper. */
  kind: EngineKind;
  /** podman run by a non-root user: container uids are the user's subordinate ids, not the host's. */
  rootless: boolean;
  version: string;
}

export interface FindEngineOptions {
  env?: NodeJS.ProcessEnv;
  /** The uid podman would run as (rootless when not 0). Default: this process's. */
  uid?: number;
  timeoutMs?: number;
}

type Probe = { engine: ContainerEngine } | { problem: string };

async function probe(command: string, options: FindEngineOptions): Promise<Probe> {
  // A command that cannot start, or times out, answers like a failed one: with its message.
  const run = (args: string[]): Promise<Pick<ExecResult, 'exitCode' | 'stdout' | 'stderr'> & { missing?: boolean }> =>
    exec(command, args, {
      env: options.env ?? process.env,
      inheritEnv: false,
      allowFailure: true,
      timeoutMs: options.timeoutMs ?? 15_000,
    }).catch((error: unknown) => ({
      exitCode: -1,
      stdout: '',
      stderr: error instanceof Error ? error.message : String(error),
      missing: isMissingCommand(error),
    }));
  const version = await run(['--version']);
  if (version.exitCode !== 0) {
    return {
      problem: version.missing ? 'not found on PATH' : `\`${command} --version\` failed: ${firstLine(version.stderr || version.stdout)}`,
    };
  }
  const kind: EngineKind = /podman/i.test(version.stdout) ? 'podman' : 'docker';
  // A docker CLI without a daemon answers --version but nothing else: ask the server.
  const server = await run(
    kind === 'podman' ? ['info', '--format', '{{.Host.OCIRuntime.Name}}'] : ['version', '--format', '{{.Server.Version}}'],
  );
  if (server.exitCode !== 0)
    return {
      problem: `installed, but \`${command} ${kind === 'podman' ? 'info' : 'version'}\` failed: ${firstLine(server.stderr || server.stdout)}`,
    };
  const uid = options.uid ?? process.getuid?.() ?? 0;
  return { engine: { command, kind, rootless: kind === 'podman' && uid !== 0, version: firstLine(version.stdout) } };
}

const firstLine = (text: string) =>
  text
    .split('\n')
    .find((line) => line.trim())
    ?.trim() ?? '(no output)';

/**
 * The engine to use: the configured one, or with 'auto' docker when its daemon answers, else podman.
 * Throws ContainerEngineNotFoundError naming what was tried and why each failed.
 */
export async function findEngine(preference: EnginePreference, options: FindEngineOptions = {}): Promise<ContainerEngine> {
  const candidates: EngineKind[] = preference === 'auto' ? ['docker', 'podman'] : [preference];
  const problems: string[] = [];
  for (const command of candidates) {
    const result = await probe(command, options);
    if ('engine' in result) return result.engine;
    problems.push(`${command}: ${result.problem}`);
  }
  const wanted = preference === 'auto' ? 'docker or podman' : preference;
  throw new ContainerEngineNotFoundError(
    `--docker needs a container engine (${wanted}), and none could be used:\n  ${problems.join('\n  ')}`,
  );
}
