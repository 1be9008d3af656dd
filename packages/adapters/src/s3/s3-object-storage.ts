/**
 * The `ObjectStorage` port over S3 and S3-compatible servers (MinIO, Ceph, R2, s3rver). Every
 * call has a time budget and an optional circuit breaker around it, and every failure leaves
 * as a `BallastError` with a stable code, so the consistency recipes and the reconciliation
 * runner treat S3 exactly like the memory and filesystem storages they are tested with.
 *
 * When the adapter builds the S3 client itself it turns the SDK's default request and
 * response checksums down to `WHEN_REQUIRED`: with the defaults a streamed PutObject is sent
 * with aws-chunked framing and trailing checksums, which S3-compatible servers that do not
 * decode it (s3rver, older MinIO) store verbatim, framing included: a corrupted object.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  BallastError,
  type CircuitBreaker,
  type Clock,
  isBallastError,
  type ListObjectsOptions,
  type Logger,
  noopLogger,
  type ObjectInfo,
  type ObjectPage,
  type ObjectStorage,
  type PresignedRequest,
  type PresignOptions,
  type PutObjectOptions,
  type StorageCallOptions,
  type StoredObject,
  systemClock,
} from '@ballast/core';
import { assertObjectKey, parseOptions } from '@ballast/core/adapter-kit';
import { z } from 'zod';
import { abortedError, CallDeadline } from './call-deadline.js';
import { classifyS3Error, type S3FailureContext, toStorageError } from './s3-errors.js';
import { prepareUploadBody } from './upload-body.js';

/** Static credentials. Omit them to use the SDK's default provider chain (env, profile, IMDS). */
export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Options for {@link S3ObjectStorage}. */
export interface S3ObjectStorageOptions {
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

const optionsSchema = z
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

const putOptionsSchema = z.object({
  contentType: z.string().min(1).optional(),
  contentLength: z.number().int().nonnegative().optional(),
  signal: z.instanceof(AbortSignal).optional(),
});

const listOptionsSchema = z.object({
  prefix: z.string().optional(),
  cursor: z.string().min(1).optional(),
  pageSize: z.number().int().min(1).max(1000).default(1000),
  signal: z.instanceof(AbortSignal).optional(),
});

// SigV4 presigned URLs are valid for at most seven days.
const presignOptionsSchema = z.object({
  expiresInSeconds: z.number().int().min(1).max(604_800),
  contentType: z.string().min(1).optional(),
});

/** How a call that found no object ends, per operation. */
type WhenMissing<T> = { readonly missing: () => T } | undefined;

/**
 * `ObjectStorage` on `@aws-sdk/client-s3`.
 *
 * | port call | S3 request | not found | timeout budget |
 * | --- | --- | --- | --- |
 * | `put` | PutObject (bytes, string, stream) | — | `uploadTimeoutMs` |
 * | `get` | GetObject, body as a web stream | `undefined` | `timeoutMs` until the body starts |
 * | `head` | HeadObject | `undefined` | `timeoutMs` |
 * | `delete` | DeleteObject | success (idempotent) | `timeoutMs` |
 * | `list` | ListObjectsV2, `ContinuationToken` as cursor | — | `timeoutMs` |
 * | `presignPut` / `presignGet` | local SigV4 signing | — | — |
 *
 * @example
 * ```ts
 * const storage = new S3ObjectStorage({
 *   bucket: 'documents',
 *   endpoint: 'http://127.0.0.1:9000',
 *   credentials: { accessKeyId: 'minio', secretAccessKey: 'minio-secret' },
 *   breaker: createCircuitBreaker({ consecutiveFailures: 5, halfOpenAfter: 10_000 }),
 * });
 * await storage.put('contracts/42.pdf', bytes, { contentType: 'application/pdf' });
 * ```
 */
export class S3ObjectStorage implements ObjectStorage {
  /** The bucket every key lives in. */
  readonly bucket: string;
  /** The SDK client (yours if you passed one), for calls the port does not cover. */
  readonly client: S3Client;
  readonly #ownsClient: boolean;
  readonly #timeoutMs: number;
  readonly #uploadTimeoutMs: number;
  readonly #maxBufferedUploadBytes: number;
  readonly #breaker: Pick<CircuitBreaker, 'execute'> | undefined;
  readonly #logger: Logger;
  readonly #clock: Clock;

