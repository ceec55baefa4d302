import { chmod, mkdir, mkdtemp, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type ResolvedConfig } from '../../../src/config/load.js';
import { checkHost } from '../../../src/stages/host-check.js';

let dir: string;
let savedPath: string | undefined;
const savedPyenv = { PYENV_ROOT: process.env.PYENV_ROOT, PYENV_VERSION: process.env.PYENV_VERSION };
let config: ResolvedConfig;
const bin = () => path.join(dir, 'bin');
const probes = async () => (await readFile(path.join(dir, 'probes'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
/** A tool that prints its version and counts how often it was asked. */
const writeTool = (version: string) =>
  writeFile(path.join(bin(), 'faketool'), `#!/bin/sh\necho probed >> ${path.join(dir, 'probes')}\necho "faketool ${version}"\n`).then(() =>
    chmod(path.join(bin(), 'faketool'), 0o755),
  );

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bq-host-'));
  await mkdir(bin());
  await mkdir(path.join(dir, 'cache'));
  savedPath = process.env.PATH;
  process.env.PATH = `${bin()}${path.delimiter}${savedPath}`;
  config = await loadConfig({ inline: { cacheDir: path.join(dir, 'cache'), preflight: { tools: ['faketool'] } }, cwd: dir, env: {} });
});
afterEach(async () => {
  process.env.PATH = savedPath;
  for (const [name, value] of Object.entries(savedPyenv)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await rm(dir, { recursive: true, force: true });
});

describe('host checks', () => {
  it('compare free disk exactly: a little less than the need is a problem, even when it rounds up to it', async () => {
    const fs = await statfs(path.join(dir, 'cache'));
    const exactGb = (fs.bavail * fs.bsize) / 1024 ** 3;
    // 40 MB more than there is: shown rounded to 0.1 GB, the free space used to read as enough.
    const needy = await loadConfig({
      inline: { cacheDir: path.join(dir, 'cache'), preflight: { tools: [], minFreeDiskGb: exactGb + 0.04 } },
      cwd: dir,
      env: {},
    });
    const report = await checkHost(needy);
    expect(report.disk.ok).toBe(false);
    expect(report.disk.freeGb).toBeLessThan(report.disk.needGb);
    expect(report.problems).toEqual([expect.stringMatching(/^Only [\d.]+ GB free at /)]);
  });

  it('probe a tool once, then reuse its version while the binary is the same file', async () => {
    await writeTool('1.0');
    expect((await checkHost(config)).tools[0]).toMatchObject({
      name: 'faketool',
      found: true,
      version: 'faketool 1.0',
      path: path.join(bin(), 'faketool'),
    });
    expect((await checkHost(config)).tools[0]!.version).toBe('faketool 1.0');
    expect(await probes()).toBe(1);
  });

  it('probe again when the binary changed (an upgrade)', async () => {
    await writeTool('1.0');
    await checkHost(config);
    await writeTool('2.0-upgraded');
    expect((await checkHost(config)).tools[0]!.version).toBe('faketool 2.0-upgraded');
    expect(await probes()).toBe(2);
  });

  it('probe a pyenv shim again when pyenv would pick another interpreter', async () => {
    const root = path.join(dir, 'pyenv');
    await mkdir(path.join(root, 'shims'), { recursive: true });
    const shim = path.join(root, 'shims', 'faketool');
    await writeFile(shim, `#!/bin/sh\necho probed >> ${path.join(dir, 'probes')}\necho "faketool $(cat ${path.join(root, 'version')})"\n`);
    await chmod(shim, 0o755);
    process.env.PATH = `${path.join(root, 'shims')}${path.delimiter}${savedPath}`;
    process.env.PYENV_ROOT = root;
    delete process.env.PYENV_VERSION;
    await writeFile(path.join(root, 'version'), '3.11');
    expect((await checkHost(config)).tools[0]!.version).toBe('faketool 3.11');
    expect((await checkHost(config)).tools[0]!.version).toBe('faketool 3.11');
    await writeFile(path.join(root, 'version'), '3.12'); // `pyenv global 3.12`
    expect((await checkHost(config)).tools[0]!.version).toBe('faketool 3.12');
    expect(await probes()).toBe(2);
  });

  it('report a missing tool without starting a process', async () => {
    const report = await checkHost(config);
    expect(report.tools[0]).toMatchObject({ name: 'faketool', found: false, problem: 'faketool not found on PATH' });
  });
});
