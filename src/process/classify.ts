import type { FailureClass } from '../errors.js';

/**
 * Which kind of failure a subprocess' output shows. Order matters: a full disk makes git print
 * network-looking errors too, and a dirty tree must not be retried as if it were a flaky network.
 * Patterns come from real git/gclient output (CHROMIUM.md, "How the real gclient behaves").
 */
const RULES: Array<[FailureClass, RegExp]> = [
  ['disk', /No space left on device|ENOSPC|Disk quota exceeded/i],
  [
    'dirty-tree',
    /You have uncommitted changes|would be overwritten by (checkout|merge)|Please commit your changes or stash them|unstaged changes/i,
  ],
  ['lock', /index\.lock|Your repo is locked|Unable to create '.*\.lock'/i],
  [
    'not-found',
    /couldn't find remote ref|not our ref|unknown revision|did not match any file|reference is not a tree|Could not find revision|Couldn't find revision|remote error: upload-pack: not our ref|fatal: invalid reference|Repository not found|repository '[^']*' not found|returned error: 404|HTTP 404/i,
  ],
  [
    'network',
    /RPC failed|early EOF|HTTP 5\d\d|returned error: 5\d\d|Could not resolve host|Connection (refused|reset|timed out)|Operation timed out|curl \d+|unexpected disconnect|the remote end hung up|will retry after a short nap|transfer closed with|Failed to connect|gnutls_handshake|SSL_read|TLS connection/i,
  ],
];

export function classifyOutput(lines: readonly string[], exitCode?: number): FailureClass | undefined {
  if (exitCode === 130) return 'interrupted';
  const text = lines.join('\n');
  for (const [failureClass, pattern] of RULES) if (pattern.test(text)) return failureClass;
  return undefined;
}
