import type { Command } from 'commander';
import { checkSeries, exportSeries, rebaseSeries } from '../api/patch-tools.js';
import { EXIT_CODES } from '../errors.js';
import type { CliContext } from './context.js';

/** `build-quiche patches check|export|rebase` (docs/patches.md). */
export function registerPatchCommands(program: Command, ctx: CliContext): void {
  const patches = program.command('patches').description('patch series tools: check, export, rebase');
  const base = () => ({ ...ctx.configOptions(), signal: ctx.signal });

  patches
    .command('check')
    .description('dry-run the series against a local quiche clone, or against a pin (default: the configured one)')
    .option('--quiche <dir>', 'a local quiche clone')
    .option('--rev <rev>', 'revision of --quiche to check against (default HEAD)')
    .option('--src <dir>', 'a local chromium/src clone, for repo=src patches')
    .option('--pin <version>', 'a Chromium version to check against (read without a checkout)')
    .action(async (opts: { quiche?: string; rev?: string; src?: string; pin?: string }) => {
      const result = await checkSeries({ ...base(), ...opts });
      if (ctx.mode().json) ctx.io.stdout(JSON.stringify(result, null, 2));
      else ctx.io.stdout(result.text);
      // The report is printed above (text or JSON); only the exit code says it failed.
      if (!result.ok) ctx.setExitCode(EXIT_CODES.conflict);
    });

  patches
    .command('export')
    .description('turn commits in a quiche checkout into normalised patch files and rewrite the series')
    .option('--dir <repo>', "repo holding the commits (default: the checkout's quiche)")
    .option('--base <commit>', "commits base..HEAD are exported (default: the pin's quiche revision)")
    .option('--out-dir <dir>', "where to write (default: the series file's directory)")
    .action(async (opts: { dir?: string; base?: string; outDir?: string }) => {
      const result = await exportSeries({ ...base(), ...opts });
      if (ctx.mode().json) return ctx.io.stdout(JSON.stringify(result, null, 2));
      for (const patch of result.patches) ctx.io.stdout(`${patch.changed ? 'wrote    ' : 'unchanged'} ${patch.file}  ${patch.subject}`);
      for (const removed of result.removed) ctx.io.stdout(`removed   ${removed}`);
      ctx.io.stdout(`series: ${result.seriesFile}`);
    });

  patches
    .command('rebase')
    .description('try the series on another pin with a 3-way merge; write refreshed patches and list what needs a hand')
    .requiredOption('--to <version>', 'the Chromium version to move to')
    .option('--dry-run', 'report only')
    .option('--out-dir <dir>', 'write refreshed patches here instead of over the originals')
    .option('--work-dir <dir>', 'keep the merge repos here, to resolve conflicts by hand')
    .action(async (opts: { to: string; dryRun?: boolean; outDir?: string; workDir?: string }) => {
      const result = await rebaseSeries({ ...base(), ...opts });
      if (ctx.mode().json) ctx.io.stdout(JSON.stringify(result, null, 2));
      else ctx.io.stdout(result.text);
      if (result.needsHand.length) ctx.setExitCode(EXIT_CODES.conflict);
    });
}
