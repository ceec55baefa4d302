import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { removeTempDirs, tempDir } from '../../../testkit/helpers.js';

// --docker hands the whole command to runInContainer; here it only records that it was asked.
const runInContainer = vi.hoisted(() => vi.fn((_options: { argv: string[] }) => Promise.resolve(7)));
vi.mock('../../../src/api/docker.js', () => ({ runInContainer }));

const { runCli } = await import('../../../src/cli/main.js');

afterAll(removeTempDirs);
beforeEach(() => runInContainer.mockClear());

/** Runs the CLI in an empty directory (built-in defaults, cache below it). */
async function cli(args: string[]): Promise<{ code: number; out: string; dir: string }> {
  const dir = await tempDir('bq-cli-main-');
  const lines: string[] = [];
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = await runCli(args, { stdout: (l) => lines.push(l), stderr: (l) => lines.push(l), isTTY: false, env: {} });
    return { code, out: lines.join('\n'), dir };
  } finally {
    process.chdir(cwd);
  }
}

describe('--jobs', () => {
  it.each([
    ['0', /build\.jobs: Too small.*given 0/],
    ['2.5', /build\.jobs: .*expected int.*given 2\.5/],
    ['many', /build\.jobs: .*expected number.*given "many"/],
  ])('--jobs %s is refused by the config schema (exit 2), naming build.jobs and the value', async (jobs, says) => {
    const result = await cli(['plan', '--plain', '--jobs', jobs]);
    expect(result.code, result.out).toBe(2);
    expect(result.out).toMatch(says);
  });

  it('a whole number reaches the config', async () => {
    const result = await cli(['config', '--jobs', '3']);
    expect(result.code, result.out).toBe(0);
    expect(JSON.parse(result.out)).toMatchObject({ build: { jobs: 3 } });
  });
});

describe('--docker', () => {
  it.each(['build', 'plan', 'status', 'doctor', 'clean'])(
    '%s runs whole in the container: the CLI returns its exit code and runs nothing on the host',
    async (command) => {
      const result = await cli(['--docker', command]);
      expect(result.code, result.out).toBe(7);
      expect(result.out).toBe('');
      expect(runInContainer).toHaveBeenCalledTimes(1);
      expect(runInContainer.mock.calls[0]![0].argv).toEqual(['--docker', command]);
      expect(existsSync(path.join(result.dir, 'cache'))).toBe(false);
    },
  );

  it('a command that does not touch the cache is refused with --docker (exit 2)', async () => {
    const result = await cli(['--docker', 'install', 'x.tar.gz', '--to', 'out']);
    expect(result.code).toBe(2);
    expect(result.out).toMatch(/--docker applies to build, plan, status, doctor, clean; `install` runs on the host/);
    expect(runInContainer).not.toHaveBeenCalled();
  });
});
