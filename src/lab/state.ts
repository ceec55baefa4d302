import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { isAlive, selfId, type ProcessId } from '../process/proc.js';
import { exec } from '../process/exec.js';
import { writeFileAtomic } from '../util/fs.js';

/**
 * Everything a lab run creates is named `bql<runId>...` and recorded in a state file before it is
 * created, so that whatever interrupts the run (Ctrl-C, a crash, kill -9) the next run can remove
 * exactly what this one left behind, and nothing it does not own.
 */

/** /run is cleared at boot, like the namespaces it describes. */
export const LAB_STATE_DIR = process.env.BUILD_QUICHE_LAB_STATE_DIR ?? '/run/build-quiche-lab';
/** Resource names start with this; with a 6-hex run id and a 4-char suffix they fit IFNAMSIZ (15). */
export const LAB_PREFIX = 'bql';

export interface LabState {
  runId: string;
  owner: ProcessId;
  namespaces: string[];
  /** wireguard-go's control sockets (/var/run/wireguard/<if>.sock), shared by all namespaces. */
  wgSockets: string[];
}

/** A lab run's id: 6 hex digits, in its resource names and state file (not the pipeline's run id). */
export const newLabId = () => randomBytes(3).toString('hex');

export class LabResources {
  readonly state: LabState;
  private readonly file: string;

  constructor(runId: string, stateDir = LAB_STATE_DIR) {
    this.state = { runId, owner: selfId(), namespaces: [], wgSockets: [] };
    this.file = path.join(stateDir, `${runId}.json`);
  }

  name(suffix: string): string {
    return `${LAB_PREFIX}${this.state.runId}${suffix}`;
  }

  /** Record first, create second: a crash in between leaves a record of something absent, which is harmless. */
  async recordNamespace(ns: string): Promise<void> {
    this.state.namespaces.push(ns);
    await this.save();
  }

  async recordWgSocket(ifname: string): Promise<void> {
    this.state.wgSockets.push(`/var/run/wireguard/${ifname}.sock`);
    await this.save();
  }

  async save(): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, `${JSON.stringify(this.state, null, 2)}\n`);
  }

  /** Remove everything recorded, then the record. */
  async release(): Promise<void> {
    await removeRecorded(this.state);
    await rm(this.file, { force: true });
  }
}

/** Kill every process still inside a namespace (servers, tcpdump, wireguard-go), then delete it; its veths go with it. */
async function removeNamespace(ns: string): Promise<void> {
  const pids = await exec('ip', ['netns', 'pids', ns], { allowFailure: true });
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await exec('ip', ['netns', 'del', ns], { allowFailure: true });
}

async function removeRecorded(state: LabState): Promise<void> {
  for (const ns of state.namespaces) await removeNamespace(ns);
  for (const socket of state.wgSockets) await rm(socket, { force: true });
}

/**
 * Remove what earlier lab runs left behind when their owner is dead: ours by name and record,
 * never another live run's. Returns the run ids cleaned.
 */
export async function cleanupLeftovers(stateDir = LAB_STATE_DIR): Promise<string[]> {
  const cleaned: string[] = [];
  const entries = await readdir(stateDir).catch(() => [] as string[]);
  for (const entry of entries.filter((e) => e.endsWith('.json'))) {
    const file = path.join(stateDir, entry);
    let state: LabState;
    try {
      state = JSON.parse(await readFile(file, 'utf8')) as LabState;
    } catch {
      continue; // being written by a live run (atomic rename makes this rare), or foreign
    }
    if (isAlive(state.owner)) continue;
    await removeRecorded(state);
    await rm(file, { force: true });
    cleaned.push(state.runId);
  }
  return cleaned;
}
