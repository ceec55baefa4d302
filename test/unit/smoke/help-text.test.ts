import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helpText } from '../../../src/smoke/help-text.js';

/** quiche's standalone programs (absl flags) list their flags only under --helpfull; Chromium's under --help. */
describe('helpText', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'bq-help-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const program = async (name: string, script: string) => {
    const file = path.join(dir, name);
    await writeFile(file, `#!/bin/sh\n${script}\n`);
    await chmod(file, 0o755);
    return file;
  };

  it('asks --helpfull when --help says "No flags matched" (an absl-flags program)', async () => {
    const absl = await program(
      'absl',
      'case "$1" in --help) echo "No flags matched. Try --helpfull"; exit 1;; --helpfull) echo "  --migrate_local_addresses (...)"; exit 1;; esac',
    );
    expect(await helpText(absl)).toContain('--migrate_local_addresses');
  });

  it('stops at --help when it lists the flags (Chromium)', async () => {
    const chromium = await program(
      'chromium',
      'case "$1" in --help) echo "--migrate_local_addresses";; --helpfull) echo "ASKED HELPFULL";; esac',
    );
    const text = await helpText(chromium);
    expect(text).toContain('--migrate_local_addresses');
    expect(text).not.toContain('ASKED HELPFULL');
  });
});
