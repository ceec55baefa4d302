// Regenerates schema/pipeline.config.schema.json and docs/configuration.md from the zod schema
// (npm run schema). A test fails when either is out of date.
import { writeFileSync } from 'node:fs';
import { renderConfigDocs } from '../src/config/docs.js';
import { renderConfigJsonSchema } from '../src/config/json-schema.js';

writeFileSync(new URL('../schema/pipeline.config.schema.json', import.meta.url), renderConfigJsonSchema());
writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigDocs());
console.log('wrote schema/pipeline.config.schema.json and docs/configuration.md');
