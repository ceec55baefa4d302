import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defineStage, type StageContext } from '../../../engine/stage.js';
import {
  CMAKE_RECIPES,
  configureArgs,
  distributedCacheArgs,
  installPrefixName,
  type CmakeDependency,
  type Toolchain,
} from '../../../standalone/cmake-recipes.js';
import type { InstalledDependency } from '../../../standalone/build-plan.js';
import { build, configure, install } from '../../../tools/cmake.js';
import type { AppContext } from '../../context.js';
import { jobsOf } from '../../host-check.js';
import { distributedFor, localJobsOf, standaloneDistributedUse, type DistributedBuild } from '../../distributed.js';
import { launcherFor } from '../../../distributed/env.js';
import { prefixMapFlags } from '../../../standalone/path-map.js';
import { buildDir, compilerCacheEnv, INSTALLED_MARKER, prefixDir, quicheCache } from './layout.js';
import type { StandaloneCheckoutOutput } from './checkout.js';
import type { DependencyPinsOutput } from './dependency-pins.js';

/** Build order: protobuf is built against the abseil installed before it. */
const ORDER: readonly CmakeDependency[] = ['boringssl', 'abseil-cpp', 'protobuf'];

export interface DependencyBuildsInputs {
  toolchain: Toolchain;
  builds: Array<{ name: CmakeDependency; source: string; commit: string }>;
}

export interface DependencyBuildsOutput {
  installed: Record<CmakeDependency, InstalledDependency>;
}

type Ctx = StageContext<AppContext>;

/**
 * BoringSSL, abseil and protobuf, each with its own CMake build (recipes in quiche/cmake-recipes.ts),
 * installed into a prefix keyed by its commit, the compiler and the flags. The marker is written after
 * the install: a prefix without it (a killed build) is built again, incrementally in its build tree;
 * one with it is skipped, so builds that share the key share the prefix.
 */
export const dependencyBuildsStage = defineStage<AppContext, DependencyBuildsInputs, DependencyBuildsOutput>({
  id: 'dependency-builds',
  // Its id until the stage files were named by stage id: a cache made before keeps its record and guard.
  formerIds: ['dependencies'],
  title: 'Build the dependencies (CMake)',
  after: ['dependency-pins', 'checkout'],
  inputs: ({ upstream }) => {
    const deps = upstream<DependencyPinsOutput>('dependency-pins');
    const sources = upstream<StandaloneCheckoutOutput>('checkout').sources;
    const builds = ORDER.map((name) => {
      const source = sources[name];
      if (!source) throw new Error(`checkout has no ${name}: dependency table and build order disagree`);
      return { name, source: source.path, commit: source.commit };
    });
    return { toolchain: deps.toolchain, builds };
  },
  async run(ctx, inputs) {
    // The distributed engine is probed only when a dependency is built (once per run, shared with compile).
    let distributed: Promise<DistributedBuild | undefined> | undefined;
    const engine = () => (distributed ??= distributedFor(ctx, standaloneDistributedUse(ctx.app, inputs.toolchain)));
    const prefixes: Partial<Record<CmakeDependency, string>> = {};
    const installed: Partial<Record<CmakeDependency, InstalledDependency>> = {};
    for (const dep of inputs.builds) {
      const recipe = CMAKE_RECIPES[dep.name];
      const needed = Object.fromEntries(recipe.needs.map((n) => [n, prefixes[n]!]));
      const name = installPrefixName(dep.name, dep.commit, inputs.toolchain, needed);
      const prefix = prefixDir(ctx.app, name);
      if (existsSync(path.join(prefix, INSTALLED_MARKER))) {
        ctx.report.note(`${dep.name}: installed in ${name} (shared; not rebuilt)`);
      } else {
        await buildOne(ctx, dep, name, inputs.toolchain, needed, await engine());
      }
      prefixes[dep.name] = prefix;
      installed[dep.name] = { prefix, files: await listLinkInputs(prefix) };
    }
    // Where the dependencies' compiles ran (all of them, when something was built).
    if (distributed) (await distributed)?.finish();
    return { installed: installed as Record<CmakeDependency, InstalledDependency> };
  },
  verify(_ctx, { outputs }) {
    const gone = Object.entries(outputs.installed).find(([, dep]) => !existsSync(path.join(dep.prefix, INSTALLED_MARKER)));
    return Promise.resolve(gone ? `${gone[0]}'s install in ${gone[1].prefix} is gone or unfinished` : true);
  },
  describe: (o) =>
    Object.values(o.installed)
      .map((d) => path.basename(d.prefix))
      .join(', '),
});

async function buildOne(
  ctx: Ctx,
  dep: DependencyBuildsInputs['builds'][number],
  name: string,
  toolchain: Toolchain,
  needed: Partial<Record<CmakeDependency, string>>,
  distributed: DistributedBuild | undefined,
): Promise<void> {
  const recipe = CMAKE_RECIPES[dep.name];
  const prefix = prefixDir(ctx.app, name);
  const tree = buildDir(ctx.app, name);
  const started = Date.now();
  // A half-installed prefix must not be linked against: it is emptied, the build tree is kept (ninja resumes).
  await rm(prefix, { recursive: true, force: true });
  await mkdir(tree, { recursive: true });
  ctx.report.line(`${dep.name}: configuring in ${tree}`);
  const env = { ...compilerCacheEnv(ctx.app), ...distributed?.env };
  // The launcher a distributed build needs (distcc when ccache is off); not part of the prefix key.
  const launching = { ...toolchain, ...(toolchain.launcher || !distributed ? {} : { launcher: launcherFor(false, true) }) };
  await configure(
    [
      ...configureArgs(dep.name, dep.source, tree, prefix, launching, needed, prefixMapFlags(quicheCache(ctx.app), tree)),
      ...distributedCacheArgs(launching, distributed ? localJobsOf(ctx.app) : undefined),
    ],
    { exec: ctx.exec, env },
  );
  let lastProgress = 0;
  const report = distributed ? distributed.progress(ctx.report.progress) : ctx.report.progress;
  await build(tree, {
    exec: ctx.exec,
    env,
    jobs: distributed?.jobs ?? jobsOf(ctx.app.config),
    ...(recipe.buildTargets ? { targets: recipe.buildTargets } : {}),
    onProgress: (progress) => {
      const now = Date.now();
      if (now - lastProgress < 100 && progress.done !== progress.total) return;
      lastProgress = now;
      report({ done: progress.done, total: progress.total, message: `${dep.name}: ${progress.description}` });
    },
  });
  for (const component of recipe.installComponents ?? [undefined]) {
    await install(tree, { exec: ctx.exec, ...(component ? { component } : {}) });
  }
  await writeFile(path.join(prefix, INSTALLED_MARKER), `${dep.name} ${dep.commit} ${toolchain.compilerId} ${toolchain.flags.join(' ')}\n`);
  ctx.report.note(`${dep.name}: built and installed in ${Math.round((Date.now() - started) / 1000)} s -> ${name}`);
}

/** The files under lib/ and bin/ of a prefix (what the link and protoc need), relative to it. */
async function listLinkInputs(prefix: string): Promise<string[]> {
  const files: string[] = [];
  for (const dir of ['lib', 'bin']) {
    const abs = path.join(prefix, dir);
    if (!existsSync(abs)) continue;
    for (const entry of await readdir(abs, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) files.push(path.relative(prefix, path.join(entry.parentPath, entry.name)));
    }
  }
  return files.sort();
}
