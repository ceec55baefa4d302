/**
 * `build-quiche doctor`: the host checks with numbers (disk, memory, cores, tools) that preflight runs
 * before every build; the active backend's own section (BuildBackend.doctor: for Chromium with
 * remoteExecution, the REAPI endpoint and credential helper); with distributed.engine set, distcc and every host probed as a
 * build would. `doctor()` itself sits with the other pipeline commands in pipeline.ts.
 */
export { doctor } from './pipeline.js';
export { formatHostReport, type DoctorSection, type HostReport, type ToolCheck } from '../stages/host-check.js';
export type { RemoteExecutionCheck } from '../chromium/remote-execution-check.js';
export type { DistributedReport } from '../distributed/setup.js';
