import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { parseSeries } from '../../../src/patches/series.js';
import { tempDir } from '../../support/patch-repos.js';

describe('a series file with garbage in it', () => {
  it('names the line and shows NUL and non-UTF-8 bytes escaped, never raw', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'series');
    await writeFile(file, Buffer.concat([Buffer.from('# ok\n'), Buffer.from([0x00, 0xff, 0x41, 0x01, 0x0a])]));
    const error = await parseSeries(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain(`${file}:2: not a line of text`);
    expect(message).toContain('"\\u0000\\ufffdA\\u0001"');
    // eslint-disable-next-line no-control-regex -- the raw bytes must not reach the message
    expect(message).not.toMatch(/[\u0000-\u0008\ufffd]/);
  });

  it('still reads a CRLF series file', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'series');
    await writeFile(file, '# only comments\r\n\r\n');
    expect((await parseSeries(file)).patches).toEqual([]);
  });
});
