// Runs one lab in a process of its own and prints its progress, for tests that need a separate
// process: to kill -9 it mid-run (the state dir comes from BUILD_QUICHE_LAB_STATE_DIR), or to run it
// without privileges. A refusal is printed as `ERROR <class> <exit code> <message>`.
import { isBuildQuicheError } from '../../src/errors.js';
import { runLab } from '../../src/lab/run.js';

const [artifact, out] = process.argv.slice(2);
console.log(`PID ${process.pid}`);
try {
  await runLab({
    artifact: artifact!,
    scenario: 'two-paths',
    out: out!,
    durationMs: 20_000,
    intervalMs: 300,
    onEvent: (e) => console.log(e.message),
  });
} catch (error) {
  if (!isBuildQuicheError(error)) throw error;
  console.log(`ERROR ${error.failureClass} ${error.exitCode} ${error.message}`);
  process.exitCode = error.exitCode;
}
