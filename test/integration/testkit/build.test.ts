import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  buildUpstream,
  cachedUpstream,
  GN_REVISION_DEBIAN,
  TAG_150,
  TAG_152,
  UPSTREAM_CACHE_DIR,
  type UpstreamInfo,
} from '../../../testkit/build.js';
import { git, removeTempDirs, tempDir } from '../../../testkit/helpers.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

let info: UpstreamInfo;

beforeAll(async () => {
  info = await cachedUpstream();
});

afterAll(removeTempDirs);

const bare = (repo: string, args: string[]) => git(repo, args);

describe('the local upstream repositories', () => {
  test("are laid out like the real hosts' URL paths under reposDir", () => {
    expect(info.repos.src).toBe(join(info.reposDir, 'chromium/src.git'));
    expect(info.repos.quiche).toBe(join(info.reposDir, 'quiche.git'));
    expect(info.repos.depotTools).toBe(join(info.reposDir, 'chromium/tools/depot_tools.git'));
    expect(info.root.startsWith(UPSTREAM_CACHE_DIR)).toBe(true);
  });

  test('are built deterministically: a fresh build has the same commit hashes', async () => {
    const fresh = await buildUpstream(await tempDir('bq-build-'));
    expect(fresh.tags).toEqual(info.tags);
    expect(fresh.quicheCommits).toEqual(info.quicheCommits);
    expect(fresh.depotToolsCommits).toEqual(info.depotToolsCommits);
    expect(fresh.srcMain).toEqual(info.srcMain);
  });

  test('pin different quiche commits and depot_tools revisions at the two tags', () => {
    expect(info.tags[TAG_152].quicheRevision).not.toBe(info.tags[TAG_150].quicheRevision);
    expect(info.tags[TAG_152].depotToolsRevision).not.toBe(info.tags[TAG_150].depotToolsRevision);
    expect(info.quicheCommits).toContain(info.tags[TAG_152].quicheRevision);
    expect(info.depotToolsCommits).toContain(info.tags[TAG_150].depotToolsRevision);
    expect(info.tags[TAG_152].gnVersion).toBe(`git_revision:${GN_REVISION_DEBIAN}`);
  });

  test('have main branches newer than both pins', async () => {
    expect(await bare(info.repos.depotTools, ['rev-parse', 'refs/heads/main'])).toBe(info.depotToolsCommits.at(-1));
    expect(await bare(info.repos.quiche, ['rev-parse', 'refs/heads/main'])).toBe(info.quicheCommits.at(-1));
    for (const tag of [TAG_152, TAG_150] as const) {
      const pin = info.tags[tag];
      expect(await bare(info.repos.depotTools, ['merge-base', '--is-ancestor', pin.depotToolsRevision, 'main']).then(() => true)).toBe(
        true,
      );
      expect(pin.depotToolsRevision).not.toBe(info.depotToolsCommits.at(-1));
      expect(pin.quicheRevision).not.toBe(info.quicheCommits.at(-1));
    }
  });

  test.each([TAG_152, TAG_150] as const)('tag %s is annotated, on its release branch, and its DEPS matches its gitlinks', async (tag) => {
    const pin = info.tags[tag];
    expect(await bare(info.repos.src, ['cat-file', '-t', `refs/tags/${tag}`])).toBe('tag');
    expect(await bare(info.repos.src, ['rev-parse', `refs/tags/${tag}^{commit}`])).toBe(pin.srcCommit);
    expect(await bare(info.repos.src, ['rev-parse', pin.branch])).toBe(pin.srcCommit);
    const deps = await bare(info.repos.src, ['show', `${pin.srcCommit}:DEPS`]);
    expect(deps).toContain(`'quiche_revision': '${pin.quicheRevision}'`);
    expect(deps).toContain(`/chromium/tools/depot_tools.git' + '@' + '${pin.depotToolsRevision}'`);
    expect(deps).toContain("git_dependencies = 'SYNC'");
    const gitlinks = await bare(info.repos.src, ['ls-tree', pin.srcCommit, 'net/third_party/quiche/src', 'third_party/depot_tools']);
    expect(gitlinks).toContain(`160000 commit ${pin.quicheRevision}\tnet/third_party/quiche/src`);
    expect(gitlinks).toContain(`160000 commit ${pin.depotToolsRevision}\tthird_party/depot_tools`);
    expect(await bare(info.repos.src, ['show', `${pin.srcCommit}:chrome/VERSION`])).toBe(
      `MAJOR=${tag.split('.')[0]}\nMINOR=0\nBUILD=${tag.split('.')[2]}\nPATCH=${tag.split('.')[3]}`,
    );
  });

  test("keep depot_tools' wrappers executable", async () => {
    const tree = await bare(info.repos.depotTools, ['ls-tree', 'main']);
    for (const name of ['gclient', 'autoninja', 'gn', 'update_depot_tools', 'vpython3', 'gclient.py']) {
      expect(tree).toMatch(new RegExp(`^100755 blob \\w+\\t${name.replace('.', '\\.')}$`, 'm'));
    }
    expect(tree).toMatch(/^100644 blob \w+\tREADME\.md$/m);
  });

  test('let clients fetch any commit by hash', async () => {
    expect(await bare(info.repos.quiche, ['config', 'uploadpack.allowAnySHA1InWant'])).toBe('true');
    expect(existsSync(join(info.repos.quiche, 'index'))).toBe(false);
  });

  test('cachedUpstream returns the same upstream again without rebuilding', async () => {
    const again = await cachedUpstream();
    expect(again).toBe(await cachedUpstream());
    expect(again.root).toBe(info.root);
  });
});

describe('the scaled upstream (npm run bench)', () => {
  test('adds pinned bench deps to src at every tag, and leaves quiche and depot_tools as in the default world', async () => {
    const scaled = await buildUpstream(await tempDir('bq-build-scaled-'), { deps: 2, tus: 5, steps: 40 });
    expect(scaled.quicheCommits).toEqual(info.quicheCommits);
    expect(scaled.depotToolsCommits).toEqual(info.depotToolsCommits);
    expect(scaled.tags[TAG_152].srcCommit).not.toBe(info.tags[TAG_152].srcCommit);
    const bench = scaled.bench!;
    expect(bench.deps.map((d) => d.path)).toEqual(['src/third_party/bench/dep_00', 'src/third_party/bench/dep_01']);
    // (40 - 5 tus) / (5 tus + 2 deps) = 5 copies of each file.
    expect(bench.copiesPerFile).toBe(5);
    for (const tag of [TAG_152, TAG_150] as const) {
      const commit = scaled.tags[tag].srcCommit;
      const deps = await bare(scaled.repos.src, ['show', `${commit}:DEPS`]);
      const gitlinks = await bare(scaled.repos.src, ['ls-tree', '-r', commit, 'third_party/bench']);
      for (const dep of bench.deps) {
        expect(deps).toContain(`'${dep.path}':\n    Var('chromium_git') + '/${dep.urlPath}' + '@' + '${dep.revision}'`);
        expect(gitlinks).toContain(`160000 commit ${dep.revision}\t${dep.path.slice('src/'.length)}`);
      }
      expect(await bare(scaled.repos.src, ['show', `${commit}:net/third_party/quiche/BUILD.gn`])).toContain(
        'deps = [ "//third_party/bench" ]',
      );
    }
    const files = (await bare(join(scaled.reposDir, bench.deps[0]!.urlPath), ['ls-tree', '-r', '--name-only', 'main'])).split('\n');
    expect(files.filter((f) => f.endsWith('.c'))).toHaveLength(3);
    expect(files).toContain('BUILD.gn');
  });
});
