// The real CLI (runCli with the process's own stdout and stderr, as bin/build-quiche.js runs it) with
// the loud test backend registered (loud-build.ts):
//
//   LOUD_FIXTURES=<dir> LOUD_PRINTER=<loud-ninja.py> [LOUD_LINES=100000] [LOUD_CLI_REPORT=<file>] \
//     node --import tsx testkit/loud-cli.ts -c <dir>/pipeline.config.ts build [--json|--plain|-v]
//
// LOUD_CLI_REPORT gets this process's CPU seconds, peak RSS and how long the run took, at exit;
// LOUD_STAGE_REPORT (read by loud-build.ts) its CPU while the stand-in printed.
import { writeFileSync } from 'node:fs';
import { runCli } from '../src/cli/main.js';
import { processIo } from '../src/cli/output.js';
import { registerBackend } from '../src/stages/backends/index.js';
import { loudBackend } from './loud-build.js';

registerBackend(loudBackend(process.env.LOUD_FIXTURES!, process.env.LOUD_PRINTER!));
const started = performance.now();
const code = await runCli(process.argv.slice(2), processIo());
const runMs = performance.now() - started;
process.exitCode = code;
const report = process.env.LOUD_CLI_REPORT;
if (report) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(
      report,
      JSON.stringify({
        code,
        cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
        maxRssMb: usage.maxRSS / 1024,
        runMs,
        exitMs: performance.now() - started,
      }),
    );
  });
}
