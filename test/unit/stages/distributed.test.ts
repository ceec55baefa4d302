import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { UserConfig } from '../../../src/config/schema.js';
import { chromiumDistributedUse, distributedUseOf, standaloneDistributedUse, withCcWrapper } from '../../../src/stages/distributed.js';
import { createAppContext } from '../../../src/stages/context.js';
import { ConfigError } from '../../../src/errors.js';

const appWith = async (config: UserConfig) => createAppContext(await loadConfig({ inline: config, cwd: '/tmp', env: {} }));
const DISTCC: UserConfig['distributed'] = { engine: 'distcc', hosts: ['10.0.0.5/2,lzo'] };

describe('the distributed engine in the stages', () => {
  it('sets cc_wrapper only when distributing, keeps a cc_wrapper the user chose (ccache: distcc behind it)', async () => {
    expect(withCcWrapper({ is_debug: false }, await appWith({}))).toEqual({ is_debug: false });
    const app = await appWith({ distributed: DISTCC });
    expect(withCcWrapper({ is_debug: false }, app)).toEqual({ is_debug: false, cc_wrapper: 'distcc' });
    expect(withCcWrapper({ cc_wrapper: 'ccache' }, app)).toEqual({ cc_wrapper: 'ccache' });
    expect(chromiumDistributedUse(app, { cc_wrapper: 'ccache' })).toMatchObject({ viaCcache: true, compilers: ['gcc', 'g++'] });
    expect(chromiumDistributedUse(app, { cc_wrapper: 'distcc' })).toMatchObject({ viaCcache: false });
  });

  it('refuses distcc together with use_remoteexec, as cc_wrapper.gni does', async () => {
    expect(withCcWrapper({ use_remoteexec: true }, await appWith({}))).toEqual({ use_remoteexec: true });
    const app = await appWith({ distributed: DISTCC });
    expect(() => withCcWrapper({ use_remoteexec: true }, app)).toThrow(ConfigError);
  });

  it('probes the compilers and flags the build uses', async () => {
    expect(distributedUseOf(await appWith({ backend: 'quiche', distributed: DISTCC }))).toEqual({
      compilers: ['gcc-12', 'g++-12'],
      flags: ['-O1', '-g0'],
      viaCcache: true,
    });
    expect(
      distributedUseOf(await appWith({ backend: 'quiche', quiche: { ccache: 'off' }, distributed: { ...DISTCC, compilers: ['g++-12'] } })),
    ).toMatchObject({
      compilers: ['g++-12'],
      viaCcache: false,
    });
  });

  it("the standalone build probes its toolchain's compilers, or distributed.compilers as doctor does", async () => {
    const toolchain = {
      cc: '/usr/bin/gcc-12',
      cxx: '/usr/bin/g++-12',
      compilerId: 'g++-12 (Debian 12.2.0-14) 12.2.0',
      flags: ['-O1', '-g0'],
      launcher: 'ccache',
    };
    expect(standaloneDistributedUse(await appWith({ backend: 'quiche', distributed: DISTCC }), toolchain)).toEqual({
      compilers: ['/usr/bin/gcc-12', '/usr/bin/g++-12'],
      flags: ['-O1', '-g0'],
      viaCcache: true,
    });
    const chosen = await appWith({ backend: 'quiche', distributed: { ...DISTCC, compilers: ['g++-12'] } });
    expect(standaloneDistributedUse(chosen, { ...toolchain, launcher: undefined }).compilers).toEqual(['g++-12']);
    expect(distributedUseOf(chosen).compilers).toEqual(['g++-12']);
  });

  it('the config refuses an engine without hosts', async () => {
    await expect(appWith({ distributed: { engine: 'distcc' } })).rejects.toThrow(/names no host/);
  });
});
