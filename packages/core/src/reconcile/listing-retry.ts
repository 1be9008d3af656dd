/**
 * Page reads that survive a blip. A pass over a large bucket makes hundreds of list requests;
 * one 500 from S3 (or a dropped database connection) halfway must not throw away the pass, so a
 * page whose failure is retryable is read again with the `'read'` preset's backoff (1 s, 2 s,
 * 4 s). A failure that is not retryable (access denied, a missing table) stops the pass at once.
 */
import type { Clock } from '../clock/clock.js';
import type { Logger } from '../logging/logger.js';
import { retry } from '../retry/retry.js';

/** What a retried page read needs from the pass. */
export interface ListingRetryContext {
  /** Retries per page after the first attempt; `0` reads each page once. */
  readonly retries: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly traceId: string;
  readonly signal: AbortSignal | undefined;
}

/** Wraps `read` so each call retries a retryable failure before it rejects. */
export function withListingRetries<Cursor, Page>(
  listing: 'records' | 'storage',
  read: (cursor: Cursor | undefined) => Promise<Page>,
  { retries, clock, logger, traceId, signal }: ListingRetryContext,
): (cursor: Cursor | undefined) => Promise<Page> {
  if (retries === 0) return read;
  return (cursor) =>
    retry(() => read(cursor), {
      preset: 'read',
      retries,
      clock,
      ...(signal === undefined ? {} : { signal }),
      onRetry: ({ attempt, error, delayMs }) =>
        logger.warn(
          { traceId, listing, attempt, delayMs, err: error },
          `reconcile: reading a ${listing} page failed; retrying in ${delayMs} ms`,
        ),
    });
}
