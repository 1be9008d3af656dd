/**
 * The `ObjectStorage` port over S3 and S3-compatible servers (MinIO, Ceph, R2, s3rver). Every
 * call has a time budget and an optional circuit breaker around it, and every failure leaves
 * as a `BallastError` with a stable code, so the consistency recipes and the reconciliation
 * runner treat S3 exactly like the memory and filesystem storages they are tested with.
 *
 * The S3 client the adapter builds when given none: `s3-client.ts`.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  BallastError,
  type Clock,
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
import {
  assertContentType,
  assertObjectKey,
  assertPutBody,
  parseOptions,
  putStreamFailed,
} from '@ballast/core/adapter-kit';
import { abortedError } from './call-deadline.js';
import { S3Calls } from './s3-calls.js';
import { createS3Client } from './s3-client.js';
import { moveObject } from './s3-conditional-move.js';
import type { S3FailureContext } from './s3-errors.js';
import { type MultipartTarget, usesMultipart } from './s3-multipart-config.js';
import { putInParts } from './s3-multipart-upload.js';
import {
  listOptionsSchema,
  optionsSchema,
  presignOptionsSchema,
  putOptionsSchema,
  type S3ObjectStorageOptions,
} from './s3-object-storage-config.js';
import { getCall, presignS3, putCall } from './s3-presign.js';
import { prepareUploadBody, SourceStreamFailed, sha256Base64 } from './upload-body.js';

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
  readonly #multipartThresholdBytes: number;
  readonly #partSizeBytes: number;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #calls: S3Calls;

  constructor(options: S3ObjectStorageOptions) {
    const parsed = parseOptions(optionsSchema, options, 'S3ObjectStorage()');
    this.bucket = parsed.bucket;
    this.#ownsClient = parsed.client === undefined;
    this.client = parsed.client ?? createS3Client(parsed);
    this.#timeoutMs = parsed.timeoutMs;
    this.#uploadTimeoutMs = parsed.uploadTimeoutMs;
    this.#maxBufferedUploadBytes = parsed.maxBufferedUploadBytes;
    this.#multipartThresholdBytes = parsed.multipartThresholdBytes;
    this.#partSizeBytes = parsed.partSizeBytes;
    this.#logger = parsed.logger ?? noopLogger;
    this.#clock = parsed.clock ?? systemClock;
    this.#calls = new S3Calls(this.#clock, parsed.breaker, this.#logger);
  }

  /**
   * Uploads with one PutObject. A string or byte body is sent with its SHA-256
   * (`x-amz-checksum-sha256`), which S3 verifies and `head` reports; a stream is sent as it
   * is when `contentLength` is given and must then have exactly that many bytes, otherwise it
   * is buffered up to `maxBufferedUploadBytes` (`PAYLOAD_TOO_LARGE` beyond). A stream whose
   * `contentLength` reaches `multipartThresholdBytes` goes up in parts instead (see
   * `s3-multipart-upload.ts`), each part with its own `uploadTimeoutMs`. `lastModified` of the
   * result is this process's clock at completion (PutObject does not return S3's).
   */
  async put(
    key: string,
    body: Uint8Array | string | ReadableStream<Uint8Array>,
    options: PutObjectOptions = {},
  ): Promise<ObjectInfo> {
    assertObjectKey(key);
    assertContentType(options.contentType);
    assertPutBody(body, options.contentLength);
    const parsed = parseOptions(putOptionsSchema, options, 'S3ObjectStorage.put()');
    if (parsed.signal?.aborted) throw abortedError(parsed.signal, `S3 put of ${key}`);
    if (usesMultipart(body, parsed.contentLength, this.#multipartThresholdBytes)) {
      const size = parsed.contentLength as number;
      const result = await putInParts(this.#multipartTarget(key), key, body, {
        size,
        partSizeBytes: this.#partSizeBytes,
        ...(parsed.contentType === undefined ? {} : { contentType: parsed.contentType }),
        ...(parsed.signal === undefined ? {} : { signal: parsed.signal }),
      });
      return {
        key,
        size,
        lastModified: this.#clock.now(),
        ...(result.etag === undefined ? {} : { etag: result.etag }),
        ...(parsed.contentType === undefined ? {} : { contentType: parsed.contentType }),
      };
    }
    const upload = await prepareUploadBody(
      key,
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
      const output = await this.#calls.run(
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
      if (output instanceof SourceStreamFailed) throw putStreamFailed(key, output.error);
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
    return this.#calls.run(
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
          body: this.#calls.guardBody(output.Body.transformToWebStream(), deadline, context),
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
    const output = await this.#calls.run(
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
    await this.#calls.run(
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
   * Moves an object to a key that holds none, and only the object it checked: a source changed
   * after the check is refused (`PRECONDITION_FAILED`, `details.reason: 'source-changed'`), a
   * target that holds an object is never replaced. How, and what is not atomic:
   * `s3-conditional-move.ts`.
   */
  async move(
    sourceKey: string,
    targetKey: string,
    options: StorageCallOptions = {},
  ): Promise<ObjectInfo> {
    assertObjectKey(sourceKey, 'sourceKey');
    assertObjectKey(targetKey, 'targetKey');
    const signal = options.signal;
    if (signal?.aborted) throw abortedError(signal, `S3 move of ${sourceKey}`);
    return moveObject(
      {
        client: this.client,
        bucket: this.bucket,
        calls: this.#calls,
        timeoutMs: this.#timeoutMs,
        head: (key, callOptions) => this.head(key, callOptions),
      },
      sourceKey,
      targetKey,
      signal,
    );
  }

  /**
   * One page of objects under `prefix`, in S3's key order (UTF-8 bytes). The cursor is S3's
   * `NextContinuationToken`: opaque, and valid only for the same prefix.
   */
  async list(options: ListObjectsOptions = {}): Promise<ObjectPage> {
    const parsed = parseOptions(listOptionsSchema, options, 'S3ObjectStorage.list()');
    if (parsed.signal?.aborted) throw abortedError(parsed.signal, 'S3 list');
    const output = await this.#calls.run(
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
   * A URL a client can PUT the object to without credentials until it expires. The content
   * type (default `application/octet-stream`), and when given the `contentLength` and
   * `checksumSha256`, are signed headers (`X-Amz-SignedHeaders`): S3 refuses a request whose
   * headers differ, and verifies the body against the signed checksum. The client must send
   * the returned headers (`content-length` is set by `fetch` from the body).
   */
  async presignPut(key: string, options: PresignOptions): Promise<PresignedRequest> {
    assertObjectKey(key);
    const parsed = parseOptions(presignOptionsSchema, options, 'S3ObjectStorage.presignPut()');
    return presignS3(this.client, putCall(this.bucket, key, parsed, this.#clock.now()), (e, c) =>
      this.#calls.report(e, c),
    );
  }

  /** A URL a client can GET the object from without credentials until it expires. */
  async presignGet(key: string, options: PresignOptions): Promise<PresignedRequest> {
    assertObjectKey(key);
    const parsed = parseOptions(presignOptionsSchema, options, 'S3ObjectStorage.presignGet()');
    return presignS3(this.client, getCall(this.bucket, key, parsed, this.#clock.now()), (e, c) =>
      this.#calls.report(e, c),
    );
  }

  /**
   * Releases the sockets of a client this adapter built. A client you passed in is yours to
   * destroy, so this leaves it alone.
   */
  close(): void {
    if (this.#ownsClient) this.client.destroy();
  }

  /** The multipart module's view of this storage: each call under `uploadTimeoutMs`. */
  #multipartTarget(key: string): MultipartTarget {
    const context: S3FailureContext = { operation: 'put', bucket: this.bucket, key };
    return {
      client: this.client,
      bucket: this.bucket,
      clock: this.#clock,
      logger: this.#logger,
      call: (signal, send) =>
        this.#calls.run(
          context,
          this.#uploadTimeoutMs,
          signal,
          (deadline) => send(deadline.signal),
          undefined,
        ),
    };
  }
}
