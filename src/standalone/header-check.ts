/**
 * Proof that BoringSSL's headers won: after the compile, no object may depend on a system OpenSSL header.
 * Debian's libssl-dev puts /usr/include/openssl on the default include path; if a BoringSSL include
 * directory were missing or ordered after it, quiche would compile against OpenSSL's declarations and
 * fail (or worse, subtly misbehave) only at link or run time. The input is `ninja -t deps` output, which
 * lists every header each object was compiled with (ninja keeps depfiles in .ninja_deps).
 */

export interface ForeignHeader {
  object: string;
  header: string;
}

const SYSTEM_OPENSSL = /^\/usr(?:\/local)?\/include\/(?:[^/]+\/)?openssl\//;

export function systemOpensslHeaders(ninjaDepsOutput: string): ForeignHeader[] {
  const found: ForeignHeader[] = [];
  let object = '';
  for (const line of ninjaDepsOutput.split('\n')) {
    // "obj/quiche/x.o: #deps 812, deps mtime 1733241000 (VALID)" starts an object's list.
    const head = /^(\S+): #deps \d+/.exec(line);
    if (head) {
      object = head[1]!;
      continue;
    }
    const header = line.trim();
    if (object && SYSTEM_OPENSSL.test(header)) found.push({ object, header });
  }
  return found;
}