  constructor(options: S3ObjectStorageOptions) {
    const parsed = parseOptions(optionsSchema, options, 'S3ObjectStorage()');
    this.bucket = parsed.bucket;
    this.#ownsClient = parsed.client === undefined;
    this.client =
      parsed.client ??
      new S3Client({
        region: parsed.region ?? 'us-east-1',
        maxAttempts: parsed.maxAttempts ?? 1,
        forcePathStyle: parsed.forcePathStyle ?? parsed.endpoint !== undefined,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        // Without a logger the SDK warns on the console for some failures; route it to ours.
        logger: sdkLoggerFor(parsed.logger ?? noopLogger),
        ...(parsed.endpoint === undefined ? {} : { endpoint: parsed.endpoint }),
        ...(parsed.credentials === undefined ? {} : { credentials: parsed.credentials }),
      });
    this.#timeoutMs = parsed.timeoutMs;
    this.#uploadTimeoutMs = parsed.uploadTimeoutMs;
    this.#maxBufferedUploadBytes = parsed.maxBufferedUploadBytes;
    this.#breaker = parsed.breaker;
    this.#logger = parsed.logger ?? noopLogger;
    this.#clock = parsed.clock ?? systemClock;
  }

  /**
   * Uploads with one PutObject. A string or byte body is sent with its SHA-256
   * (`x-amz-checksum-sha256`), which S3 verifies and `head` reports; a stream is sent as it
   * is when `contentLength` is given and must then have exactly that many bytes, otherwise it
   * is buffered up to `maxBufferedUploadBytes` (`PAYLOAD_TOO_LARGE` beyond). `lastModified`
   * of the result is this process's clock at completion (PutObject does not return S3's).
   */
  async put(
    key: string,
    body: Uint8Array | string | ReadableStream<Uint8Array>,
    options: PutObjectOptions = {},
  ): Promise<ObjectInfo> {
    assertObjectKey(key);
    const parsed = parseOptions(putOptionsSchema, options, 'S3ObjectStorage.put()');
    if (parsed.signal?.aborted) throw abortedError(parsed.signal, `S3 put of ${key}`);
    const upload = await prepareUploadBody(
      body,
      parsed.contentLength,
      this.#maxBufferedUploadBytes,
    );
    const checksumSha256 =
      upload.body instanceof Uint8Array ? await sha256Base64(upload.body) : undefined;
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      Body: upload.body,
      ContentLength: upload.size,
      ...(parsed.contentType === undefined ? {} : { ContentType: parsed.contentType }),
      ...(checksumSha256 === undefined ? {} : { ChecksumSHA256: checksumSha256 }),
    });
    let failed = true;
    try {
      const output = await this.#call(
        { operation: 'put', bucket: this.bucket, key },
        this.#uploadTimeoutMs,
        parsed.signal,
        async (deadline) => {
          upload.onSourceError(() => deadline.abort(upload.sourceError()));
          try {
            return await this.client.send(command, { abortSignal: deadline.signal });
          } catch (error) {
            // The caller's stream failed: S3 did nothing wrong, so the breaker must not count
            // it. It leaves the breaker as a value and is thrown below.
            const sourceError = upload.sourceError();
            if (sourceError !== undefined) return new SourceStreamFailed(sourceError);
            throw error;
          }
        },
        undefined,
      );
      if (output instanceof SourceStreamFailed) throw sourceFailure(key, output.error);
      failed = false;
      return {
        key,
        size: upload.size,
        lastModified: this.#clock.now(),
        ...(output.ETag === undefined ? {} : { etag: output.ETag }),
        ...(parsed.contentType === undefined ? {} : { contentType: parsed.contentType }),
        ...(checksumSha256 === undefined ? {} : { checksumSha256 }),
      };
    } finally {
      if (failed) upload.discard();
    }
  }

  /**
   * Downloads an object; `undefined` when it does not exist. The time budget covers the wait
   * for the response; the body then streams for as long as it takes, and the caller's
   * `signal` (if any) still aborts it (the stream errors with `ABORTED`).
   */
  async get(key: string, options: StorageCallOptions = {}): Promise<StoredObject | undefined> {
    assertObjectKey(key);
    const context: S3FailureContext = { operation: 'get', bucket: this.bucket, key };
    const signal = options.signal;
    if (signal?.aborted) throw abortedError(signal, `S3 get of ${key}`);
    return this.#call(
      context,
      this.#timeoutMs,
      signal,
      async (deadline) => {
        const output = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: key }),
          { abortSignal: deadline.signal },
        );
        deadline.stopTimer();
        if (output.Body === undefined) {
          throw new BallastError('STORAGE_UNAVAILABLE', {
            message: `S3 get of ${this.bucket}/${key} returned no body`,
            retryable: true,
          });
        }
        return {
          key,
          size: output.ContentLength ?? 0,
          lastModified: output.LastModified?.getTime() ?? this.#clock.now(),
          ...(output.ETag === undefined ? {} : { etag: output.ETag }),
          ...(output.ContentType === undefined ? {} : { contentType: output.ContentType }),
          body: this.#guardBody(output.Body.transformToWebStream(), deadline, context),
        };
      },
      { missing: () => undefined },
      true,
    );
  }

  /** Metadata of an object; `undefined` when it does not exist. */
  async head(key: string, options: StorageCallOptions = {}): Promise<ObjectInfo | undefined> {
    assertObjectKey(key);
    const signal = options.signal;
    if (signal?.aborted) throw abortedError(signal, `S3 head of ${key}`);
    const output = await this.#call(
      { operation: 'head', bucket: this.bucket, key },
      this.#timeoutMs,
      signal,
      (deadline) =>
        this.client.send(
          new HeadObjectCommand({ Bucket: this.bucket, Key: key, ChecksumMode: 'ENABLED' }),
          { abortSignal: deadline.signal },
        ),
      { missing: () => undefined },
    );
    if (output === undefined) return undefined;
    // A multipart object's checksum is a checksum of part checksums ("…-3"): not the content's.
    const checksum = output.ChecksumSHA256;
    const wholeObjectChecksum = checksum !== undefined && !checksum.includes('-');
    return {
      key,
      size: output.ContentLength ?? 0,
      lastModified: output.LastModified?.getTime() ?? 0,
      ...(output.ETag === undefined ? {} : { etag: output.ETag }),
      ...(output.ContentType === undefined ? {} : { contentType: output.ContentType }),
      ...(wholeObjectChecksum ? { checksumSha256: checksum } : {}),
    };
  }

  /** Deletes an object. Deleting a missing object succeeds (S3 answers 204 either way). */
  async delete(key: string, options: StorageCallOptions = {}): Promise<void> {
    assertObjectKey(key);
    const signal = options.signal;
    if (signal?.aborted) throw abortedError(signal, `S3 delete of ${key}`);
    await this.#call(
      { operation: 'delete', bucket: this.bucket, key },
      this.#timeoutMs,
      signal,
      (deadline) =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), {
          abortSignal: deadline.signal,
        }),
      { missing: () => undefined },
    );
  }

  /**
   * One page of objects under `prefix`, in S3's key order (UTF-8 bytes). The cursor is S3's
   * `NextContinuationToken`: opaque, and valid only for the same prefix.
   */
  async list(options: ListObjectsOptions = {}): Promise<ObjectPage> {
    const parsed = parseOptions(listOptionsSchema, options, 'S3ObjectStorage.list()');
    if (parsed.signal?.aborted) throw abortedError(parsed.signal, 'S3 list');
    const output = await this.#call(
      { operation: 'list', bucket: this.bucket },
      this.#timeoutMs,
      parsed.signal,
      (deadline) =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            MaxKeys: parsed.pageSize,
            ...(parsed.prefix === undefined || parsed.prefix === ''
              ? {}
              : { Prefix: parsed.prefix }),
            ...(parsed.cursor === undefined ? {} : { ContinuationToken: parsed.cursor }),
          }),
          { abortSignal: deadline.signal },
        ),
      undefined,
    );
    const objects: ObjectInfo[] = [];
    for (const entry of output.Contents ?? []) {
      if (entry.Key === undefined) continue;
      objects.push({
        key: entry.Key,
        size: entry.Size ?? 0,
        lastModified: entry.LastModified?.getTime() ?? 0,
        ...(entry.ETag === undefined ? {} : { etag: entry.ETag }),
      });
    }
    const next = output.IsTruncated === true ? output.NextContinuationToken : undefined;
    return next === undefined ? { objects } : { objects, nextCursor: next };
  }

  /**
   * A URL a client can PUT the object to without credentials until it expires. When
   * `contentType` is given it is signed, and the client must send the returned headers.
   */
  async presignPut(key: string, options: PresignOptions): Promise<PresignedRequest> {
    assertObjectKey(key);
    const parsed = parseOptions(presignOptionsSchema, options, 'S3ObjectStorage.presignPut()');
    return this.#presign(
      'presignPut',
      key,
      parsed.expiresInSeconds,
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ...(parsed.contentType === undefined ? {} : { ContentType: parsed.contentType }),
      }),
      parsed.contentType === undefined ? {} : { 'content-type': parsed.contentType },
    );
  }

  /** A URL a client can GET the object from without credentials until it expires. */
  async presignGet(key: string, options: PresignOptions): Promise<PresignedRequest> {
    assertObjectKey(key);
    const parsed = parseOptions(presignOptionsSchema, options, 'S3ObjectStorage.presignGet()');
    return this.#presign(
      'presignGet',
      key,
      parsed.expiresInSeconds,
      new GetObjectCommand({ Bucket: this.bucket, Key: key }),
      {},
    );
  }

  /**
   * Releases the sockets of a client this adapter built. A client you passed in is yours to
   * destroy, so this leaves it alone.
   */
  close(): void {
    if (this.#ownsClient) this.client.destroy();
  }

  async #presign(
    operation: 'presignPut' | 'presignGet',
    key: string,
    expiresInSeconds: number,
    command: PutObjectCommand | GetObjectCommand,
    headers: Record<string, string>,
  ): Promise<PresignedRequest> {
    const signedAt = this.#clock.now();
    try {
      const url = await getSignedUrl(this.client, command, {
        expiresIn: expiresInSeconds,
        signingDate: new Date(signedAt),
      });
      return {
        url,
        method: operation === 'presignPut' ? 'PUT' : 'GET',
        headers,
        expiresAt: signedAt + expiresInSeconds * 1000,
      };
    } catch (error) {
      // Signing is local; it fails only when credentials cannot be resolved.
      throw this.#report(error, { operation, bucket: this.bucket, key });
    }
  }

  /**
   * Runs one SDK call under its deadline and the breaker. A missing object is an answer, not
   * a failure, so it is turned into the operation's result inside the breaker and never
   * counts towards opening it.
   */
  async #call<T, M = never>(
    context: S3FailureContext,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    send: (deadline: CallDeadline) => Promise<T>,
    whenMissing: WhenMissing<M>,
    bodyOutlivesCall = false,
  ): Promise<T | M> {
    const attempt = async (): Promise<T | M> => {
      const deadline = new CallDeadline(this.#clock, timeoutMs, signal);
      let succeeded = false;
      try {
        const result = await send(deadline);
        succeeded = true;
        return result;
      } catch (error) {
        if (isBallastError(error)) throw error;
        const describe = `S3 ${context.operation} of ${context.key ?? context.bucket}`;
        const byDeadline = deadline.explain(error, describe);
        if (byDeadline !== undefined) throw this.#log(byDeadline, context, error);
        const facts = classifyS3Error(error);
        if (facts.kind === 'not-found' && whenMissing !== undefined) return whenMissing.missing();
        throw this.#report(error, context, facts);
      } finally {
        // A download keeps listening to the caller's signal until its body ends.
        if (succeeded && bodyOutlivesCall) deadline.stopTimer();
        else deadline.release();
      }
    };
    if (this.#breaker === undefined) return attempt();
    // With the caller's signal, a call the caller aborted is not held against S3.
    return this.#breaker.execute(attempt, signal === undefined ? undefined : { signal });
  }

  #guardBody(
    source: ReadableStream<Uint8Array>,
    deadline: CallDeadline,
    context: S3FailureContext,
  ): ReadableStream<Uint8Array> {
    const reader = source.getReader();
    const describe = `S3 get of ${context.key}`;
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { done, value } = await reader.read();
          if (done) {
            deadline.release();
            controller.close();
            return;
          }
          controller.enqueue(value);
        } catch (error) {
          deadline.release();
          controller.error(
            deadline.explain(error, describe) ??
              toStorageError(error, context, { kind: 'unavailable' }),
          );
        }
      },
      cancel: async (reason) => {
        deadline.release();
        await reader.cancel(reason);
      },
    });
  }

  #report(error: unknown, context: S3FailureContext, facts = classifyS3Error(error)): BallastError {
    return this.#log(toStorageError(error, context, facts), context, error, facts);
  }

  #log(
    mapped: BallastError,
    context: S3FailureContext,
    error: unknown,
    facts = classifyS3Error(error),
  ): BallastError {
    if (mapped.code === 'ABORTED') return mapped;
    this.#logger.warn(
      {
        code: mapped.code,
        retryable: mapped.retryable,
        operation: context.operation,
        bucket: context.bucket,
        key: context.key,
        s3Code: facts.s3Code,
        httpStatus: facts.httpStatus,
        requestId: facts.requestId,
      },
      mapped.message,
    );
    return mapped;
  }
}

/** The SDK's logger shape, forwarded to `logger.debug`: the adapter logs what matters itself. */
function sdkLoggerFor(logger: Logger) {
  const forward = (...content: unknown[]) =>
    logger.debug({ source: '@aws-sdk/client-s3' }, content.map(String).join(' '));
  return { debug: () => {}, info: () => {}, warn: forward, error: forward };
}

/** A put whose body stream (the caller's) failed, carried out of the breaker as a value. */
class SourceStreamFailed {
  constructor(readonly error: unknown) {}
}

function sourceFailure(key: string, error: unknown): BallastError {
  // A length mismatch is already a precise BallastError (VALIDATION_FAILED, contentLength).
  if (isBallastError(error)) return error;
  return new BallastError('UPLOAD_FAILED', {
    message: `S3 put of ${key} failed: the body stream errored`,
    cause: error,
    retryable: false,
  });
}

async function sha256Base64(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>),
  );
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary);
}
