import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/**
 * One config, one project per tier (test/README.md). `npm test` runs unit + integration; the slow tiers
 * run on their own: `npm run test:lab` (namespaces, root), `test:docker` (podman), `test:real` (real
 * compiles). The fault suite is a seeded matrix, not a vitest project: `npm run faults`.
 */
const tier = (name: string, test: NonNullable<TestProjectInlineConfiguration['test']> = {}): TestProjectInlineConfiguration => ({
  extends: true,
  test: { name, include: [`test/${name}/**/*.test.ts`], ...test },
});

export default defineConfig({
  test: {
    // Integration tests drive real git, gclient (fake), gn, ninja and g++ against the local upstream.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      // Two cores: two test files at a time keeps compiles from starving each other.
      tier('unit', { maxWorkers: 2 }),
      tier('integration', { maxWorkers: 2 }),
      // One file at a time: each scenario shapes links with tc and measures a transfer, which a
      // parallel compile would distort.
      tier('lab', { fileParallelism: false, testTimeout: 180_000 }),
      // Minutes per image build and container run.
      tier('docker', { fileParallelism: false, testTimeout: 30 * 60_000, hookTimeout: 30 * 60_000 }),
      // Real quiche binaries from the shared upstream (minutes cold, seconds warm from BQ_REAL_CACHE);
      // the builds share the machine's cores and the cache's run lock.
      tier('real', { fileParallelism: false, testTimeout: 90 * 60_000, hookTimeout: 90 * 60_000 }),
    ],
  },
});
