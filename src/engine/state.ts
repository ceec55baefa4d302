import { readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../util/fs.js';

/** What a stage left behind after its last success. */
export interface StageRecord {
  fingerprint: string;
  inputs: unknown;
  outputs: unknown;
  finishedAt: string;
  durationMs: number;
  runId: string;
}

export interface PipelineState {
  schema: 1;
  stages: Record<string, StageRecord>;
}

/**
 * state.json: one record per stage, written atomically and only after a stage succeeded. While a
 * stage runs (or after it died or failed) its guard voids the old record (engine/guard.ts), so the
 * state never claims work that is half done.
 */
export class StateStore {
  private state: PipelineState = { schema: 1, stages: {} };

  private constructor(readonly file: string) {}

  static async open(file: string): Promise<StateStore> {
    const store = new StateStore(file);
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as PipelineState;
      if (parsed && parsed.schema === 1 && parsed.stages) store.state = parsed;
    } catch {
      // Missing or unreadable state is the same as no state: every stage re-verifies from scratch.
    }
    return store;
  }

  get(stageId: string): StageRecord | undefined {
    return this.state.stages[stageId];
  }

  all(): Readonly<Record<string, StageRecord>> {
    return this.state.stages;
  }

  /**
   * Re-key a record written under a stage's former id (in memory; saved with the next change). A
   * record the stage already has under its current id wins, and the former one is dropped.
   */
  adopt(formerId: string, stageId: string, record: StageRecord): void {
    delete this.state.stages[formerId];
    this.state.stages[stageId] ??= record;
  }

  async put(stageId: string, record: StageRecord): Promise<void> {
    this.state.stages[stageId] = record;
    await this.save();
  }

  async drop(stageIds: string[]): Promise<void> {
    let changed = false;
    for (const id of stageIds) {
      if (this.state.stages[id]) {
        delete this.state.stages[id];
        changed = true;
      }
    }
    if (changed) await this.save();
  }

  private async save(): Promise<void> {
    await writeJsonAtomic(this.file, this.state);
  }
}
