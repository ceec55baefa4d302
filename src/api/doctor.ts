/**
 * `build-quiche doctor`: the host checks with numbers (disk, memory, cores, tools) that preflight runs
 * before every build; with remoteExecution the REAPI endpoint and credential helper
 * (chromium/remote-execution-check.ts); with distributed.engine set, distcc and every host probed as a
 * build would. `doctor()` itself sits with the other pipeline commands in pipeline.ts.
 */
export { doctor } from './pipeline.js';
export { formatHostReport, type HostReport, type ToolCheck } from '../stages/host-check.js';
export type { RemoteExecutionCheck } from '../chromium/remote-execution-check.js';
export type { DistributedReport } from '../distributed/setup.js';
