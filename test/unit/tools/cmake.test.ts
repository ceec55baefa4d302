import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildQuicheError } from '../../../src/errors.js';
import { build, configure, install, type BuildProgress } from '../../../src/tools/cmake.js';

// A project without compilers (LANGUAGES NONE): exercises the real cmake and ninja in well under a second.
const PROJECT = `cmake_minimum_required(VERSION 3.16)
project(t NONE)
add_custom_command(OUTPUT a.txt COMMAND \${CMAKE_COMMAND} -E touch a.txt)
add_custom_command(OUTPUT b.txt COMMAND \${CMAKE_COMMAND} -E touch b.txt)
add_custom_target(files ALL DEPENDS a.txt b.txt)
install(FILES \${CMAKE_BINARY_DIR}/a.txt DESTINATION share)
install(FILES \${CMAKE_BINARY_DIR}/b.txt DESTINATION extra COMPONENT extra)
`;

describe.skipIf(!existsSync('/usr/bin/cmake'))('cmake tool', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bq-cmake-'));
    await writeFile(join(dir, 'CMakeLists.txt'), PROJECT);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('configures, builds with [N/M] progress, and installs into the prefix', async () => {
    await configure(['-S', dir, '-B', join(dir, 'build'), '-G', 'Ninja', `-DCMAKE_INSTALL_PREFIX=${join(dir, 'prefix')}`]);
    const progress: BuildProgress[] = [];
    await build(join(dir, 'build'), { jobs: 1, onProgress: (p) => progress.push(p) });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toMatchObject({ done: progress.at(-1)!.total });
    await install(join(dir, 'build'), { component: 'Unspecified' });
    expect(existsSync(join(dir, 'prefix/share/a.txt'))).toBe(true);
    expect(existsSync(join(dir, 'prefix/extra/b.txt'))).toBe(false);
  });

  it('installs a single component when asked', async () => {
    await install(join(dir, 'build'), { component: 'extra' });
    expect(existsSync(join(dir, 'prefix/extra/b.txt'))).toBe(true);
  });

  it('fails with a typed error carrying the output tail when the source directory is wrong', async () => {
    const error = await configure(['-S', join(dir, 'missing'), '-B', join(dir, 'b2'), '-G', 'Ninja']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildQuicheError);
    expect((error as BuildQuicheError).tail?.join('\n')).toMatch(/does not (appear to )?contain CMakeLists\.txt|does not exist/);
  });
});
