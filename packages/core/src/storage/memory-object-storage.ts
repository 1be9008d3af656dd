/**
 * An `ObjectStorage` held in memory, for tests, the demo and prototypes. It keeps S3's
 * observable behaviour where the consistency code depends on it: keys listed in UTF-8 byte
 * order in pages with a cursor, idempotent delete, `head` of a missing key is `undefined`,
 * presigned URLs that expire and reject tampering.
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { encodeBase64, encodeHex } from '../crypto/byte-encoding.js';
import { BallastError } from '../errors/ballast-error.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import { throwIfAborted } from './aborted-error.js';
import { assertStorageCallOptions } from './call-options.js';
import { sha256 } from './checksum.js';
import { assertContentType } from './content-type.js';
import { LocalPresigner } from './local-presigner.js';
import { type ObjectBody, streamOf } from './object-body.js';
import { assertObjectKey, compareObjectKeys } from './object-key.js';
import type {
  ListObjectsOptions,
  ObjectInfo,
  ObjectPage,
  ObjectStorage,
  PresignedRequest,
  PresignOptions,
  PutObjectOptions,
  StorageCallOptions,
  StoredObject,
} from './object-storage.js';
import { assertPutBody, readPutBody } from './put-body.js';

/** Options for {@link MemoryObjectStorage}. */
export interface MemoryObjectStorageOptions {
  /** Source of `lastModified` and of presigned URL expiry. Default `systemClock`. */
  readonly clock?: Clock;
  /** Name in presigned URLs (`memory://<bucket>/<key>?…`). Default `'bucket'`. */
  readonly bucket?: string;
  /** HMAC secret for presigned URLs (≥ 32 bytes). Default: random per instance. */
  readonly presignSecret?: string | Uint8Array;
}

interface MemoryObject {
  readonly info: ObjectInfo;
  readonly bytes: Uint8Array;
}

const optionsSchema = v.object({
  clock: v.optional(
    v.custom<Clock>((value) => typeof (value as Clock | undefined)?.now === 'function', 'a Clock'),
  ),
  bucket: v.optional(
    v.custom<string>(
      (value) => typeof value === 'string' && /^[a-z0-9][a-z0-9.-]{1,62}$/.test(value),
      'a bucket-like name',
    ),
  ),
  presignSecret: v.optional(
    v.union(
      v.string(),
      v.custom<Uint8Array>((value) => value instanceof Uint8Array, 'a Uint8Array'),
    ),
  ),
});

/** Default and maximum page size of `list`, as S3's ListObjectsV2. */
export const maxListPageSize = 1000;

/** Validates `list` options the same way in every local store. */
export function checkListOptions(options: ListObjectsOptions): number {
  const pageSize = options.pageSize ?? maxListPageSize;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxListPageSize) {
    throw new BallastError('INVALID_OPTIONS', {
      message: `Invalid options for list(): "pageSize" must be an integer from 1 to ${maxListPageSize}`,
      details: { field: 'pageSize' },
    });
  }
  return pageSize;
}

/**
 * Object storage in memory. Objects live as long as the instance.
 *
 * @example
 * ```ts
 * const storage = new MemoryObjectStorage();
 * await storage.put('docs/a.txt', 'hello', { contentType: 'text/plain' });
 * const page = await storage.list({ prefix: 'docs/' }); // [{ key: 'docs/a.txt', size: 5, … }]
 * ```
 */
export class MemoryObjectStorage implements ObjectStorage {
  readonly #clock: Clock;
  readonly #presigner: LocalPresigner;
  readonly #objects = new Map<string, MemoryObject>();
  /** Keys in UTF-8 byte order, kept sorted on insert so paging is a binary search. */
  readonly #keys: string[] = [];

