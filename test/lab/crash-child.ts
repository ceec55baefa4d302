// Runs one lab and prints its progress, so that a test can kill -9 this process mid-run and check
// that the next run's cleanup removes what it left (BUILD_QUICHE_LAB_STATE_DIR points at the test's dir).
import { runLab } from '../../src/lab/run.js';

const [artifact, out] = process.argv.slice(2);
console.log(`PID ${process.pid}`);
await runLab({ artifact: artifact!, scenario: 'two-paths', out: out!, durationMs: 20_000, intervalMs: 300, onEvent: (e) => console.log(e.message) });
