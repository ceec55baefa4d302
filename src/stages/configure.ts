import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { depotToolsEnv, type AppContext } from '../app/context.js';
import { effectiveGnArgs, gnVersionMatches, renderArgsGn } from '../chromium/gn-args.js';
import type { CheckoutOutput, ResolveOutput } from '../chromium/types.js';
import { defineStage } from '../engine/stage.js';
import { writeFileAtomic } from '../util/fs.js';
import { reusedArtifactReason } from './reuse.js';

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

/** Which builder last used an out dir, by the state files each leaves (as autoninja checks). */
export function builderOfOutDir(outDir: string): 'autoninja' | 'ninja' | undefined {
  if (existsSync(path.join(outDir, '.siso_deps'))) return 'autoninja';
  if (existsSync(path.join(outDir, '.ninja_log'))) return 'ninja';
  return undefined;
}

export const configureStage = defineStage<AppContext, ConfigureInputs, ConfigureOutput>({
  id: 'configure',
  title: 'Configure (gn gen)',
  after: ['resolve', 'checkout'],
  enabled: (ctx) => reusedArtifactReason(ctx),
  inputs: ({ app, upstream }) => {
    const checkout = upstream<CheckoutOutput>('checkout');
    const { build } = app.config;
    return {
      outDir: path.join(checkout.repos.src.path, build.outDir),
      argsGn: renderArgsGn(effectiveGnArgs(build.args, build.builder)),
      builder: build.builder,
      gn: build.gn ?? 'gn',
      gnVersion: upstream<ResolveOutput>('resolve').gnVersion,
    };
  },
  async run(ctx, inputs) {
    const env = depotToolsEnv(ctx.app);
    const src = ctx.upstream<CheckoutOutput>('checkout').repos.src.path;
    const gn = (args: string[]) => ctx.exec(inputs.gn, args, { cwd: src, env });
    const version = await gn(['--version']);
    if (gnVersionMatches(inputs.gnVersion, version.stdout) === false) {
      ctx.report.note(`gn ${version.stdout.trim()} does not match DEPS' gn_version ${inputs.gnVersion}; the build may differ from upstream's`);
    }
    // autoninja refuses an out dir last built by the other builder until `gn clean`: do it for the user.
    const lastBuilder = builderOfOutDir(inputs.outDir);
    if (lastBuilder && lastBuilder !== inputs.builder && existsSync(path.join(inputs.outDir, 'build.ninja'))) {
      ctx.report.note(`${inputs.outDir} was last built with ${lastBuilder}; running gn clean before switching to ${inputs.builder}`);
      await gn(['clean', inputs.outDir]);
    }
    const argsFile = path.join(inputs.outDir, 'args.gn');
    const current = await readFile(argsFile, 'utf8').catch(() => undefined);
    if (current !== inputs.argsGn) await writeFileAtomic(argsFile, inputs.argsGn);
    const result = await gn(['gen', inputs.outDir]);
    for (const line of result.stdout.split('\n').concat(result.stderr.split('\n'))) {
      if (/has no effect|WARNING/i.test(line)) ctx.report.note(`gn: ${line.trim()}`);
    }
    return { outDir: inputs.outDir, builder: inputs.builder, args: effectiveGnArgs(ctx.app.config.build.args, inputs.builder) };
  },
  async verify(_ctx, { inputs }) {
    const onDisk = await readFile(path.join(inputs.outDir, 'args.gn'), 'utf8').catch(() => undefined);
    if (onDisk !== inputs.argsGn) return 'args.gn differs from the config';
    if (!existsSync(path.join(inputs.outDir, 'build.ninja'))) return 'build.ninja is missing';
    return true;
  },
  describe: (o) => `${path.basename(o.outDir)} (${o.builder})`,
});
