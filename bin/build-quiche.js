#!/usr/bin/env node
// Thin launcher: the CLI lives in lib/cli/entry.js (compiled from src/cli/entry.ts).
import '../lib/cli/entry.js';
