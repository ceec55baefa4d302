import { describe, expect, it } from 'vitest';
import { parseHostSpec } from '../../../src/distributed/hosts.js';
import { compilerIdent, describeMismatch, explainFailure, isCxxCompiler } from '../../../src/distributed/probe.js';

const host = parseHostSpec('10.0.0.5/1,lzo');
const object = (ident: string) => Buffer.concat([Buffer.from('\x7fELF....'), Buffer.from(`\0${ident}\0`, 'latin1'), Buffer.from('...')]);

describe('the probe decides', () => {
  it('which probe source a compiler gets', () => {
    expect(['g++-12', '/usr/bin/g++', 'c++', 'clang++-16', 'x86_64-linux-gnu-g++-12'].map(isCxxCompiler)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['gcc-12', 'cc', 'clang'].map(isCxxCompiler)).toEqual([false, false, false]);
  });

  it('names the other compiler by the version string its objects carry', () => {
    const ours = object('GCC: (Debian 12.2.0-14) 12.2.0');
    const theirs = object('GCC: (Other) 12.3.0');
    expect(compilerIdent(ours)).toBe('GCC: (Debian 12.2.0-14) 12.2.0');
    expect(compilerIdent(object('clang version 16.0.6'))).toBe('clang version 16.0.6');
    expect(describeMismatch('g++-12', ours, theirs)).toBe(
      'its g++-12 is another compiler: it identifies as "GCC: (Other) 12.3.0", this machine\'s as "GCC: (Debian 12.2.0-14) 12.2.0"',
    );
    expect(describeMismatch('g++-12', ours, Buffer.concat([ours, Buffer.from('x')]))).toMatch(/same version string/);
  });

  it('explains a refused job, a stranger on the port, a missing compiler and other failures', () => {
    const refused = `distcc[6614] (dcc_r_result_header) ERROR: server provided no answer. Is the server configured to allow access from your IP address?
distcc[6614] (dcc_build_somewhere) ERROR: failed to distribute and fallbacks are disabled`;
    expect(explainFailure(host, 'g++-12', 116, refused)).toMatch(/refused the job: .*--allow.*update-distcc-symlinks/);
    expect(
      explainFailure(host, 'g++-12', 116, `${refused}\ndistcc[1] (dcc_explain_mismatch) ERROR: error context: "HTTP/1.1 400 Bad Request"`),
    ).toBe('something other than distccd answers on port 3632');
    expect(explainFailure(host, 'g++-13', 110, '')).toBe('it has no g++-13 (distcc exit 110)');
    expect(explainFailure(host, 'g++-12', 113, 'distcc[1] (dcc_select_for_read) ERROR: IO timeout')).toBe(
      'the probe compile failed (exit 113: network timeout): ERROR: IO timeout',
    );
  });
});
