import { defineConfig } from 'build-quiche';

// The embedded default: Chromium DEFAULT_CHROMIUM_VERSION (152.0.7977.83, src/config/schema.ts) with
// the MIMIQ-derived patches in patches/. Pin another with `chromium: { version: '...' }` or --pin.
// Every field has a default; see docs/configuration.md and schema/pipeline.config.schema.json.
export default defineConfig({
  patches: { series: 'patches/series' },
});
