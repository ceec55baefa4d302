/**
 * Before a build sends compiles to a host, the host must earn it: it answers, its distccd runs our
 * compiler for us, and it compiles a probe file to the same bytes as this machine's compiler, on that
 * host alone with fallback off (so a compile that silently ran here cannot pass). distcc checks none of
 * this itself: a host with another compiler build would hand back objects that differ, or worse, link.
 */
import { createConnection } from 'node:net';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Exec } from '../process/exec.js';
import { distccCompile, DISTCC_EXIT_CODES } from '../tools/distcc.js';
import { countDistccLines } from './log.js';
import type { DistccHost } from './hosts.js';

/** A little of everything a compiler decides: inlining, loops, templates, strings, debug info. */
const PROBE_CXX = `// build-quiche's distcc probe
#include <cstddef>
template <typename T> struct Box { T value; T twice() const { return value + value; } };
static inline unsigned mix(unsigned h, unsigned c) { return (h ^ c) * 16777619u; }
unsigned probe_hash(const char* s, std::size_t n) {
  unsigned h = 2166136261u;
  for (std::size_t i = 0; i < n; ++i) h = mix(h, static_cast<unsigned char>(s[i]));
  return Box<unsigned>{h}.twice();
}
const char* probe_version() { return __VERSION__; }
double probe_float(double x) { return x * 0.5 + (x > 1 ? 1.0 / x : x); }
`;
const PROBE_C = `/* build-quiche's distcc probe */
static unsigned mix(unsigned h, unsigned c) { return (h ^ c) * 16777619u; }
unsigned probe_hash(const char *s, unsigned long n) {
  unsigned h = 2166136261u;
  for (unsigned long i = 0; i < n; ++i) h = mix(h, (unsigned char)s[i]);
  return h;
}
const char *probe_version(void) { return __VERSION__; }
double probe_float(double x) { return x * 0.5 + (x > 1 ? 1.0 / x : x); }
`;

/** C++ by the compiler's name (g++, c++, clang++, ...), else C. */
export const isCxxCompiler = (compiler: string) => /\+\+|(^|\/)c\+\+/.test(path.basename(compiler));

export interface HostVerdict {
  host: DistccHost;
  usable: boolean;
  /** Why not, in words a user can act on. */
  reason?: string;
  /** How long the probe took on this host. */
  ms: number;
}

export interface ProbeOptions {
  hosts: readonly DistccHost[];
  /** Compilers to check, as the build calls them (g++-12, gcc-12). */
  compilers: readonly string[];
  /** Flags the probe compiles with (optimization, debug info): the build's own, as far as they matter. */
  flags: readonly string[];
  exec: Exec;
  /** A scratch directory (emptied first). */
  workDir: string;
  /** How long a TCP host may take to accept a connection. */
  connectTimeoutMs?: number;
}

/**
 * The compiler's self-description in an object: gcc's `.ident` (`GCC: (Debian 12.2.0-14) 12.2.0`, the
 * string `__VERSION__` holds) or clang's (`clang version 16.0.6`). Undefined if none is found.
 */
