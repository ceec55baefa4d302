import { defineConfig } from 'vitest/config';

/**
 * `npm run test:real`: the real tier. Builds real quiche binaries from ../shared/upstream through the
 * local upstream (minutes cold, seconds warm from the persistent cache BQ_REAL_CACHE) and runs them.
 * One file at a time: the builds share the machine's cores and the cache's run lock.
 */
export default defineConfig({
  test: {
    include: ['test/real/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 90 * 60_000,
    hookTimeout: 90 * 60_000,
    reporters: ['verbose'],
    // The real build runs only here: under `npm test` its file skips (see test/real/pipeline-real.test.ts).
    env: { BQ_REAL_TIER: '1' },
  },
});