  constructor(options: MemoryObjectStorageOptions = {}) {
    const parsed = parseOptions(optionsSchema, options, 'new MemoryObjectStorage()');
    this.#clock = parsed.clock ?? systemClock;
    this.#presigner = new LocalPresigner({
      baseUrl: `memory://${parsed.bucket ?? 'bucket'}`,
      secret: parsed.presignSecret,
      clock: this.#clock,
    });
  }

  async put(key: string, body: ObjectBody, options: PutObjectOptions = {}): Promise<ObjectInfo> {
    assertObjectKey(key);
    assertStorageCallOptions('put()', options);
    assertContentType(options.contentType);
    assertPutBody(body, options.contentLength);
    throwIfAborted(options.signal);
    const bytes = await readPutBody(key, body, options);
    const digest = await sha256(bytes);
    const info: ObjectInfo = {
      key,
      size: bytes.length,
      etag: `"${encodeHex(digest).slice(0, 32)}"`,
      lastModified: this.#clock.now(),
      contentType: options.contentType,
      checksumSha256: encodeBase64(digest),
    };
    if (!this.#objects.has(key)) this.#keys.splice(this.#firstIndexAfter(key, false), 0, key);
    this.#objects.set(key, { info, bytes });
    return info;
  }

  async get(key: string, options: StorageCallOptions = {}): Promise<StoredObject | undefined> {
    assertObjectKey(key);
    assertStorageCallOptions('get()', options);
    throwIfAborted(options.signal);
    const object = this.#objects.get(key);
    return object && { ...object.info, body: streamOf(object.bytes) };
  }

  async head(key: string, options: StorageCallOptions = {}): Promise<ObjectInfo | undefined> {
    assertObjectKey(key);
    assertStorageCallOptions('head()', options);
    throwIfAborted(options.signal);
    return this.#objects.get(key)?.info;
  }

  async delete(key: string, options: StorageCallOptions = {}): Promise<void> {
    assertObjectKey(key);
    assertStorageCallOptions('delete()', options);
    throwIfAborted(options.signal);
    if (!this.#objects.delete(key)) return;
    this.#keys.splice(this.#firstIndexAfter(key, false), 1);
  }

  async list(options: ListObjectsOptions = {}): Promise<ObjectPage> {
    assertStorageCallOptions('list()', options);
    const pageSize = checkListOptions(options);
    throwIfAborted(options.signal);
    const prefix = options.prefix ?? '';
    let index =
      options.cursor !== undefined
        ? this.#firstIndexAfter(options.cursor, true)
        : this.#firstIndexAfter(prefix, false);
    const objects: ObjectInfo[] = [];
    for (; index < this.#keys.length && objects.length < pageSize; index++) {
      const key = this.#keys[index]!;
      if (!key.startsWith(prefix)) {
        if (compareObjectKeys(key, prefix) > 0) break;
        continue;
      }
      objects.push(this.#objects.get(key)!.info);
    }
    const next = this.#keys[index];
    const more = next?.startsWith(prefix) === true;
    const last = objects.at(-1);
    return more && last ? { objects, nextCursor: last.key } : { objects };
  }

  async move(
    sourceKey: string,
    targetKey: string,
    options: StorageCallOptions = {},
  ): Promise<ObjectInfo> {
    assertObjectKey(sourceKey, 'sourceKey');
    assertObjectKey(targetKey, 'targetKey');
    assertStorageCallOptions('move()', options);
    throwIfAborted(options.signal);
    const source = this.#objects.get(sourceKey);
    if (!source)
      throw new BallastError('OBJECT_NOT_FOUND', { message: `No object "${sourceKey}".` });
    if (this.#objects.has(targetKey)) {
      throw new BallastError('PRECONDITION_FAILED', {
        message: `"${targetKey}" already holds an object; move never replaces one.`,
      });
    }
    const info: ObjectInfo = { ...source.info, key: targetKey, lastModified: this.#clock.now() };
    this.#keys.splice(this.#firstIndexAfter(targetKey, false), 0, targetKey);
    this.#objects.set(targetKey, { info, bytes: source.bytes });
    await this.delete(sourceKey);
    return info;
  }

  presignPut(key: string, options: PresignOptions): Promise<PresignedRequest> {
    return this.#presigner.presign('PUT', key, options);
  }

  presignGet(key: string, options: PresignOptions): Promise<PresignedRequest> {
    return this.#presigner.presign('GET', key, options);
  }

  /**
   * Plays the storage service for a presigned URL this store issued: a test passes the request
   * a browser would send (`new Request(url, { method: 'PUT', body, headers })`) and gets the
   * response the service would give (see `LocalPresigner.serve`).
   */
  handlePresigned(request: Request): Promise<Response> {
    return this.#presigner.serve(this, request);
  }

  /** Every key, in listing order. For assertions in tests. */
  keys(): string[] {
    return [...this.#keys];
  }

  /** Number of objects stored. */
  get objectCount(): number {
    return this.#keys.length;
  }

  /** Index of the first key greater than `key` (`strict`) or not less than it. */
  #firstIndexAfter(key: string, strict: boolean): number {
    let low = 0;
    let high = this.#keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const order = compareObjectKeys(this.#keys[middle]!, key);
      if (order < 0 || (strict && order === 0)) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
