import { defineConfig } from './src/config/define.js';

// The embedded default: Chromium 152.0.7977.83 with the MIMIQ-derived patches in patches/.
// Every other field has a default; see docs/configuration.md and schema/pipeline.config.schema.json.
export default defineConfig({
  chromium: { version: '152.0.7977.83' },
  patches: { series: 'patches/series' },
});
