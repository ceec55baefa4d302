import { describe, expect, it } from 'vitest';
import { toBuildQuicheError } from '../../src/errors.js';

describe('toBuildQuicheError', () => {
  it('turns a raw ENOSPC from any write into a disk error (exit 8) that says what to do', () => {
    const raw = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    const error = toBuildQuicheError(raw);
    expect(error.failureClass).toBe('disk');
    expect(error.exitCode).toBe(8);
    expect(error.message).toBe('The disk is full: ENOSPC: no space left on device, write');
    expect(error.hint).toMatch(/Free space/);
  });

  it('keeps other errors internal (exit 1)', () => {
    expect(toBuildQuicheError(new Error('boom')).exitCode).toBe(1);
  });
});
