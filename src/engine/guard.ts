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
  constructor(private readonly dir: string) {}

  private file(stage: string): string {
    return path.join(this.dir, `${stage}.json`);
  }

  async read(stage: string): Promise<GuardInfo | undefined> {
    try {
      return JSON.parse(await readFile(this.file(stage), 'utf8')) as GuardInfo;
    } catch {
      return undefined;
    }
  }

  async write(info: GuardInfo): Promise<void> {
    await writeJsonAtomic(this.file(info.stage), info);
  }

  async clear(stage: string): Promise<void> {
    await rm(this.file(stage), { force: true });
  }
}
