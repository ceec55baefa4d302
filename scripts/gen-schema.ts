// Regenerates schema/pipeline.config.schema.json from the zod schema (npm run schema).
import { writeFileSync } from 'node:fs';
import { renderConfigJsonSchema } from '../src/config/json-schema.js';

writeFileSync(new URL('../schema/pipeline.config.schema.json', import.meta.url), renderConfigJsonSchema());
console.log('wrote schema/pipeline.config.schema.json');
