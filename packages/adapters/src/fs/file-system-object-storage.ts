/**
 * `ObjectStorage` in a local directory, for development, the example app and tests that want
 * real files. It keeps the guarantees the consistency code relies on: a write is atomic (a
 * temporary file renamed into place, so a reader or a crash never sees half an object), keys
 * cannot escape the directory (every path segment is percent-encoded, so `..`, `/` and NUL in a
 * key are just characters), and `list` returns keys in S3's UTF-8 byte order, paged with a
 * cursor.
 *
 * Layout: a key's segments become nested directories (named `<encoded segment>~`) and the last
 * segment a file (`<encoded segment>`). Each file holds the object's bytes followed by a small
 * JSON trailer (content type, SHA-256, MD5) and its 8-hex-digit length, written in the same
 * atomic rename. Case-insensitive file systems (macOS, Windows defaults) cannot hold two keys
 * that differ only in case.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, rmdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  BallastError,
  type Clock,
  isBallastError,
  type ListObjectsOptions,
  LocalPresigner,
  type ObjectBody,
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
import { assertObjectKey, compareObjectKeys, parseOptions } from '@ballast/core/adapter-kit';
import { clockSchema } from '@ballast/server/adapter-kit';
import { z } from 'zod';

/** Options for {@link FileSystemObjectStorage}. */
export interface FileSystemObjectStorageOptions {
  /** Directory holding the objects; created on first write. Use it for nothing else. */
  readonly directory: string;
  /** Source of `lastModified` (written as the file's mtime) and of URL expiry. Default `systemClock`. */
  readonly clock?: Clock;
  /** Name in presigned URLs (`fs://<name>/<key>?…`). Default `'local'`. */
  readonly name?: string;
  /** HMAC secret for presigned URLs (≥ 32 bytes). Default: random per instance. */
  readonly presignSecret?: string | Uint8Array;
}

const optionsSchema = z.object({
  directory: z.string().min(1),
  clock: clockSchema.optional(),
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{0,62}$/)
    .optional(),
  presignSecret: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
});

const maxPageSize = 1000;
const footerLength = 8;
const maxTrailerLength = 4096;
const maxNameBytes = 254;
const tempDirectoryName = '.ballast-tmp';

interface Trailer {
  readonly contentType?: string;
  readonly sha256: string;
  readonly md5: string;
}

