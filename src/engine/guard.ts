import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../util/fs.js';

/**
 * A guard file marks a stage as "started, not finished". Found at the start of a run, it means the
 * last run died inside that stage, and the stage repairs before it runs again. Stages may store
 * what they are about to touch in `data` (e.g. the files a patch is changing).
 */
export interface GuardInfo {
  stage: string;
  runId: string;
  pid: number;
  startedAt: string;
  data: Record<string, unknown>;
  /** Set when the stage failed with an error (rather than dying); absent after a kill. */
  failure?: { message: string; class: string };
}

export class Guards {
  /**
   * @param formerIds per stage id, the ids it had before a rename (Stage.formerIds): a guard left
   * under one of them is that stage's guard.
   */
  constructor(
    private readonly dir: string,
    private readonly formerIds: ReadonlyMap<string, readonly string[]> = new Map(),
  ) {}

  private file(stage: string): string {
    return path.join(this.dir, `${stage}.json`);
  }

  /** The stage's guard, under its id or else under a former one (then named with the current id). */
  async read(stage: string): Promise<GuardInfo | undefined> {
    for (const id of [stage, ...(this.formerIds.get(stage) ?? [])]) {
      try {
        const info = JSON.parse(await readFile(this.file(id), 'utf8')) as GuardInfo;
        return { ...info, stage };
      } catch {
        // none under this id
      }
    }
    return undefined;
  }

  async write(info: GuardInfo): Promise<void> {
    await writeJsonAtomic(this.file(info.stage), info);
  }

  async clear(stage: string): Promise<void> {
    for (const id of [stage, ...(this.formerIds.get(stage) ?? [])]) await rm(this.file(id), { force: true });
  }
}
