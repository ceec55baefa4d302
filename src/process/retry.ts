import pRetry from 'p-retry';
import { toBuildQuicheError } from '../errors.js';

export interface RetryPolicy {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

/**
 * Retry only transient failures (the network), with exponential backoff and jitter. Everything
 * else (a missing revision, a dirty tree, a full disk) fails at once: retrying cannot fix it.
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  options: { signal?: AbortSignal; onRetry?: (error: Error, attempt: number, retriesLeft: number) => void } = {},
): Promise<T> {
  return pRetry(operation, {
    retries: policy.retries,
    minTimeout: policy.minTimeoutMs,
    maxTimeout: policy.maxTimeoutMs,
    factor: 2,
    randomize: true,
    signal: options.signal,
    shouldRetry: ({ error }) => !options.signal?.aborted && toBuildQuicheError(error).transient,
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft > 0 && toBuildQuicheError(error).transient) options.onRetry?.(error, attemptNumber, retriesLeft);
    },
  });
}
