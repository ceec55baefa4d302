import type { Command } from 'commander';
import { describeBuild, installArtifact } from '../api/install.js';
import type { CliContext } from './context.js';

/** `build-quiche install`: the consumer side, for other demos (docs/artifacts.md). */
export function registerInstallCommand(program: Command, ctx: CliContext): void {
  program
    .command('install <source>')
    .description('verify and extract an artifact (a tarball, a dist dir or store, or an http(s) URL) for use in another demo')
    .requiredOption('--to <dir>', 'where to install (the artifact lands in <dir>/<name>/)')
    .option('--select <name>', 'which artifact, when the source holds several (name or fingerprint prefix)')
    .action(async (source: string, opts: { to: string; select?: string }) => {
      const result = await installArtifact(source, { to: opts.to, select: opts.select, signal: ctx.signal });
      if (ctx.mode().json) return ctx.io.stdout(JSON.stringify(result, null, 2));
      ctx.io.stdout(`${result.status === 'unchanged' ? 'already installed, verified' : 'installed and verified'}: ${result.dir}`);
      ctx.io.stdout(
        `  fingerprint ${result.manifest.fingerprint.slice(0, 16)}, ${describeBuild(result.manifest)}, patchset ${result.manifest.patches.patchset}`,
      );
      for (const [name, file] of Object.entries(result.binaries)) ctx.io.stdout(`  ${name.padEnd(18)} ${file}`);
    });
}
