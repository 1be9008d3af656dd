/** Options of {@link uploadFile}, validated apart from the behaviour. */
import type { BallastError, Clock } from '@ballast/core';
import { isAbortSignalLike } from '@ballast/core/adapter-kit';
import type { Client } from '../fetch/create-client.js';
import {
  array,
  type Check,
  clockCheck,
  duration,
  func,
  is,
  number,
  object,
  oneOf,
  optional,
  parseOptions,
  string,
} from '../options/option-checks.js';
import { clientSchema, storableRecord } from '../queue/shared-option-schemas.js';
import type { UploadProgress } from './put-blob.js';

/** The step an upload is at. */
export type UploadStage = 'hashing' | 'requesting' | 'uploading' | 'confirming';

/** Events of one upload. Listeners' errors are caught and never change the outcome. */
export interface UploadEvents {
  /** The upload moved to another step. */
  stage: (event: { stage: UploadStage }) => void;
  /** Bytes sent in the current attempt (`attempt` counts from 1; a retry starts again at 0). */
  progress: (event: UploadProgress & { attempt: number }) => void;
  /** The PUT failed for the network, a timeout or the storage's 5xx; it is sent again after `delayMs`. */
  retry: (event: { attempt: number; delayMs: number; error: BallastError }) => void;
}

/** Options of {@link uploadFile}. */
export interface UploadFileOptions {
  /**
   * Your server's endpoint that issues the presigned PUT (`POST`, JSON body `{ name, size,
   * contentType, checksumSha256, ...fields }`), answering with what core's
   * `issueSignedUpload()` returns: `{ upload: { url, headers, expiresAt }, token }`.
   */
  requestUrl: string;
  /** Your server's endpoint that confirms it (`POST { token }`, e.g. with core's `confirmUpload()`). */
  confirmUrl: string;
  /** The client for the two calls to your server (base URL, headers, errors). Default `createClient()`. */
  client?: Client;
  /** Sent as `name`. Default: the `File`'s name. */
  name?: string;
  /** The content type to declare (signed into the URL). Default: the Blob's type, else `'application/octet-stream'`. */
  contentType?: string;
  /**
   * SHA-256 of the file (base64 or hex) to declare, so storage refuses other bytes. Default:
   * computed here with WebCrypto (the whole file is read into memory once); `false` declares none.
   */
  checksumSha256?: string | false;
  /** More JSON fields for the request to `requestUrl` (a case id, a document kind). */
  fields?: Record<string, unknown>;
  /** Retries of the PUT after a network failure, a timeout or a 5xx/408/429. Default `3`. */
  retries?: number;
  /** Delay before each PUT retry, in ms; the last repeats. Default `[1000, 2000, 5000]`. */
  retryDelaysMs?: number[];
  /**
   * A PUT attempt that makes no progress for this long fails with `TIMEOUT` (and is retried),
   * in ms. Where there are no progress events (`fetch`), it bounds the whole attempt. Default `60_000`.
   */
  idleTimeoutMs?: number;
  /**
   * Key of this upload: the request to `requestUrl` is sent with it as `Idempotency-Key`, and
   * the confirmation with `<key>:confirm`, so a repeat (after a reload) is answered from the
   * server's record. Default: a fresh UUID.
   */
  idempotencyKey?: string;
  /**
   * Origins the file may be sent to (`['https://my-bucket.s3.eu-west-1.amazonaws.com']`). A
   * presign answer naming another origin is refused with `UPSTREAM_ERROR` before any byte is
   * sent. Default: any http(s) origin (https only on an https page).
   */
  storageOrigins?: string[];
  /** Cancels the upload (any step, and the waits between attempts) with `ABORTED`. */
  signal?: AbortSignal;
  /** Listeners, as `on: { stage, progress, retry }`. */
  on?: Partial<UploadEvents>;
  /** `'xhr'` (progress events), `'fetch'` (none) or `'auto'` (XHR where it exists). Default `'auto'`. */
  transport?: 'auto' | 'xhr' | 'fetch';
  /** The fetch for the PUT when it is not sent by XHR. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Source of time for timeouts and backoff. Default: the system clock. */
  clock?: Clock;
}

/** The result of {@link uploadFile}. */
export interface UploadResult<T = unknown> {
  /** Your confirmation endpoint's answer (e.g. the active row). */
  data: T;
  /** PUT attempts made. */
  attempts: number;
  /** The SHA-256 (base64) declared, when one was. */
  checksumSha256?: string;
}

type Defaulted = 'retries' | 'retryDelaysMs' | 'idleTimeoutMs' | 'transport';
/** Options after validation, defaults applied. */
export type ParsedUploadFileOptions = Omit<UploadFileOptions, Defaulted> &
  Required<Pick<UploadFileOptions, Defaulted>>;

/** `storageOrigins`: http(s) origins without a path (shared with the upload queue). */
export const storageOrigins = (): Check<string[] | undefined> =>
  optional(
    array(
      is<string>(
        (value) => typeof value === 'string' && /^https?:\/\/[^/?#@\s]+$/.test(value),
        'an http(s) origin without path',
      ),
      1,
      50,
    ),
  );

/**
 * An optional listener. Typed `never` so it fits any event's signature: which events take what
 * is the options interface's business, and a function's parameters cannot be checked anyway.
 */
export const listener = (): Check<never> => optional(func<never>()) as Check<never>;

/** Validates {@link uploadFile}'s options and applies the defaults. */
export function parseUploadFileOptions(input: unknown): ParsedUploadFileOptions {
  return parseOptions(
    object({
      requestUrl: string(1, 2_000),
      confirmUrl: string(1, 2_000),
      client: optional(clientSchema),
      name: optional(string(0, 1_000)),
      contentType: optional(string(1, 255)),
      checksumSha256: optional(
        is<string | false>(
          (value) =>
            value === false ||
            (typeof value === 'string' && /^[A-Za-z0-9+/=_-]{32,128}$/.test(value)),
          'a SHA-256 in base64 or hex, or false',
        ),
      ),
      // Sent as JSON: a function or a Symbol inside would vanish from the request unseen.
      fields: optional(storableRecord),
      retries: optional(number(0, 20), 3),
      retryDelaysMs: optional(array(duration(), 1, 20), [1_000, 2_000, 5_000]),
      idleTimeoutMs: optional(duration(1), 60_000),
      idempotencyKey: optional(string(1, 200)),
      storageOrigins: storageOrigins(),
      signal: optional(is<AbortSignal>(isAbortSignalLike, 'an AbortSignal')),
      on: optional(object({ stage: listener(), progress: listener(), retry: listener() })),
      transport: optional(oneOf('auto', 'xhr', 'fetch'), 'auto'),
      fetch: optional(func<typeof fetch>()),
      clock: optional(clockCheck),
    }),
    input,
    'uploadFile()',
  );
}
