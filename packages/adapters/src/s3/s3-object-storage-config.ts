/**
 * Options of {@link S3ObjectStorage} and of its calls, with their validation, apart from the
 * behaviour in `s3-object-storage.ts` (kysely's `*-config.ts` pattern), and the lazily loaded
 * presigner.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { CircuitBreaker, Clock, Logger } from '@ballast/core';
import { z } from 'zod';
import { multipartOptionsShape, type S3MultipartOptions } from './s3-multipart-config.js';

/** Static credentials. Omit them to use the SDK's default provider chain (env, profile, IMDS). */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Options for {@link S3ObjectStorage} (multipart settings: {@link S3MultipartOptions}). */
export interface S3ObjectStorageOptions extends S3MultipartOptions {
  /** The bucket every key lives in. Required. */
  bucket: string;
  /**
   * A client you built and own. When given, `endpoint`, `region`, `credentials`,
   * `forcePathStyle` and `maxAttempts` must be omitted (they are the client's), and the
   * checksum caveat in the module comment is yours to apply.
   */
  client?: S3Client;
  /** Custom endpoint for S3-compatible servers, e.g. `http://127.0.0.1:9000`. */
  endpoint?: string;
  /** Region. Default `'us-east-1'` (what most S3-compatible servers expect). */
  region?: string;
  /** Static credentials. Default: the SDK's provider chain. */
  credentials?: S3Credentials;
  /**
   * Path-style URLs (`endpoint/bucket/key`) instead of virtual-hosted (`bucket.endpoint/key`).
   * Default: `true` when `endpoint` is set (S3-compatible servers rarely have wildcard DNS),
   * else `false`.
   */
  forcePathStyle?: boolean;
  /**
   * Attempts the SDK makes per call. Default `1`: retries belong to `retry()` with
   * {@link s3RetryClassifier}, so one policy decides them and the breaker sees each failure.
   */
  maxAttempts?: number;
  /** Time budget of every call except `put`, in ms. Default `10_000`. */
  timeoutMs?: number;
  /** Time budget of `put` (the whole upload), in ms. Default `60_000`. */
  uploadTimeoutMs?: number;
  /**
   * Largest stream `put` reads into memory when no `contentLength` is given, in bytes.
   * Default 32 MiB. Larger streams need `contentLength`.
   */
  maxBufferedUploadBytes?: number;
  /**
   * Circuit breaker around every network call (`createCircuitBreaker()` from core, or anything
   * with its `execute(fn, { signal })`). It sees the adapter's `BallastError`s, so with core's
   * default `isFailure` only retryable failures (unavailable, throttled, timeout) count; a
   * missing object is an answer, never a failure. Open, it rejects with `CIRCUIT_OPEN` without
   * a request. Default: none.
   */
  breaker?: Pick<CircuitBreaker, 'execute'>;
  /** Receives a `warn` line per failed call with the S3 code and request id. Default: silent. */
  logger?: Logger;
  /** Time source for timeouts, `lastModified` of puts and presign expiry. Default: system. */
  clock?: Clock;
}

const credentialsSchema = z.object({
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  sessionToken: z.string().min(1).optional(),
});

const clientOwnedFields = [
  'endpoint',
  'region',
  'credentials',
  'forcePathStyle',
  'maxAttempts',
] as const;

/** @internal */
export const optionsSchema = z
  .object({
    bucket: z.string().min(3).max(63),
    client: z
      .custom<S3Client>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          typeof (value as { send?: unknown }).send === 'function',
        { message: 'must be an S3Client' },
      )
      .optional(),
    endpoint: z.url().optional(),
    region: z.string().min(1).optional(),
    credentials: credentialsSchema.optional(),
    forcePathStyle: z.boolean().optional(),
    maxAttempts: z.number().int().min(1).max(10).optional(),
    timeoutMs: z.number().int().positive().default(10_000),
    uploadTimeoutMs: z.number().int().positive().default(60_000),
    maxBufferedUploadBytes: z
      .number()
      .int()
      .positive()
      .default(32 * 1024 * 1024),
    ...multipartOptionsShape,
    breaker: z
      .custom<Pick<CircuitBreaker, 'execute'>>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          typeof (value as { execute?: unknown }).execute === 'function',
        { message: 'must have an execute(fn) method (createCircuitBreaker())' },
      )
      .optional(),
    logger: z
      .custom<Logger>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          typeof (value as { warn?: unknown }).warn === 'function',
        { message: 'must be a Logger' },
      )
      .optional(),
    clock: z
      .custom<Clock>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          typeof (value as { setTimer?: unknown }).setTimer === 'function',
        { message: 'must be a Clock' },
      )
      .optional(),
  })
  .superRefine((options, context) => {
    if (options.client === undefined) return;
    for (const field of clientOwnedFields) {
      if (options[field] !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [field],
          message: 'belongs to the client; set it on the S3Client you pass, or omit client',
        });
      }
    }
  });

/** @internal */
export const putOptionsSchema = z.object({
  contentType: z.string().min(1).optional(),
  contentLength: z.number().int().nonnegative().optional(),
  signal: z.instanceof(AbortSignal).optional(),
});

/** @internal */
export const listOptionsSchema = z.object({
  prefix: z.string().optional(),
  cursor: z.string().min(1).optional(),
  pageSize: z.number().int().min(1).max(1000).default(1000),
  signal: z.instanceof(AbortSignal).optional(),
});

// SigV4 presigned URLs are valid for at most seven days.
/** @internal */
export const presignOptionsSchema = z.strictObject({
  expiresInSeconds: z.number().int().min(1).max(604_800),
  contentType: z
    .string()
    .min(1)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must not contain control characters')
    .optional(),
  contentLength: z
    .number()
    .int()
    .nonnegative()
    .max(5 * 1024 ** 3)
    .optional(),
  checksumSha256: z
    .string()
    .transform((value, context) => {
      const base64 = normaliseSha256(value);
      if (base64 === undefined) {
        context.addIssue({ code: 'custom', message: 'must be a SHA-256 in base64 or hex' });
        return z.NEVER;
      }
      return base64;
    })
    .optional(),
});

/** A SHA-256 in base64 (S3's form) from base64 or hex; `undefined` when it is neither. */
function normaliseSha256(value: string): string | undefined {
  const bytes = /^[0-9a-f]{64}$/i.test(value)
    ? Buffer.from(value, 'hex')
    : /^[A-Za-z0-9+/]{43}=$/.test(value)
      ? Buffer.from(value, 'base64')
      : undefined;
  return bytes?.length === 32 ? bytes.toString('base64') : undefined;
}
