import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countDistccLines, DistccLogTail, formatCounts, remoteTotal } from '../../../src/distributed/log.js';

// Lines as distcc 3.4 writes them (DISTCC_LOG without DISTCC_VERBOSE), from a run against two daemons.
const LOG = `distcc[4321] compile from t.cc to remote.o
distcc[4321] (dcc_gcc_rewrite_fqn) Re-writing call to 'g++-12' to 'x86_64-linux-gnu-g++-12' to support cross-compilation.
distcc[4321] exec on 10.91.1.2/1,lzo: x86_64-linux-gnu-g++-12 -O1 -c /tmp/dx/src/t.cc -o remote.o
distcc[4321] cpp /tmp/dx/src/t.cc on localhost completed ok
distcc[4321] compile /tmp/dx/src/t.cc on 10.91.1.2/1,lzo completed ok
distcc[4322] cpp u.cc on localhost completed ok
distcc[4322] compile u.cc on 10.91.2.2/1,lzo completed ok
distcc[4323] compile v.cc on 10.91.1.2/1,lzo completed ok
distcc[4324] ERROR: compile w.cc on 10.91.2.2/1,lzo failed
distcc[4324] (dcc_build_somewhere) Warning: remote compilation of 'w.cc' failed, retrying locally
distcc[4324] compile w.cc on localhost completed ok
distcc[4325] (dcc_build_somewhere) Warning: failed to distribute, running locally instead
distcc[4325] compile x y.cc on localhost completed ok
`;

describe('counting compiles from DISTCC_LOG', () => {
  it('counts remote compiles per host, compiles here, failures and fallbacks; preprocessing is not a compile', () => {
    const counts = countDistccLines(LOG);
    expect(counts).toEqual({
      remote: { '10.91.1.2/1,lzo': 2, '10.91.2.2/1,lzo': 1 },
      local: 2,
      failed: { '10.91.2.2/1,lzo': 1 },
      fallbacks: 2,
    });
    expect(remoteTotal(counts)).toBe(3);
    expect(formatCounts(counts)).toBe('remote 3 (10.91.1.2 2, 10.91.2.2 1), here 2, failed on 10.91.2.2 1, retried');
  });

  it('follows a log while it grows, waiting for a partial line to end', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bq-distcc-log-'));
    try {
      const file = path.join(dir, 'distcc.log');
      const tail = new DistccLogTail(file);
      expect(remoteTotal(tail.poll())).toBe(0); // not there yet
      writeFileSync(file, 'distcc[1] compile a.cc on h1/1 completed ok\ndistcc[2] compile b.cc on h2');
      expect(tail.poll().remote).toEqual({ 'h1/1': 1 });
      appendFileSync(file, '/1 completed ok\n');
      expect(tail.poll().remote).toEqual({ 'h1/1': 1, 'h2/1': 1 });
      expect(tail.poll().remote).toEqual({ 'h1/1': 1, 'h2/1': 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
