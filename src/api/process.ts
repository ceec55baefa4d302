/**
 * For the program that hosts a run (the CLI's entry): every subprocess runs in its own process group,
 * so exiting at once (a second Ctrl-C) must stop those groups first or they outlive the run.
 */
export { killAllGroups } from '../process/exec.js';
