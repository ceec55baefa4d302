import { describe, expect, it } from 'vitest';
import { systemOpensslHeaders } from '../../../src/standalone/header-check.js';

const deps = (headers: string[]) => `obj/quiche/quiche/common/quiche_random.o: #deps 3, deps mtime 1733241000 (VALID)
    /s/quiche/quiche/common/quiche_random.cc
${headers.map((h) => `    ${h}`).join('\n')}

`;

describe('systemOpensslHeaders', () => {
  it('accepts objects compiled against BoringSSL’s headers only', () => {
    expect(systemOpensslHeaders(deps(['/p/boringssl/include/openssl/rand.h', '/usr/include/c++/12/string']))).toEqual([]);
  });

  it('names the object and the system OpenSSL header it used', () => {
    expect(systemOpensslHeaders(deps(['/usr/include/openssl/rand.h']))).toEqual([
      { object: 'obj/quiche/quiche/common/quiche_random.o', header: '/usr/include/openssl/rand.h' },
    ]);
  });

  it('also catches Debian’s multiarch opensslconf location', () => {
    expect(systemOpensslHeaders(deps(['/usr/include/x86_64-linux-gnu/openssl/opensslconf.h']))).toHaveLength(1);
  });
});
