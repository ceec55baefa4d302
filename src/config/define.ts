import type { UserConfig } from './schema.js';

/** Typed helper for pipeline.config.ts; returns its argument unchanged. */
export function defineConfig(config: UserConfig): UserConfig {
  return config;
}
