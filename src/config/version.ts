import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from './load.js';

/** build-quiche's own version (package.json), recorded in every manifest. */
export const TOOL_VERSION = (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
