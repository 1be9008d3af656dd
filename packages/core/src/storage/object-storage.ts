/**
 * The object storage port: the few operations the consistency recipes and the reconciliation
 * runner need, shaped so that S3, a local directory and memory can all meet it. Listing is in
 * key order (S3's UTF-8 binary order), which lets reconciliation merge-join a listing with
 * rows sorted the same way instead of sending one HEAD per row.
 */

/** What storage knows about one object. */
export interface ObjectInfo {
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
  /** Entity tag, when the backend has one (quoted as S3 returns it). */
  readonly etag?: string;
  /** Last modification, epoch milliseconds. */
  readonly lastModified: number;
  readonly contentType?: string;
  /**
   * SHA-256 of the content, base64 (the form of S3's `x-amz-checksum-sha256`), when the backend
   * knows it. `confirmUpload` compares it with an expected checksum; when absent, it reads the
   * object and hashes it instead.
   */
  readonly checksumSha256?: string;
}

/** An object with its content as a web stream. */
export interface StoredObject extends ObjectInfo {
  readonly body: ReadableStream<Uint8Array>;
}

/** Per-call options shared by every operation. */
export interface StorageCallOptions {
  readonly signal?: AbortSignal;
}

export interface PutObjectOptions extends StorageCallOptions {
  readonly contentType?: string;
  /** Required by some backends for streamed bodies. */
  readonly contentLength?: number;
}

export interface ListObjectsOptions extends StorageCallOptions {
  readonly prefix?: string;
  /** Opaque cursor from the previous page's `nextCursor`. */
  readonly cursor?: string;
  /** Objects per page. Default 1,000 (S3's maximum). */
  readonly pageSize?: number;
}

export interface ObjectPage {
  /** In ascending key order. */
  readonly objects: readonly ObjectInfo[];
  /** Absent on the last page. */
  readonly nextCursor?: string;
}

export interface PresignOptions {
  /** Lifetime of the URL in seconds. */
  readonly expiresInSeconds: number;
  /**
   * For PUT: the content type the uploader must send, signed into the URL. Default
   * `'application/octet-stream'`: a PUT URL always fixes one, so an uploader can never choose
   * `text/html` for an object later served from your domain.
   */
  readonly contentType?: string;
  /**
   * For PUT: the exact byte length the upload must have (S3: a signed `Content-Length`). A
   * body of any other length is refused by storage. Default: not bound.
   */
  readonly contentLength?: number;
  /**
   * For PUT: the SHA-256 of the bytes, base64 or hex (S3: a signed `x-amz-checksum-sha256`
   * header, verified by S3 against the body). Other bytes are refused by storage. Default: not
   * bound.
   */
  readonly checksumSha256?: string;
}

/** The content type a presigned PUT fixes when the caller names none. */
export const defaultPresignedContentType = 'application/octet-stream';

/** The header that carries a signed SHA-256 of a presigned PUT's body (S3's name). */
export const checksumSha256Header = 'x-amz-checksum-sha256';

/** A request a client can make without credentials until `expiresAt`. */
export interface PresignedRequest {
  readonly url: string;
  readonly method: 'PUT' | 'GET';
  /** Headers the client must send with the request. */
  readonly headers: Readonly<Record<string, string>>;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/**
 * Object storage. Implementations: `MemoryObjectStorage` (core), `FileSystemObjectStorage`
 * (`@ballast/adapters/fs`), S3 and compatibles (`@ballast/adapters/s3`). Failures are
 * `BallastError`s: `STORAGE_UNAVAILABLE` (retryable), `OBJECT_NOT_FOUND`, `TIMEOUT`, `ABORTED`,
 * `INVALID_KEY` (a key the backend cannot store).
 *
 * `list` returns keys in ascending UTF-8 byte order (S3's order; {@link compareObjectKeys}
 * implements it), so reconciliation can merge-join a listing with rows sorted the same way.
 * The shared conformance suite is `describeObjectStorageContract` in
 * `packages/adapters/test/support/object-storage-contract.ts`.
 */
export interface ObjectStorage {
  put(
    key: string,
    body: Uint8Array | string | ReadableStream<Uint8Array>,
    options?: PutObjectOptions,
  ): Promise<ObjectInfo>;
  /** `undefined` when the object does not exist. */
  get(key: string, options?: StorageCallOptions): Promise<StoredObject | undefined>;
  /** `undefined` when the object does not exist. */
  head(key: string, options?: StorageCallOptions): Promise<ObjectInfo | undefined>;
  /** Idempotent: deleting a missing object succeeds. */
  delete(key: string, options?: StorageCallOptions): Promise<void>;
  list(options?: ListObjectsOptions): Promise<ObjectPage>;
  /**
   * Moves the object at `sourceKey` to `targetKey`, which must hold no object: it never
   * replaces one (`PRECONDITION_FAILED`, 412, and the source is left in place). Rejects with
   * `OBJECT_NOT_FOUND` when there is no source. Atomic on memory and the filesystem (a rename);
   * on S3 a CopyObject then a DeleteObject (objects up to 5 GB), so a crash in between leaves a
   * copy under `sourceKey` for reconciliation. Used by `confirmUpload` to promote a staged
   * upload to its final key.
   */
  move(sourceKey: string, targetKey: string, options?: StorageCallOptions): Promise<ObjectInfo>;
  presignPut(key: string, options: PresignOptions): Promise<PresignedRequest>;
  presignGet(key: string, options: PresignOptions): Promise<PresignedRequest>;
}
