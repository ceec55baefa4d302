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
  test.skipIf(!compose)("is a valid compose file: two services, the client on both networks with the lab's addresses", async () => {
    const result = await exec(compose![0]!, [...compose!.slice(1), 'config'], {
      cwd: EXAMPLE,
      env: { ARTIFACT: 'quiche-test-linux-x64.tar.gz' },
    });
    expect(result.stdout).toMatch(/ARTIFACT: quiche-test-linux-x64\.tar\.gz/);
    expect(result.stdout).toMatch(/client:[\s\S]*ipv4_address: 10\.213\.1\.2[\s\S]*ipv4_address: 10\.213\.2\.2/);
    expect(result.stdout).toMatch(/server:[\s\S]*ipv4_address: 10\.213\.1\.1[\s\S]*ipv4_address: 10\.213\.2\.1/);
    expect(result.stdout).toMatch(/NET_ADMIN/);
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
    for (const script of ['wg-up.sh', 'server.sh', 'client.sh']) {
      await exec('sh', ['-n', path.join(EXAMPLE, script)]);
    }
  });
});
