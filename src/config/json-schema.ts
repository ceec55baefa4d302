import { z } from 'zod';
import { configSchema } from './schema.js';

/** The JSON Schema of pipeline.config.ts (what users write: every field optional). */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input' }),
    $id: 'https://github.com/build-quiche/build-quiche/schema/pipeline.config.schema.json',
    title: 'build-quiche pipeline configuration',
  };
}

export const renderConfigJsonSchema = () => `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
