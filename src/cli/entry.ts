import { killAllGroups } from '../api/process.js';
import { runCli } from './main.js';
import { processIo } from './output.js';

/**
 * Process glue: signals and the exit code. Ctrl-C aborts the run (subprocess groups are killed,
 * guards stay so the next run repairs); a second Ctrl-C exits at once.
 */
const controller = new AbortController();
let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    interrupts++;
    if (interrupts > 1) {
      killAllGroups();
      process.exit(130);
    }
    process.stderr.write(`\n${sig}: stopping (subprocesses are being stopped; press Ctrl-C again to exit now)\n`);
    controller.abort();
  });
}
const code = await runCli(process.argv.slice(2), processIo(), controller.signal);
process.exitCode = code;
