import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUNDLED_SERIES } from '../../../src/config/load.js';
import { EVENT_KINDS, parseEventLine } from '../../../src/smoke/event-lines.js';

/**
 * The output lines of the shipped patches are an interface: the smoke test and the lab parse them
 * (src/smoke/event-lines.ts), and patches/README.md documents them. These tests keep the three in step:
 * every field the C++ prints is documented, every documented field is printed, and each line kind
 * is one the parser knows.
 */
const PATCHES_DIR = path.dirname(BUNDLED_SERIES);

/** Line kind -> field names, from the README's fenced format blocks (`KIND key=<...> [key=<...>]`). */
async function documentedFormats(): Promise<Map<string, Set<string>>> {
  const readme = await readFile(path.join(PATCHES_DIR, 'README.md'), 'utf8');
  const formats = new Map<string, Set<string>>();
  for (const block of readme.matchAll(/```\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split('\n')) {
      const kind = /^([A-Z_]+) /.exec(line)?.[1];
      if (!kind || !(EVENT_KINDS as readonly string[]).includes(kind)) continue;
      const keys = formats.get(kind) ?? new Set<string>();
      for (const m of line.matchAll(/(?:^|[ [])([a-z_]+)=/g)) keys.add(m[1]!);
      formats.set(kind, keys);
    }
  }
  return formats;
}

/** The C++ lines a patch adds, joined (string literals such as `" to="` are what gets printed). */
async function addedCode(patch: string): Promise<string> {
  const text = await readFile(path.join(PATCHES_DIR, patch), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith('+') && !l.startsWith('+++'))
    .map((l) => l.slice(1))
    .join('\n');
}

/** Field names printed as `"KIND key="` or `" key="` in string literals of the added code. */
function printedKeys(code: string): Set<string> {
  const keys = new Set<string>();
  for (const m of code.matchAll(/"(?:[A-Z_]+)? ?([a-z_]+)="/g)) keys.add(m[1]!);
  return keys;
}

const PATCH_KINDS = {
  '0001-client-intentional-migration.patch': ['MIGRATION', 'MIGRATION_DISABLED', 'MIGRATION_SUMMARY'],
  '0002-server-migration-log.patch': ['PEER_MIGRATION', 'PEER_VALIDATED', 'PEER_PATH_REVERTED', 'PEER_MIGRATION_SUMMARY'],
} as const;

describe('the output lines of the shipped patches', () => {
  it.each(Object.entries(PATCH_KINDS))('%s prints exactly the fields patches/README.md documents', async (patch, kinds) => {
    const formats = await documentedFormats();
    const documented = new Set(kinds.flatMap((kind) => [...(formats.get(kind) ?? [])]));
    for (const kind of kinds) expect(formats.has(kind), `${kind} is documented`).toBe(true);
    const printed = printedKeys(await addedCode(patch));
    expect([...printed].sort()).toEqual([...documented].sort());
  });

  it('documents only line kinds the smoke parser knows, each parseable as key=value', async () => {
    const formats = await documentedFormats();
    expect([...formats.keys()].sort()).toEqual([...EVENT_KINDS].sort());
    for (const [kind, keys] of formats) {
      const line = `${kind} ${[...keys].map((k) => `${k}=x`).join(' ')}`;
      expect(parseEventLine(line)).toMatchObject({ kind, fields: Object.fromEntries([...keys].map((k) => [k, 'x'])) });
    }
  });

  it('the server reports a repeated migration after a revert with again=yes and the revert with its connection IDs', async () => {
    const formats = await documentedFormats();
    expect(formats.get('PEER_MIGRATION')).toContain('again');
    expect(formats.get('PEER_PATH_REVERTED')).toContain('server_cid');
    expect(formats.get('PEER_MIGRATION_SUMMARY')).toContain('reverted');
    const code = await addedCode('0002-server-migration-log.patch');
    expect(code).toMatch(/" again=" << \(again \? "yes" : "no"\)/);
  });

  it('the client summary counts local IPs and local IP:port pairs separately', async () => {
    const code = await addedCode('0001-client-intentional-migration.patch');
    expect(code).toMatch(/" distinct_local_addrs=" << local_ips_\.size\(\)/);
    expect(code).toMatch(/" distinct_local_endpoints=" << local_endpoints_\.size\(\)/);
    expect(code).toMatch(/AddDistinct\(local_ips_, connection\(\)->self_address\(\)\.host\(\)\.ToString\(\)\)/);
  });
});
