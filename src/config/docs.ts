import { configJsonSchema } from './json-schema.js';
import { configLeaves } from './overrides.js';

type Node = {
  type?: string | string[];
  default?: unknown;
  description?: string;
  properties?: Record<string, Node>;
  enum?: unknown[];
  anyOf?: Node[];
  items?: Node;
  additionalProperties?: unknown;
};

function nodeAt(root: Node, path: string[]): Node | undefined {
  return path.reduce<Node | undefined>((node, key) => node?.properties?.[key], root);
}

function typeOf(node: Node): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  if (node.anyOf) return node.anyOf.map(typeOf).join(' \\| ');
  if ('const' in node) return JSON.stringify((node as { const: unknown }).const);
  if (node.type === 'array') return `${node.items ? typeOf(node.items) : 'any'}[]`;
  if (node.type === 'object' && !node.properties) return 'object';
  return Array.isArray(node.type) ? node.type.join(' \\| ') : (node.type ?? 'any');
}

/** docs/configuration.md: every field with its type, default, env variable and description. */
export function renderConfigDocs(): string {
  const schema = configJsonSchema() as Node;
  const rows = configLeaves().map((leaf) => {
    const node = nodeAt(schema, leaf.path) ?? {};
    const def = node.default === undefined ? '' : `\`${JSON.stringify(node.default)}\``;
    return `| \`${leaf.path.join('.')}\` | ${typeOf(node)} | ${def} | \`${leaf.envName}\` | ${(node.description ?? '').replace(/\|/g, '\\|')} |`;
  });
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run schema`; do not edit by hand. -->',
    '',
    '`pipeline.config.ts` exports `defineConfig({...})`; every field is optional. Relative paths are',
    "resolved against the config file's directory. Precedence, strongest last: the file, the",
    '`BUILD_QUICHE_*` variable of a field, dedicated CLI flags, `--set field.path=value`. Lists in env',
    'variables are comma-separated; objects are JSON. The JSON Schema is',
    '[schema/pipeline.config.schema.json](../schema/pipeline.config.schema.json).',
    '',
    '| field | type | default | environment | description |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
