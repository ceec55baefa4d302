import type { AppContext } from './context.js';
import { checkHost, formatHostReport, type HostReport } from './host-check.js';
import { DiskSpaceError, PreflightError } from '../errors.js';
import { defineStage } from '../engine/stage.js';

export const preflightStage = defineStage<AppContext, Record<string, never>, HostReport>({
  id: 'preflight',
  title: 'Check the host',
  after: [],
  always: true,
  pure: true,
  inputs: () => ({}),
  async run(ctx) {
    const report = await checkHost(ctx.app.config);
    for (const line of formatHostReport(report)) {
      ctx.log.write(line);
      ctx.report.line(line);
    }
    for (const warning of report.warnings) ctx.report.note(warning);
    if (report.problems.length) {
      const ErrorClass = report.problems.length === 1 && !report.disk.ok ? DiskSpaceError : PreflightError;
      throw new ErrorClass(`The host is not ready:\n  - ${report.problems.join('\n  - ')}`, {
        hint: 'Fix the problems above (`build-quiche doctor` re-checks), then run again.',
        data: report,
      });
    }
    return report;
  },
  describe: (r) => `${r.disk.freeGb} GB free, ${r.cores} cores, -j ${r.suggestedJobs}`,
});
