import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { exec } from '../../src/process/exec.js';

const EXAMPLE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'docker-compose');

/** The first compose implementation here that can print a resolved config (docker compose v2, docker-compose v1). */
async function composeConfigCommand(): Promise<string[] | undefined> {
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    const probe = await exec(candidate[0]!, [...candidate.slice(1), 'version'], { allowFailure: true }).catch(() => undefined);
    if (probe?.exitCode === 0) return candidate;
  }
  return undefined;
}

const compose = await composeConfigCommand();
if (!compose) console.log('skipping the compose config check: neither `docker compose` nor `docker-compose` is installed');

describe('examples/docker-compose', () => {
  test.skipIf(!compose)(
    'is a valid compose file: two services on both networks, with NET_ADMIN, the tunnel device and no strict rp_filter',
    async () => {
      const result = await exec(compose![0]!, [...compose!.slice(1), 'config'], {
        cwd: EXAMPLE,
        env: { ARTIFACT: 'quiche-test-linux-x64.tar.gz' },
      });
      expect(result.stdout).toMatch(/ARTIFACT: quiche-test-linux-x64\.tar\.gz/);
      expect(result.stdout).toMatch(/BASE_IMAGE: debian:bookworm-slim/);
      for (const service of ['client', 'server']) expect(result.stdout).toMatch(new RegExp(`${service}:[\\s\\S]*direct[\\s\\S]*underlay`));
      expect(result.stdout).toMatch(/NET_ADMIN/);
      expect(result.stdout).toMatch(/\/dev\/net\/tun/);
      expect(result.stdout).toMatch(/net\.ipv4\.conf\.all\.rp_filter/);
    },
  );

  test("its scripts put the lab's addresses on the networks themselves", async () => {
    const [server, client] = await Promise.all(['server.sh', 'client.sh'].map((f) => readFile(path.join(EXAMPLE, f), 'utf8')));
    expect(server).toContain('net-up.sh 10.213.1.1/24 10.213.2.1/24');
    expect(client).toContain('net-up.sh 10.213.1.2/24 10.213.2.2/24');
  });

  test.skipIf(!compose)('refuses to start without an artifact, saying which variable to set', async () => {
    const result = await exec(compose![0]!, [...compose!.slice(1), 'config'], {
      cwd: EXAMPLE,
      env: { ARTIFACT: undefined },
      allowFailure: true,
    });
    expect(result.exitCode).not.toBe(0);
    expect(`${result.stdout}\n${result.stderr}`).toMatch(/set ARTIFACT/);
  });

  test('its shell scripts parse', async () => {
    for (const script of ['net-up.sh', 'wg-up.sh', 'server.sh', 'client.sh']) {
      await exec('sh', ['-n', path.join(EXAMPLE, script)]);
    }
  });
});
