import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { InterruptedError, NetworkError, NotFoundError } from '../errors.js';

/** Plain HTTP(S) downloads for artifact consumers: typed errors, abortable, never a partial file. */

export type FetchLike = typeof fetch;

async function get(url: string, options: { signal?: AbortSignal; fetch?: FetchLike }): Promise<Response> {
  const doFetch = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(url, { signal: options.signal, redirect: 'follow' });
  } catch (error) {
    if (options.signal?.aborted) throw new InterruptedError(`Interrupted while downloading ${url}.`, { cause: error });
    const reason = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
    throw new NetworkError(`Could not download ${url}: ${reason}.`, {
      hint: 'Check the URL and the network, then try again.',
      cause: error,
    });
  }
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    throw new NotFoundError(`${url} does not exist (HTTP ${response.status}).`, {
      hint: 'Check the URL: it should name a .tar.gz artifact, or a directory holding SHA256SUMS next to the artifacts.',
    });
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new NetworkError(`Could not download ${url}: HTTP ${response.status} ${response.statusText}.`, {
      hint: 'The server refused or failed the request; try again later.',
    });
  }
  return response;
}

/** Fetch a small text file (SHA256SUMS, index.json); undefined when it does not exist. */
export async function downloadText(
  url: string,
  options: { signal?: AbortSignal; fetch?: FetchLike; optional?: boolean } = {},
): Promise<string | undefined> {
  try {
    return await (await get(url, options)).text();
  } catch (error) {
    if (options.optional && error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/** Stream `url` into `file`, returning its sha256 and size. On failure the file is removed. */
export async function downloadFile(
  url: string,
  file: string,
  options: { signal?: AbortSignal; fetch?: FetchLike } = {},
): Promise<{ sha256: string; size: number }> {
  const response = await get(url, options);
  const hash = createHash('sha256');
  let size = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>),
      measure,
      createWriteStream(file),
      options.signal ? { signal: options.signal } : {},
    );
  } catch (error) {
    await rm(file, { force: true });
    if (options.signal?.aborted) throw new InterruptedError(`Interrupted while downloading ${url}.`, { cause: error });
    throw new NetworkError(`Download of ${url} broke off: ${(error as Error).message}.`, {
      hint: 'Try again; nothing partial was kept.',
      cause: error,
    });
  }
  return { sha256: hash.digest('hex'), size };
}
