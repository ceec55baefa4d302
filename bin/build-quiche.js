#!/usr/bin/env node
// Thin launcher: the CLI lives in lib/cli/entry.js (compiled from src/cli/entry.ts); `npm run build`
// also bundles it into lib/cli/entry.bundle.js, which loads in about half the time
// (scripts/bundle-cli.ts). Without the bundle (only `tsc` ran), the modules load one by one.
import { existsSync } from 'node:fs';

const bundle = new URL('../lib/cli/entry.bundle.js', import.meta.url);
await import(existsSync(bundle) ? bundle.href : '../lib/cli/entry.js');
