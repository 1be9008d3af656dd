/**
 * Options of {@link createClient}, declared and validated apart from the behaviour so the
 * client file reads top to bottom.
 */
import type { Clock } from '@ballast/core';
import { isAbortSignalLike } from '@ballast/core/adapter-kit';
import {
  anything,
  array,
  type Check,
  clockCheck,
  duration,
  func,
  headerRecord,
  is,
  number,
  object,
  optional,
  parseOptions,
  string,
  withMethods,
} from '../options/option-checks.js';
import type { RequestOptions } from './create-client.js';

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

/** Options after validation, defaults applied. */
export type ParsedClientOptions = Omit<ClientOptions, 'baseUrl' | 'timeoutMs' | 'retry'> & {
  baseUrl: string;
  timeoutMs: number;
  retry: Required<ClientRetryOptions>;
};

/**
/**
 * Whether `value` is a path the client can send: relative (`/sales`, `sales`) or an http(s)
 * URL. Another scheme (`mailto:`, or `sales:today`, which reads as one) would reach fetch, whose
 * `TypeError` looks like a network failure that the write queue retries for ever.
 */
export const isSendablePath = (value: unknown): value is string =>
  typeof value === 'string' && !/^(?!https?:)[a-z][a-z\d+.-]*:/i.test(value);

/**
 * Whether `value` can be sent as `If-Match: "<value>"`: a finite number, or up to 200 printable
 * characters without spaces or quotes (a strong ETag's characters). The write queue holds its
 * writes' versions, and a server's `currentVersion`, to this too.
 */
export const isSendableVersion = (value: unknown): value is string | number =>
  (typeof value === 'string' && /^[\x21\x23-\x7e]{1,200}$/.test(value)) ||
  (typeof value === 'number' && Number.isFinite(value));

/**
 * The option check of a version: a request's `ifMatch` and a queued edit's `version`, which
 * becomes it, so the queue refuses up front what `request()` would refuse at every replay.
 */
export const versionCheck: Check<string | number> = /* @__PURE__ */ is<string | number>(
  isSendableVersion,
  'a version (a number, or up to 200 printable characters without spaces or quotes)',
);

/** Validates one call's options (`request()`, `get()`, `post()`…); the input is returned as is. */
export function parseRequestOptions(input: unknown): RequestOptions {
  return parseOptions(
    object({
      method: optional(
        is<string>((value) => /^[A-Za-z]{1,20}$/.test(value as string), 'an HTTP method'),
      ),
      body: anything,
      headers: optional(headerRecord),
      // Printable ASCII, as the IETF draft's String and Ballast's server take it.
      idempotencyKey: optional(
        is<string | false>(
          (value) => value === false || /^[\x20-\x7e]{1,255}$/.test(value as string),
          'a key of 1 to 255 printable ASCII characters, or false',
        ),
      ),
      ifMatch: optional(versionCheck),
      timeoutMs: optional(duration(1)),
      retries: optional(number(0, 10)),
      signal: optional(is<AbortSignal>(isAbortSignalLike, 'an AbortSignal')),
    }),
    input,
    'request()',
  );
}

/** Validates {@link createClient}'s options and applies the defaults. */
export function parseClientOptions(input: unknown): ParsedClientOptions {
  const retry = object({
    reads: optional(number(0, 10), 2),
    writes: optional(number(0, 10), 1),
    delaysMs: optional(array(duration(), 1, 20), [1_000, 2_000, 4_000]),
    maxRetryAfterMs: optional(duration(), 60_000),
  });
  return parseOptions(
    object({
      baseUrl: optional(string(0, 2_000), ''),
      fetch: optional(func<typeof fetch>()),
      timeoutMs: optional(duration(1), 30_000),
      // Left out, it is its members' defaults.
      retry: (value, path, issues) => retry(value === undefined ? {} : value, path, issues),
      headers: optional(headerRecord),
      connectivity: optional(withMethods<ConnectivityReporter>('reportSuccess', 'reportFailure')),
      clock: optional(clockCheck),
      random: optional(func<() => number>()),
    }),
    input,
    'createClient()',
  );
}