/** Encodes one key segment as a file name: never empty, never `.`-led, never containing `/`. */
function encodeSegment(segment: string): string {
  if (segment === '') return '%';
  return encodeURIComponent(segment)
    .replace(/[!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/^\./, '%2E');
}

function decodeSegment(name: string): string {
  return name === '%' ? '' : decodeURIComponent(name);
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function unavailable(operation: string, key: string | undefined, error: unknown): BallastError {
  if (isBallastError(error)) return error;
  if ((error as { name?: unknown } | null)?.name === 'AbortError') {
    return new BallastError('ABORTED', { message: `${operation} aborted.`, cause: error });
  }
  return new BallastError('STORAGE_UNAVAILABLE', {
    message: `File storage ${operation}${key === undefined ? '' : ` of "${key}"`} failed.`,
    cause: error,
  });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new BallastError('ABORTED', {
      message: 'The operation was aborted.',
      cause: signal.reason,
    });
  }
}

/**
 * Object storage in a local directory.
 *
 * @example
 * ```ts
 * import { FileSystemObjectStorage } from '@ballast/adapters/fs';
 * const storage = new FileSystemObjectStorage({ directory: './data/objects' });
 * await storage.put('documents/a.pdf', bytes, { contentType: 'application/pdf' });
 * ```
 */
export class FileSystemObjectStorage implements ObjectStorage {
  readonly directory: string;
  readonly #clock: Clock;
  readonly #presigner: LocalPresigner;

  constructor(options: FileSystemObjectStorageOptions) {
    const parsed = parseOptions(optionsSchema, options, 'new FileSystemObjectStorage()');
    this.directory = parsed.directory;
    this.#clock = parsed.clock ?? systemClock;
    this.#presigner = new LocalPresigner({
      baseUrl: `fs://${parsed.name ?? 'local'}`,
      secret: parsed.presignSecret,
      clock: this.#clock,
    });
  }

  async put(key: string, body: ObjectBody, options: PutObjectOptions = {}): Promise<ObjectInfo> {
    const segments = this.#segments(key);
    throwIfAborted(options.signal);
    if (options.contentType !== undefined && options.contentType.length > 1024) {
      throw new BallastError('VALIDATION_FAILED', {
        message: 'Content type too long.',
        details: { field: 'contentType' },
      });
    }
    const tempDirectory = join(this.directory, tempDirectoryName);
    const tempPath = join(tempDirectory, randomUUID());
    try {
      await mkdir(tempDirectory, { recursive: true });
      const sha256 = createHash('sha256');
      const md5 = createHash('md5');
      const handle = await open(tempPath, 'wx');
      try {
        const write = async (chunk: Uint8Array) => {
          sha256.update(chunk);
          md5.update(chunk);
          await writeAll(handle, chunk);
        };
        if (typeof body === 'string') await write(new TextEncoder().encode(body));
        else if (body instanceof Uint8Array) await write(body);
        else {
          const reader = body.getReader();
          try {
            for (;;) {
              throwIfAborted(options.signal);
              const { done, value } = await reader.read();
              if (done) break;
              await write(value);
            }
          } finally {
            reader.releaseLock();
          }
        }
        const trailer: Trailer = {
          contentType: options.contentType,
          sha256: sha256.digest('base64'),
          md5: md5.digest('hex'),
        };
        const trailerBytes = new TextEncoder().encode(JSON.stringify(trailer));
        await writeAll(handle, trailerBytes);
        await writeAll(
          handle,
          new TextEncoder().encode(trailerBytes.length.toString(16).padStart(footerLength, '0')),
        );
        await handle.sync();
      } finally {
        await handle.close();
      }
      const modified = new Date(this.#clock.now());
      await utimes(tempPath, modified, modified);
      await this.#moveIntoPlace(tempPath, segments);
      return this.#info(key, join(this.directory, ...this.#relativePath(segments)));
    } catch (error) {
      await rm(tempPath, { force: true }).catch(() => {});
      throw unavailable('put', key, error);
    }
  }

  async get(key: string, options: StorageCallOptions = {}): Promise<StoredObject | undefined> {
    const path = this.#pathOf(key);
    throwIfAborted(options.signal);
    try {
      const info = await this.#readInfo(key, path);
      if (!info) return undefined;
      const dataLength = info.size;
      const nodeStream =
        dataLength === 0
          ? Readable.from([])
          : createReadStream(path, { start: 0, end: dataLength - 1, signal: options.signal });
      const body = Readable.toWeb(nodeStream) as unknown as ReadableStream<Uint8Array>;
      return { ...info, body };
    } catch (error) {
      throw unavailable('get', key, error);
    }
  }

  async head(key: string, options: StorageCallOptions = {}): Promise<ObjectInfo | undefined> {
    const path = this.#pathOf(key);
    throwIfAborted(options.signal);
    try {
      return await this.#readInfo(key, path);
    } catch (error) {
      throw unavailable('head', key, error);
    }
  }

  async delete(key: string, options: StorageCallOptions = {}): Promise<void> {
    const segments = this.#segments(key);
    throwIfAborted(options.signal);
    try {
      await rm(join(this.directory, ...this.#relativePath(segments)), { force: true });
    } catch (error) {
      if (!isMissing(error)) throw unavailable('delete', key, error);
    }
    // Remove directories the delete emptied, deepest first; a non-empty one ends the climb.
    const directories = this.#relativePath(segments).slice(0, -1);
    for (let depth = directories.length; depth > 0; depth--) {
      try {
        await rmdir(join(this.directory, ...directories.slice(0, depth)));
      } catch {
        break;
      }
    }
  }

  async list(options: ListObjectsOptions = {}): Promise<ObjectPage> {
    const pageSize = options.pageSize ?? maxPageSize;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxPageSize) {
      throw new BallastError('INVALID_OPTIONS', {
        message: `Invalid options for list(): "pageSize" must be an integer from 1 to ${maxPageSize}`,
        details: { field: 'pageSize' },
      });
    }
    throwIfAborted(options.signal);
    const prefix = options.prefix ?? '';
    const objects: ObjectInfo[] = [];
    let more = false;
    try {
      for await (const [key, path] of this.#walk(this.directory, '', prefix, options.cursor)) {
        throwIfAborted(options.signal);
        if (objects.length === pageSize) {
          more = true;
          break;
        }
        const info = await this.#readInfo(key, path);
        if (info) objects.push(info);
      }
    } catch (error) {
      throw unavailable('list', undefined, error);
    }
    const last = objects.at(-1);
    return more && last ? { objects, nextCursor: last.key } : { objects };
  }

  presignPut(key: string, options: PresignOptions): Promise<PresignedRequest> {
    this.#segments(key);
    return this.#presigner.presign('PUT', key, options);
  }

  presignGet(key: string, options: PresignOptions): Promise<PresignedRequest> {
    this.#segments(key);
    return this.#presigner.presign('GET', key, options);
  }

  /**
   * Plays the storage service for a presigned URL this store issued (see
   * `LocalPresigner.serve`): a test or the example app passes the client's request and gets
   * the response a real service would give.
   */
  handlePresigned(request: Request): Promise<Response> {
    return this.#presigner.serve(this, request);
  }

  /** Validates a key and splits it; every segment must encode to a legal file name. */
  #segments(key: string): string[] {
    assertObjectKey(key);
    const segments = key.split('/');
    for (const segment of segments) {
      if (new TextEncoder().encode(encodeSegment(segment)).length > maxNameBytes) {
        throw new BallastError('VALIDATION_FAILED', {
          message: 'Invalid object key: a path segment is too long for a file name.',
          details: { field: 'key' },
        });
      }
    }
    return segments;
  }

  #relativePath(segments: readonly string[]): string[] {
    return segments.map((segment, i) =>
      i === segments.length - 1 ? encodeSegment(segment) : `${encodeSegment(segment)}~`,
    );
  }

  #pathOf(key: string): string {
    return join(this.directory, ...this.#relativePath(this.#segments(key)));
  }

  async #moveIntoPlace(tempPath: string, segments: readonly string[]): Promise<void> {
    const relative = this.#relativePath(segments);
    const target = join(this.directory, ...relative);
    // A concurrent delete may remove a parent directory between mkdir and rename; try again.
    for (let attempt = 1; ; attempt++) {
      await mkdir(join(this.directory, ...relative.slice(0, -1)), { recursive: true });
      try {
        await rename(tempPath, target);
        return;
      } catch (error) {
        if (!isMissing(error) || attempt === 3) throw error;
      }
    }
  }

  async #readInfo(key: string, path: string): Promise<ObjectInfo | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isMissing(error) || (error as { code?: unknown }).code === 'EISDIR') return undefined;
      throw error;
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile() || stats.size < footerLength) return undefined;
      const footer = Buffer.alloc(footerLength);
      await handle.read(footer, 0, footerLength, stats.size - footerLength);
      const trailerLength = Number.parseInt(footer.toString('latin1'), 16);
      if (!(trailerLength > 0 && trailerLength <= maxTrailerLength)) return undefined;
      const dataLength = stats.size - footerLength - trailerLength;
      if (dataLength < 0) return undefined;
      const trailerBytes = Buffer.alloc(trailerLength);
      await handle.read(trailerBytes, 0, trailerLength, dataLength);
      const trailer = JSON.parse(trailerBytes.toString('utf8')) as Trailer;
      return {
        key,
        size: dataLength,
        etag: `"${trailer.md5}"`,
        lastModified: Math.round(stats.mtimeMs),
        contentType: trailer.contentType,
        checksumSha256: trailer.sha256,
      };
    } finally {
      await handle.close();
    }
  }

  #info(key: string, path: string): Promise<ObjectInfo> {
    return this.#readInfo(key, path).then((info) => {
      if (!info)
        throw new BallastError('STORAGE_UNAVAILABLE', { message: `"${key}" vanished after put.` });
      return info;
    });
  }

  /**
   * Yields `[key, path]` of every object under `directory` in key order, skipping whole
   * subtrees that lie outside `prefix` or at or before `after`.
   */
  async *#walk(
    directory: string,
    keyPrefix: string,
    prefix: string,
    after: string | undefined,
  ): AsyncGenerator<[string, string]> {
    let names: string[];
    try {
      names = await readdir(directory);
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    const entries = names
      .filter((name) => !name.startsWith('.'))
      .map((name) => {
        const isDirectory = name.endsWith('~');
        const segment = decodeSegment(isDirectory ? name.slice(0, -1) : name);
        return { name, isDirectory, sortKey: keyPrefix + segment + (isDirectory ? '/' : '') };
      })
      .sort((a, b) => compareObjectKeys(a.sortKey, b.sortKey));
    for (const entry of entries) {
      const path = join(directory, entry.name);
      if (entry.isDirectory) {
        const overlapsPrefix = entry.sortKey.startsWith(prefix) || prefix.startsWith(entry.sortKey);
        const beforeCursor =
          after !== undefined &&
          compareObjectKeys(entry.sortKey, after) < 0 &&
          !after.startsWith(entry.sortKey);
        if (overlapsPrefix && !beforeCursor) yield* this.#walk(path, entry.sortKey, prefix, after);
        continue;
      }
      if (!entry.sortKey.startsWith(prefix)) continue;
      if (after !== undefined && compareObjectKeys(entry.sortKey, after) <= 0) continue;
      yield [entry.sortKey, path];
    }
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}
