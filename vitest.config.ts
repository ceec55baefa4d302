import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Their own tiers: npm run test:lab (namespaces), npm run test:real (real compiles).
    exclude: ['test/lab/**', 'test/real/**', '**/node_modules/**'],
    // Integration tests drive real git, gclient (fake), gn, ninja and g++ against the local upstream.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Two cores: two test files at a time keeps compiles from starving each other.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
