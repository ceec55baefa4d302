import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { hostLabel, isPrivateAddress, localSlots, parseHostList, parseHostSpec, remoteSlots } from '../../../src/distributed/hosts.js';
import { publicHostWarning } from '../../../src/distributed/setup.js';

describe('distcc host specs', () => {
  it('reads TCP hosts: address or name, port, slots, options', () => {
    expect(parseHostSpec('10.0.0.5/8,lzo')).toEqual({
      spec: '10.0.0.5/8,lzo',
      kind: 'tcp',
      host: '10.0.0.5',
      port: 3632,
      slots: 8,
      options: ['lzo'],
    });
    expect(parseHostSpec('builder2')).toMatchObject({ kind: 'tcp', host: 'builder2', port: 3632, slots: 4, options: [] });
    expect(parseHostSpec('builder2:4000/2')).toMatchObject({ host: 'builder2', port: 4000, slots: 2 });
  });

  it('reads ssh hosts, with and without a user', () => {
    expect(parseHostSpec('alice@10.0.0.6/8,lzo')).toMatchObject({
      kind: 'ssh',
      user: 'alice',
      host: '10.0.0.6',
      slots: 8,
      options: ['lzo'],
    });
    expect(parseHostSpec('@build.example.org/16')).toMatchObject({ kind: 'ssh', host: 'build.example.org', slots: 16 });
    expect(parseHostSpec('@b/4:/opt/distccd')).toMatchObject({ kind: 'ssh', host: 'b', slots: 4 });
  });

  it('refuses pump mode, this machine, unknown options and bad slot counts, naming the spec', () => {
    expect(() => parseHostSpec('10.0.0.5/8,cpp,lzo')).toThrow(/pump mode/);
    expect(() => parseHostSpec('127.0.0.1')).toThrow(ConfigError);
    expect(() => parseHostSpec('127.0.0.1/2')).toThrow(/names this machine through a daemon/);
    expect(() => parseHostSpec('10.0.0.5,fast')).toThrow(/fast/);
    expect(() => parseHostSpec('10.0.0.5/0')).toThrow(/slot count/);
  });

  it('reads localhost/N as this machine compiling too, never alone', () => {
    expect(parseHostSpec('localhost/3')).toMatchObject({ kind: 'local', host: 'localhost', slots: 3 });
    expect(parseHostSpec('localhost')).toMatchObject({ kind: 'local', slots: 2 });
    const list = parseHostList(['localhost/1', '10.0.0.5/8']);
    expect([remoteSlots(list.hosts), localSlots(list.hosts)]).toEqual([8, 1]);
    expect(hostLabel(list.hosts[0]!)).toBe('localhost');
    expect(() => parseHostList(['localhost/2'])).toThrow(/only localhost/);
  });

  it('keeps global options apart and refuses a host listed twice', () => {
    const list = parseHostList(['--randomize', '10.0.0.5/8', '10.0.0.6/4,lzo']);
    expect(list.globals).toEqual(['--randomize']);
    expect(list.hosts.map((h) => h.host)).toEqual(['10.0.0.5', '10.0.0.6']);
    expect(remoteSlots(list.hosts)).toBe(12);
    expect(() => parseHostList(['10.0.0.5/8', '10.0.0.5/2,lzo'])).toThrow(/twice/);
  });

  it('labels hosts as people name them', () => {
    expect(hostLabel(parseHostSpec('10.0.0.5/8,lzo'))).toBe('10.0.0.5');
    expect(hostLabel(parseHostSpec('10.0.0.5:4000/8'))).toBe('10.0.0.5:4000');
  });

  it('tells private addresses from public ones', () => {
    for (const a of [
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '127.0.0.1',
      '169.254.1.1',
      '100.64.0.1',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.1',
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2001:db8::1', 'builder2'])
      expect(isPrivateAddress(a), a).toBe(false);
  });

  it('doctor warns about a TCP host outside private ranges, never about ssh hosts or localhost', () => {
    expect(publicHostWarning(parseHostSpec('build.example.org/8,lzo'), ['203.0.113.7'])).toMatch(
      /^distcc host build\.example\.org \(203\.0\.113\.7\) is outside private address ranges and reached over plain TCP.*ssh mode \('user@build\.example\.org\/8'\)/,
    );
    expect(publicHostWarning(parseHostSpec('build.example.org/8'), ['10.0.0.5', '203.0.113.7'])).toBeDefined();
    expect(publicHostWarning(parseHostSpec('10.0.0.5/8'), ['10.0.0.5'])).toBeUndefined();
    expect(publicHostWarning(parseHostSpec('alice@203.0.113.7/8'), ['203.0.113.7'])).toBeUndefined();
    expect(publicHostWarning(parseHostSpec('localhost/2'), ['127.0.0.1'])).toBeUndefined();
    expect(publicHostWarning(parseHostSpec('nowhere.invalid/2'), [])).toBeUndefined();
  });
});
