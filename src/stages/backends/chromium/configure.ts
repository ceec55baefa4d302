import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppContext } from '../../context.js';
import { depotToolsEnvFor } from './paths.js';
import { gnVersionMatches, renderArgsGn } from '../../../chromium/gn-args.js';
import { gnArgsFor } from './remote-execution.js';
import type { ResolveOutput } from '../../resolve.js';
import type { CheckoutOutput } from './checkout.js';
import { defineStage } from '../../../engine/stage.js';
import { writeIfChanged } from '../../../util/fs.js';
import { builderOfOutDir } from '../../../tools/builder.js';
import { gnClean, gnGen, gnVersion, gnWarnings, type GnOptions } from '../../../tools/gn.js';
import { withCcWrapper } from '../../distributed.js';

export interface ConfigureInputs {
  outDir: string;
  argsGn: string;
  builder: 'autoninja' | 'ninja';
  gn: string;
  gnVersion: string | undefined;
}

export interface ConfigureOutput {
  outDir: string;
  builder: 'autoninja' | 'ninja';
  args: Record<string, string | number | boolean>;
}

export const configureStage = defineStage<AppContext, ConfigureInputs, ConfigureOutput>({
  id: 'configure',
  title: 'Configure (gn gen)',
  after: ['resolve', 'checkout'],
  inputs: ({ app, upstream }) => {
    const checkout = upstream<CheckoutOutput>('checkout');
    const { build } = app.config;
    return {
      outDir: path.join(checkout.repos.src.path, build.outDir),
      // The build's args, siso's remote execution args over them when it is on, and cc_wrapper when
      // distributing (stages/distributed.ts): in args.gn, never in the identity.
      argsGn: renderArgsGn(withCcWrapper(gnArgsFor(app, checkout.remoteExecution), app)),
      builder: build.builder,
      gn: build.gn ?? 'gn',
      gnVersion: upstream<ResolveOutput>('resolve').gnVersion,
    };
  },
  async run(ctx, inputs) {
    const gn: GnOptions = {
      exec: ctx.exec,
      gn: inputs.gn,
      src: ctx.upstream<CheckoutOutput>('checkout').repos.src.path,
      env: depotToolsEnvFor(ctx.app),
    };
    const version = await gnVersion(gn);
    if (gnVersionMatches(inputs.gnVersion, version) === false) {
      ctx.report.note(`gn ${version} does not match DEPS' gn_version ${inputs.gnVersion}; the build may differ from upstream's`);
    }
    // autoninja refuses an out dir last built by the other builder until `gn clean`: do it for the user.
    const lastBuilder = builderOfOutDir(inputs.outDir);
    if (lastBuilder && lastBuilder !== inputs.builder && existsSync(path.join(inputs.outDir, 'build.ninja'))) {
      ctx.report.note(`${inputs.outDir} was last built with ${lastBuilder}; running gn clean before switching to ${inputs.builder}`);
      await gnClean(gn, inputs.outDir);
    }
    await writeIfChanged(path.join(inputs.outDir, 'args.gn'), inputs.argsGn);
    for (const warning of gnWarnings(await gnGen(gn, inputs.outDir))) ctx.report.note(`gn: ${warning}`);
    const args = withCcWrapper(gnArgsFor(ctx.app, ctx.upstream<CheckoutOutput>('checkout').remoteExecution), ctx.app);
    return { outDir: inputs.outDir, builder: inputs.builder, args };
  },
  async verify(_ctx, { inputs }) {
    const onDisk = await readFile(path.join(inputs.outDir, 'args.gn'), 'utf8').catch(() => undefined);
    if (onDisk !== inputs.argsGn) return 'args.gn differs from the config';
    if (!existsSync(path.join(inputs.outDir, 'build.ninja'))) return 'build.ninja is missing';
    return true;
  },
  describe: (o) => `${path.basename(o.outDir)} (${o.builder})`,
});