export function compilerIdent(object: Buffer): string | undefined {
  const text = object.toString('latin1');
  const match = /(GCC: \([^\0]*|clang version [^\0]*)/.exec(text);
  return match?.[1];
}

/** Why the bytes differ, as far as the objects tell. */
export function describeMismatch(compiler: string, local: Buffer, remote: Buffer): string {
  const here = compilerIdent(local);
  const there = compilerIdent(remote);
  if (here && there && here !== there)
    return `its ${compiler} is another compiler: it identifies as "${there}", this machine's as "${here}"`;
  return `its ${compiler} compiles the probe to other bytes than this machine's (${remote.length} vs ${local.length} bytes; same version string: another build, patches or default flags)`;
}

/** Whether something accepts TCP connections at host:port; the error code when not. */
export function tcpAnswers(host: string, port: number, timeoutMs: number): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (result: true | string) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s`));
    socket.once('connect', () => done(true));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

/** Why a probe compile through distcc failed, from its exit code and its log. */
export function explainFailure(host: DistccHost, compiler: string, exitCode: number, log: string): string {
  const errors = log
    .split('\n')
    .filter((line) => /ERROR|CRITICAL|Warning/.test(line))
    .map((line) => line.replace(/^distcc\[\d+\] (\([a-z_]+\) )?/, ''));
  if (/HTTP\/1\.[01]/.test(log)) return `something other than distccd answers on port ${host.port}`;
  if (exitCode === 110) return `it has no ${compiler} (distcc exit 110)`;
  if (errors.some((e) => /server provided no answer|unexpected eof|read failed/.test(e))) {
    return `its distccd refused the job: it does not allow this machine (--allow), or does not run ${compiler} (distccd runs only compilers linked in /usr/lib/distcc: update-distcc-symlinks)`;
  }
  const code = DISTCC_EXIT_CODES[exitCode];
  const last = errors.at(-1);
  return `the probe compile failed (exit ${exitCode}${code ? `: ${code}` : ''})${last ? `: ${last}` : ''}`;
}

/**
 * Probes every host (in parallel; each alone, fallback off, a fresh DISTCC_DIR so an old backoff
 * cannot answer for it) and says which may take the build's compiles.
 */
export async function probeHosts(options: ProbeOptions): Promise<HostVerdict[]> {
  const { workDir } = options;
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  await writeFile(path.join(workDir, 'probe.cc'), PROBE_CXX);
  await writeFile(path.join(workDir, 'probe.c'), PROBE_C);
  // Paths in the objects as the build spells them (path-map.ts): relative to the compile's directory.
  const flags = [...options.flags, `-ffile-prefix-map=${workDir}=.`];
  const sourceOf = (compiler: string) => (isCxxCompiler(compiler) ? 'probe.cc' : 'probe.c');

  const local = new Map<string, Buffer | string>();
  for (const [i, compiler] of options.compilers.entries()) {
    const out = `local-${i}.o`;
    const result = await options
      .exec(compiler, [...flags, '-c', sourceOf(compiler), '-o', out], { cwd: workDir, allowFailure: true, timeoutMs: 120_000 })
      .catch((error: Error) => ({ exitCode: -1, stderr: error.message, stdout: '' }));
    local.set(
      compiler,
      result.exitCode === 0
        ? await readFile(path.join(workDir, out))
        : `${compiler} does not compile here: ${result.stderr.trim().split('\n')[0] ?? ''}`,
    );
  }

  return Promise.all(
    options.hosts.map(async (host, h): Promise<HostVerdict> => {
      const started = Date.now();
      const verdict = (reason?: string): HostVerdict => ({
        host,
        usable: !reason,
        ...(reason ? { reason } : {}),
        ms: Date.now() - started,
      });
      if (host.kind === 'tcp') {
        const answers = await tcpAnswers(host.host, host.port, options.connectTimeoutMs ?? 3000);
        if (answers !== true) return verdict(`does not answer on ${host.host}:${host.port} (${answers})`);
      }
      const distccDir = path.join(workDir, `host-${h}`);
      await mkdir(distccDir, { recursive: true });
      for (const [i, compiler] of options.compilers.entries()) {
        const mine = local.get(compiler);
        if (mine === undefined || typeof mine === 'string') return verdict(mine ?? `${compiler} was not compiled here`);
        const logFile = path.join(distccDir, `distcc-${i}.log`);
        const out = `host-${h}-${i}.o`;
        const result = await distccCompile({
          exec: options.exec,
          compiler,
          args: [...flags, '-c', sourceOf(compiler), '-o', out],
          cwd: workDir,
          env: {
            DISTCC_HOSTS: host.spec,
            DISTCC_FALLBACK: '0',
            DISTCC_SKIP_LOCAL_RETRY: '1',
            DISTCC_DIR: distccDir,
            DISTCC_LOG: logFile,
            DISTCC_IO_TIMEOUT: '30',
          },
          timeoutMs: 90_000,
        }).catch((error: Error) => ({ exitCode: -1, stdout: '', stderr: error.message }));
        const log = await readFile(logFile, 'utf8').catch(() => result.stderr);
        if (result.exitCode !== 0) return verdict(explainFailure(host, compiler, result.exitCode, log));
        // With fallback off a local compile fails; still, only a compile the log puts on the host counts.
        if (!countDistccLines(log).remote[host.spec])
          return verdict(`the probe compile of ${compiler} did not run on it (distcc's log names no remote compile)`);
        const theirs = await readFile(path.join(workDir, out));
        if (!theirs.equals(mine)) return verdict(describeMismatch(compiler, mine, theirs));
      }
      return verdict();
    }),
  );
}
