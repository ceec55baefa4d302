/**
 * `build-quiche doctor`: the host checks with numbers (disk, memory, cores, tools) that preflight runs
 * before every build, and with remoteExecution the REAPI endpoint and credential helper
 * (chromium/remote-execution-check.ts). `doctor()` itself sits with the other pipeline commands in pipeline.ts.
 */
export { doctor } from './pipeline.js';
export { formatHostReport, type HostReport, type ToolCheck } from '../stages/host-check.js';
export type { RemoteExecutionCheck } from '../chromium/remote-execution-check.js';
