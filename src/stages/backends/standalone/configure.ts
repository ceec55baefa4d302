import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { defineStage } from '../../../engine/stage.js';
import { fingerprint } from '../../../engine/fingerprint.js';
import { NotFoundError } from '../../../errors.js';
import { planQuicheBuild } from '../../../standalone/build-plan.js';
import { GOOGLEURL_LIBRARIES } from '../../../standalone/googleurl.js';
import { generateNinjaFile, translationUnitCount } from '../../../standalone/ninja-file.js';
import { sha256, writeIfChanged } from '../../../util/fs.js';
import type { AppContext } from '../../context.js';
import type { StandaloneCheckoutOutput } from './checkout.js';
import type { DependencyBuildsOutput } from './dependency-builds.js';
import { prefixMapFlags } from '../../../standalone/path-map.js';
import { outDir, quicheCache } from './layout.js';
import type { DependencyPinsOutput } from './dependency-pins.js';
import { launcherFor } from '../../../distributed/env.js';
import { distributing, localJobsOf } from '../../distributed.js';

export interface StandaloneConfigureInputs {
  sources: StandaloneCheckoutOutput['sources'];
  installed: DependencyBuildsOutput['installed'];
  toolchain: DependencyPinsOutput['toolchain'];
  outDir: string;
  /**
   * Present only with distributed.engine set (so other builds' inputs stay as they were): the launcher
   * (distcc when ccache is off) and the depth of the local pool for links and protoc.
   */
  distributed?: { launcher: string; localPool: number };
}

export interface StandaloneConfigureOutput {
  outDir: string;
  /** sha256 of build.ninja: compile re-runs when the generated file changes. */
  ninjaSha256: string;
  translationUnits: number;
}

/**
 * build.ninja for epoll_quic_client and epoll_quic_server, generated from quiche's own
 * build/source_list.json (checked against quiche/BUILD.bazel) and googleurl's BUILD files at the
 * checked-out revisions. Written only when its content changes, so ninja stays incremental.
 */
export const standaloneConfigureStage = defineStage<AppContext, StandaloneConfigureInputs, StandaloneConfigureOutput>({
  id: 'configure',
  title: 'Generate build.ninja from source_list.json',
  after: ['dependency-pins', 'checkout', 'dependency-builds'],
  inputs: ({ app, upstream }) => {
    const { sources } = upstream<StandaloneCheckoutOutput>('checkout');
    const { installed } = upstream<DependencyBuildsOutput>('dependency-builds');
    const { toolchain } = upstream<DependencyPinsOutput>('dependency-pins');
    // One out dir per set of sources, prefixes and toolchain: switching pins back and forth keeps both builds.
    const key = fingerprint({ sources, prefixes: Object.values(installed).map((d) => d.prefix), toolchain }).slice(0, 12);
    return {
      sources,
      installed,
      toolchain,
      outDir: outDir(app, key),
      ...(distributing(app) && { distributed: { launcher: launcherFor(!!toolchain.launcher, true)!, localPool: localJobsOf(app) } }),
    };
  },
  async run(ctx, inputs) {
    const dir = (name: string) => {
      const source = inputs.sources[name];
      if (!source) throw new NotFoundError(`The checkout has no ${name}.`, { hint: 'Run the checkout stage again (--force checkout).' });
      return source.path;
    };
    const read = (repo: string, file: string) => readFile(path.join(dir(repo), file), 'utf8');
    const googleurlBuildFiles = Object.fromEntries(
      await Promise.all(GOOGLEURL_LIBRARIES.map(async ({ buildFile }) => [buildFile, await read('googleurl', buildFile)] as const)),
    );
    const plan = planQuicheBuild({
      dirs: { quiche: dir('quiche'), googleurl: dir('googleurl'), quicTrace: dir('quic-trace') },
      moduleBazel: await read('quiche', 'MODULE.bazel'),
      sourceListJson: await read('quiche', 'build/source_list.json'),
      buildBazel: await read('quiche', 'quiche/BUILD.bazel'),
      googleurlBuildFiles,
      installed: inputs.installed,
      toolchain: {
        cc: inputs.toolchain.cc,
        cxx: inputs.toolchain.cxx,
        ...(inputs.toolchain.launcher || inputs.distributed ? { launcher: inputs.toolchain.launcher ?? inputs.distributed!.launcher } : {}),
        optimization: inputs.toolchain.flags[0],
      },
    });
    const text = generateNinjaFile({
      ...plan,
      // The toolchain's flags after the optimization (REPRODUCIBLE_DEBUG_FLAGS) go to quiche's compiles too.
      extraCxxFlags: [...(plan.extraCxxFlags ?? []), ...inputs.toolchain.flags.slice(1)],
      pathFlags: prefixMapFlags(quicheCache(ctx.app), inputs.outDir),
      ...(inputs.distributed && { localPool: inputs.distributed.localPool }),
    });
    await mkdir(inputs.outDir, { recursive: true });
    const written = await writeIfChanged(path.join(inputs.outDir, 'build.ninja'), text);
    const translationUnits = translationUnitCount(plan);
    ctx.report.note(`build.ninja ${written === 'unchanged' ? 'unchanged' : 'written'}: ${translationUnits} translation units, 2 programs`);
    return { outDir: inputs.outDir, ninjaSha256: sha256(text), translationUnits };
  },
  async verify(_ctx, { outputs }) {
    const file = path.join(outputs.outDir, 'build.ninja');
    if (!existsSync(file)) return 'build.ninja is missing';
    return sha256(await readFile(file)) === outputs.ninjaSha256 ? true : 'build.ninja changed on disk';
  },
  describe: (o) => `${path.basename(o.outDir)}: ${o.translationUnits} translation units`,
});
