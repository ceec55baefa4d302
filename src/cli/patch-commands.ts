import type { Command } from 'commander';
import type { CliContext } from './main.js';

/** `build-quiche patches check|export|rebase` (wired to src/patches once its tools land). */
export function registerPatchCommands(program: Command, _ctx: CliContext): void {
  program.command('patches').description('patch series tools: check, export, rebase');
}
