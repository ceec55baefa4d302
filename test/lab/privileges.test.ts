import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { exec } from '../../src/process/exec.js';
import { workspace } from '../../testkit/world.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lab-child.ts');
const canDrop = process.getuid?.() === 0;
if (!canDrop) console.log('skipping the privilege test: it drops capabilities from root with setpriv');

describe('the lab without the privileges it needs', () => {
  test.skipIf(!canDrop)('refuses with exit 8, saying it needs root or CAP_NET_ADMIN, before touching the artifact', async () => {
    const ws = await workspace('bq-lab-caps-');
    try {
      const result = await exec(
        'setpriv',
        [
          '--bounding-set=-net_admin,-sys_admin',
          '--inh-caps=-net_admin,-sys_admin',
          process.execPath,
          '--import',
          'tsx',
          CHILD,
          path.join(ws.dir, 'no-such-artifact.tar.gz'),
          path.join(ws.dir, 'out'),
        ],
        { allowFailure: true, timeoutMs: 60_000 },
      );
      expect(result.exitCode).toBe(8);
      expect(result.stdout).toMatch(/^ERROR preflight 8 The migration lab needs root \(CAP_NET_ADMIN and CAP_SYS_ADMIN\)/m);
    } finally {
      await ws.remove();
    }
  });
});
