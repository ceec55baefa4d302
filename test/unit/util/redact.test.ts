import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogFile } from '../../../src/process/log-file.js';
import { redact, registerSecret } from '../../../src/util/redact.js';

const SECRET = 'sEcReT-9f8e7d6c5b4a3210';
registerSecret(SECRET);

describe('redact', () => {
  it('removes a registered secret wherever it appears', () => {
    expect(redact(`curl -H "Authorization: token ${SECRET}" failed`)).toBe('curl -H "Authorization: token [REDACTED]" failed');
  });

  it('removes a recognisable prefix of it (8 characters or more), as servers quote them', () => {
    expect(redact(`Bad credentials "token ${SECRET.slice(0, 12)}…"`)).toBe('Bad credentials "token [REDACTED]…"');
  });

  it('keeps text that merely shares a few characters with a secret', () => {
    expect(redact('sEcReT-9 is short')).toBe('[REDACTED] is short');
    expect(redact('sEcReT- is seven characters')).toBe('sEcReT- is seven characters');
  });

  it('removes anything shaped like a GitHub token, registered or not', () => {
    expect(redact('ghp_abcdefghijklmnopqrstuvwxyz0123456789 and github_pat_11ABCDEFG0abcdefghij_xyz')).toBe('[REDACTED] and [REDACTED]');
  });

  it('keeps secrets out of stage logs, file and tail', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bq-redact-'));
    try {
      const log = new LogFile(path.join(dir, 'x.log'));
      log.write(`remote: invalid credentials for ${SECRET}`);
      await log.close();
      expect(log.tail()).toEqual(['remote: invalid credentials for [REDACTED]']);
      expect(await readFile(path.join(dir, 'x.log'), 'utf8')).not.toContain(SECRET.slice(0, 8));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
