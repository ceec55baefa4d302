/**
 * The standalone quiche backend's fault class: a cold `build --backend quiche --until patch` (pin the
 * dependencies from MODULE.bazel, shallow-fetch quiche and its five dependencies from the real sources
 * of ../shared/upstream, patch quiche) hit by kill -9 (the CLI alone or its group) at a random moment,
 * or by the upstream answering 5xx or cutting a response on one repository. Judged by: the faulted run
 * ends with 0 (retried) or 7, or was killed; the next run completes; every repository is checked out at
 * its pinned commit, one commit deep, and quiche carries exactly the patched files. The dependency
 * builds (CMake) are not in here: killing them is the real tier's (test/real, minutes per trial).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { exec } from '../../src/process/exec.js';
import type { StandaloneCheckoutOutput } from '../../src/stages/backends/standalone/checkout.js';
import { headCommit } from '../../src/tools/git.js';
import { writeConfigFile } from '../support/cli.js';
import { standaloneConfig } from '../support/standalone-config.js';
import { SKIP_REASON, upstreamViews } from '../../testkit/shared-upstream.js';
import { startUpstreamServer, type UpstreamServer } from '../../testkit/server.js';
import { killCli, pick, runCli, startCli, strays, tail } from './harness.js';

interface QuicheTrialContext {
  rand: () => number;
  log(line: string): void;
}

const REPOS = ['quiche', 'boringssl', 'abseil-cpp', 'protobuf', 'googleurl', 'quic-trace'] as const;
/** About how long a cold quiche checkout to the patch stage lasts here (7-9 s). */
const SPAN_MS = 8000;
const KINDS = ['kill9-process', 'kill9-group', 'network-fail', 'network-cut'] as const;

const git = async (dir: string, ...args: string[]) => (await exec('git', ['-C', dir, ...args])).stdout.trim();

/** What the run after the fault must leave: every repository at its pin, one commit deep, quiche patched and nothing else. */
async function checkoutProblems(dir: string): Promise<string | undefined> {
  const state = JSON.parse(await readFile(path.join(dir, 'cache', 'state.json'), 'utf8')) as {
    stages: Record<string, { outputs: unknown }>;
  };
  const checkout = state.stages.checkout?.outputs as StandaloneCheckoutOutput | undefined;
  if (!checkout) return 'the state records no finished checkout';
  const names = Object.keys(checkout.sources).sort();
  if (names.join() !== [...REPOS].sort().join()) return `checked out ${names.join(', ')}, expected ${[...REPOS].sort().join(', ')}`;
  for (const [name, repo] of Object.entries(checkout.sources)) {
    const head = await headCommit(repo.path);
    if (head !== repo.commit) return `${name} is at ${head ?? 'no commit'}, the state says ${repo.commit}`;
    if ((await git(repo.path, 'rev-list', '--count', 'HEAD')) !== '1') return `${name} is not one commit deep`;
  }
  const patched = (state.stages.patch?.outputs as { files?: Array<{ path: string }> } | undefined)?.files?.map((f) => f.path).sort();
  if (!patched?.length) return 'the state records no patched files';
  // -z: no trimming or quoting of the "XY path" entries.
  const status = await exec('git', ['-C', checkout.sources.quiche!.path, 'status', '--porcelain', '-z', '--untracked-files=all']);
  const changed = status.stdout
    .split('\0')
    .filter(Boolean)
    .map((entry) => entry.slice(3))
    .sort();
  if (changed.join() !== patched.join())
    return `quiche's changed files (${changed.join(', ')}) are not the patched ones (${patched.join(', ')})`;
  return undefined;
}

export async function quicheCheckoutTrial(ctx: QuicheTrialContext): Promise<string | undefined> {
  if (SKIP_REASON) return `skip: ${SKIP_REASON}`;
  let server: UpstreamServer | undefined;
  const ws = await mkdtemp(path.join(os.tmpdir(), 'bq-fault-quiche-'));
  try {
    server = await startUpstreamServer({ reposDir: await upstreamViews() });
    // publish off: the trial judges the checkout, not a store.
    await writeConfigFile(ws, { ...standaloneConfig(server.baseUrl, ws), publish: [] });
    const kind = pick(ctx.rand, KINDS);
    const args = ['build', '--plain', '--until', 'patch'];
    let what: string;
    if (kind.startsWith('kill9')) {
      const at = Math.round(ctx.rand() * SPAN_MS);
      const cli = startCli(ws, args);
      await Promise.race([sleep(at), cli.child]);
      const stage = [...cli.output().matchAll(/▶ ([\w-]+):/g)].at(-1)?.[1] ?? 'start';
      await killCli(cli, kind === 'kill9-group');
      const result = await cli.child;
      what = `${kind} at ${(at / 1000).toFixed(1)}s in ${stage}${result.signal ? '' : ` (it had finished: exit ${result.exitCode})`}`;
    } else {
      const repo = pick(ctx.rand, REPOS);
      const count = 1 + Math.floor(ctx.rand() * 3);
      const pathContains = `/${repo}/git-upload-pack`;
      if (kind === 'network-fail') server.faults.failNext(count, { status: pick(ctx.rand, [500, 502, 503]), pathContains });
      else
        server.faults.cutNext(Math.floor(ctx.rand() * 50_000), { count, pathContains, mode: pick(ctx.rand, ['reset', 'close'] as const) });
      const faulted = await runCli(ws, args);
      server.faults.reset();
      what = `${kind} x${count} on ${repo}: exit ${faulted.code}`;
      if (faulted.code !== 0 && faulted.code !== 7) return `${what}, expected 0 (retried) or 7: ${tail(faulted.output)}`;
    }
    ctx.log(what);
    const next = await runCli(ws, args);
    if (next.code !== 0) return `after ${what}: the next run exited ${next.code}: ${tail(next.output)}`;
    const problem = await checkoutProblems(ws);
    if (problem) return `after ${what}: ${problem}`;
    const left = await strays(ws);
    if (left.length) return `after ${what} and a rerun, processes still run: ${left.join(', ')}`;
    return undefined;
  } finally {
    await server?.close();
    await rm(ws, { recursive: true, force: true });
  }
}
