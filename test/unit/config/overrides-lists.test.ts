import { describe, expect, it } from 'vitest';
import { envOverrides, setOverrides } from '../../../src/config/overrides.js';
import { ConfigError } from '../../../src/errors.js';

describe('list values in --set and BUILD_QUICHE_* (one rule for every list field)', () => {
  it('takes a JSON list for a string-list field, as it does for a JSON field', () => {
    expect(setOverrides(['build.targets=["net:quic_client","net:quic_server"]'])).toEqual({
      build: { targets: ['net:quic_client', 'net:quic_server'] },
    });
  });

  it('still takes comma-separated text for a string-list field', () => {
    expect(setOverrides(['build.targets=net:quic_client, net:quic_server'])).toEqual({
      build: { targets: ['net:quic_client', 'net:quic_server'] },
    });
  });

  it('reads a JSON list from the environment the same way', () => {
    expect(envOverrides({ BUILD_QUICHE_BUILD_TARGETS: '["net:quic_client"]' })).toEqual({ build: { targets: ['net:quic_client'] } });
  });

  it('refuses a bracketed value that is not a JSON list of strings, naming the field', () => {
    expect(() => setOverrides(['build.targets=[net:quic_client]'])).toThrow(ConfigError);
    expect(() => setOverrides(['build.targets=[1,2]'])).toThrow(/build\.targets expects a JSON list of strings or comma-separated text/);
  });
});
