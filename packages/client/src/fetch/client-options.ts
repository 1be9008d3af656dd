/**
 * Options of {@link createClient}, declared and validated apart from the behaviour so the
 * client file reads top to bottom.
 */
import type { Clock } from '@ballast/core';
import { parseOptions, type StandardSchemaV1, v } from '@ballast/core/adapter-kit';

/** What a client tells about each request's network outcome (a `Connectivity` does this). */
export interface ConnectivityReporter {
  /** A request got an HTTP answer (any status). */
  reportSuccess(): void;
  /** A request got no answer: the network failed or the request timed out. */
  reportFailure(): void;
}

/** Retries of {@link createClient}. */
export interface ClientRetryOptions {
  /** Retries of a read (GET, HEAD, OPTIONS). Default `2` (three attempts, seed 002 §2.3). */
  reads?: number;
  /**
   * Retries of a write that carries an `Idempotency-Key`. Default `1`: one quick retry, then
   * the write queue takes over (seed 002 §4.1). A write sent without a key is never retried.
   */
  writes?: number;
  /** Delay before each retry, in ms; past its end the last repeats. Default `[1000, 2000, 4000]`. */
  delaysMs?: number[];
  /** A `Retry-After` longer than this ends the retries at once. Default `60_000`. */
  maxRetryAfterMs?: number;
}

/** Options of {@link createClient}. */
export interface ClientOptions {
  /**
   * Prefix of every relative path (`'https://api.example.com/v1'`). Default `''` (same
   * origin in a browser; Node needs an absolute URL).
   */
  baseUrl?: string;
  /** The fetch to use. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Time allowed for one attempt, in ms. Default `30_000` (seed 002 §2.3). */
  timeoutMs?: number;
  /** Retries; see {@link ClientRetryOptions}. */
  retry?: ClientRetryOptions;
  /** Headers sent with every request (e.g. an `authorization` or a tenant header). */
  headers?: Record<string, string>;
  /** Told about every request's outcome, e.g. a {@link Connectivity}. */
  connectivity?: ConnectivityReporter;
  /** Source of time for timeouts and backoff. Default: the system clock. */
  clock?: Clock;
  /** Returns a number in `[0, 1)` for jitter. Default `Math.random`. */
  random?: () => number;
}

const durationList = v.array(v.durationMs(), { minLength: 1, maxLength: 20 });

/** Options after validation, defaults applied. */
export type ParsedClientOptions = Omit<ClientOptions, 'baseUrl' | 'timeoutMs' | 'retry'> & {
  baseUrl: string;
  timeoutMs: number;
  retry: Required<ClientRetryOptions>;
};

// Annotated (not inferred) so the declaration build can name its type.
const clientOptionsSchema: StandardSchemaV1<unknown, ParsedClientOptions> = v.object({
  baseUrl: v.optional(v.string({ maxLength: 2_000 }), ''),
  fetch: v.optional(v.func<typeof fetch>('a fetch function')),
  timeoutMs: v.optional(v.durationMs({ min: 1 }), 30_000),
  retry: v.optional(
    v.object({
      reads: v.optional(v.number({ min: 0, max: 10, integer: true }), 2),
      writes: v.optional(v.number({ min: 0, max: 10, integer: true }), 1),
      delaysMs: v.optional(durationList, [1_000, 2_000, 4_000]),
      maxRetryAfterMs: v.optional(v.durationMs(), 60_000),
    }),
    { reads: 2, writes: 1, delaysMs: [1_000, 2_000, 4_000], maxRetryAfterMs: 60_000 },
  ),
  headers: v.optional(
    v.custom<Record<string, string>>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        Object.values(value).every((header) => typeof header === 'string'),
      'a record of header names to string values',
    ),
  ),
  connectivity: v.optional(
    v.custom<ConnectivityReporter>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as ConnectivityReporter).reportSuccess === 'function' &&
        typeof (value as ConnectivityReporter).reportFailure === 'function',
      'a connectivity reporter (reportSuccess, reportFailure)',
    ),
  ),
  clock: v.optional(v.clock()),
  random: v.optional(v.func<() => number>('a random function')),
});

/** Validates {@link createClient}'s options and applies the defaults. */
export function parseClientOptions(input: unknown): ParsedClientOptions {
  return parseOptions(clientOptionsSchema, input, 'createClient()');
}
