import { describe, expect, it } from 'vitest';
import { distccEnv, distributedJobs, launcherFor } from '../../../src/distributed/env.js';
import { parseHostSpec } from '../../../src/distributed/hosts.js';

const hosts = [parseHostSpec('10.0.0.5/8,lzo'), parseHostSpec('10.0.0.6/4,lzo')];

describe('the build environment of a distributed build', () => {
  it('puts ccache first whenever ccache is used; distcc is the launcher only without ccache', () => {
    expect(launcherFor(true, true)).toBe('ccache');
    expect(launcherFor(true, false)).toBe('ccache');
    expect(launcherFor(false, true)).toBe('distcc');
    expect(launcherFor(false, false)).toBeUndefined();
  });

  it('hands ccache misses to distcc and names the usable hosts', () => {
    const env = distccEnv({ hosts, globals: ['--randomize'], dir: '/c/d', log: '/c/l', fallback: true, viaCcache: true, localJobs: 2 });
    expect(env).toEqual({
      DISTCC_HOSTS: '--randomize 10.0.0.5/8,lzo 10.0.0.6/4,lzo',
      DISTCC_DIR: '/c/d',
      DISTCC_LOG: '/c/l',
      DISTCC_FALLBACK: '1',
      CCACHE_PREFIX: 'distcc',
      // One local preprocessing per miss (distcc's), not two.
      CCACHE_DEPEND: '1',
    });
  });

  it('without ccache, distcc is called directly; fallback off is passed on', () => {
    const env = distccEnv({ hosts, dir: '/d', log: '/l', fallback: false, viaCcache: false, localJobs: 2 });
    expect(env.CCACHE_PREFIX).toBeUndefined();
    expect(env.DISTCC_FALLBACK).toBe('0');
  });

  it('with no usable host, compiles here: localhost for a distcc launcher, no prefix for ccache', () => {
    const env = distccEnv({ hosts: [], dir: '/d', log: '/l', fallback: true, viaCcache: true, localJobs: 3 });
    expect(env.DISTCC_HOSTS).toBe('localhost/3');
    expect(env.CCACHE_PREFIX).toBeUndefined();
    expect(
      distccEnv({ hosts: [parseHostSpec('localhost/1')], dir: '/d', log: '/l', fallback: true, viaCcache: true, localJobs: 3 })
        .DISTCC_HOSTS,
    ).toBe('localhost/3');
  });

  it('-j is twice the remote slots, never below the local -j; the setting wins', () => {
    expect(distributedJobs(hosts, 2)).toBe(24);
    expect(distributedJobs([parseHostSpec('10.0.0.5/1')], 4)).toBe(4);
    expect(distributedJobs([], 2)).toBe(2);
    expect(distributedJobs(hosts, 2, 7)).toBe(7);
    // localhost/N: this machine's slots on top (distcc runs them without a daemon).
    expect(distributedJobs([parseHostSpec('localhost/1'), parseHostSpec('10.0.0.5/2')], 1)).toBe(5);
    expect(distributedJobs([parseHostSpec('localhost/1')], 2)).toBe(2);
  });
});
