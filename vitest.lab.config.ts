import { defineConfig } from 'vitest/config';

/**
 * `npm run test:lab`: the migration lab's scenarios in real network namespaces (veth, wireguard-go,
 * tcpdump, tshark, headless Chromium). One file at a time: each scenario shapes links with tc and
 * measures a transfer, which a parallel compile would distort.
 */
export default defineConfig({
  test: {
    include: ['test/lab/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
