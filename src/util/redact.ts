/**
 * Secrets never reach the terminal, a log or a --json event. Every configured secret is registered
 * here when it is read; redact() then removes it, and any prefix of it long enough to recognise (a
 * server or proxy quoting "token ghp_abcd…" in an error), and anything shaped like a GitHub token.
 */

const REPLACEMENT = '[REDACTED]';
/** Shorter prefixes say too little to matter and would match ordinary words. */
const MIN_PREFIX = 8;
const TOKEN_SHAPES = /\b(?:gh[pousr]_[A-Za-z0-9]{8,}|github_pat_[A-Za-z0-9_]{8,})/g;

const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= MIN_PREFIX) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) out = redactPrefixes(out, secret);
  return out.replace(TOKEN_SHAPES, REPLACEMENT);
}

/** Replaces every run of text that equals a prefix of `secret` at least MIN_PREFIX long. */
function redactPrefixes(text: string, secret: string): string {
  const head = secret.slice(0, MIN_PREFIX);
  let out = '';
  let from = 0;
  for (let at = text.indexOf(head); at !== -1; at = text.indexOf(head, from)) {
    let end = at + MIN_PREFIX;
    while (end < text.length && end - at < secret.length && text[end] === secret[end - at]) end++;
    out += text.slice(from, at) + REPLACEMENT;
    from = end;
  }
  return out + text.slice(from);
}
