/**
 * `ObjectStorage` in a local directory, for development, the example app and tests that want
 * real files. It keeps the guarantees the consistency code relies on: a write is atomic (a
 * temporary file renamed into place, so a reader or a crash never sees half an object), keys
 * cannot escape the directory (every path segment is percent-encoded, so `..`, `/` and NUL in a
 * key are just characters), symbolic links inside the directory are never followed (a link
 * to a file or directory elsewhere is not an object of this store), and `list` returns keys in
 * S3's UTF-8 byte order, paged with a cursor. Temporary files of writes interrupted by a crash
 * are removed once older than `temporaryFileGraceMs`.
 *
 * Layout: a key's segments become nested directories (named `<encoded segment>~`) and the last
 * segment a file (`<encoded segment>`). Each file holds the object's bytes followed by a small
 * JSON trailer (content type, SHA-256, MD5) and its 8-hex-digit length, written in the same
 * atomic rename. Case-insensitive file systems (macOS, Windows defaults) cannot hold two keys
 * that differ only in case.
 */
import { createHash, randomUUID } from 'node:crypto';
import { constants, type Dirent } from 'node:fs';
import {
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  realpath,
  rename,
  rm,
  rmdir,
  utimes,
} from 'node:fs/promises';
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
import {
  type FileSystemObjectStorageOptions,
  fileSystemOptionsSchema,
} from './file-system-object-storage-config.js';

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

/** The key segment a file name encodes, or `undefined` for a name this store never writes. */
function decodeSegment(name: string): string | undefined {
  if (name === '%') return '';
  try {
    return decodeURIComponent(name);
  } catch {
    // Dropped into the directory by something else (malformed percent-encoding): not an object.
    return undefined;
  }
}

/** Open for reading without following a symbolic link in the last path component. */
const readNoFollow = constants.O_RDONLY | constants.O_NOFOLLOW;

function isSymbolicLinkRefusal(error: unknown): boolean {
  // O_NOFOLLOW on a symbolic link fails with ELOOP (Linux, macOS) or EMLINK (FreeBSD).
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ELOOP' || code === 'EMLINK';
}

function linkRefused(key: string): BallastError {
  return new BallastError('STORAGE_UNAVAILABLE', {
    message: `File storage refuses "${key}": a directory on its path is a symbolic link.`,
    retryable: false,
  });
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
  readonly #temporaryFileGraceMs: number;
  /** The first write's sweep of stale temporary files; later writes do not repeat it. */
  #opened: Promise<unknown> | undefined;

  constructor(options: FileSystemObjectStorageOptions) {
    const parsed = parseOptions(fileSystemOptionsSchema, options, 'new FileSystemObjectStorage()');
    this.directory = parsed.directory;
    this.#clock = parsed.clock ?? systemClock;
    this.#temporaryFileGraceMs = parsed.temporaryFileGraceMs;
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
    // Best effort, once per instance: a failing sweep must not fail the write, and the next
    // instance (or removeStaleTemporaryFiles()) tries again.
    this.#opened ??= this.removeStaleTemporaryFiles().catch(() => 0);
    await this.#opened;
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
    const segments = this.#segments(key);
    throwIfAborted(options.signal);
    let handle: FileHandle | undefined;
    try {
      handle = await this.#openObject(segments);
      const info = handle && (await this.#infoOf(key, handle));
      if (!handle || !info) {
        await handle?.close();
        return undefined;
      }
      const dataLength = info.size;
      let nodeStream: Readable;
      if (dataLength === 0) {
        await handle.close();
        nodeStream = Readable.from([]);
      } else {
        // Read through the handle already opened (and checked), never by path again: the path
        // could have been swapped for a symbolic link in between.
        nodeStream = handle.createReadStream({ start: 0, end: dataLength - 1, autoClose: true });
        options.signal?.addEventListener(
          'abort',
          () => nodeStream.destroy(options.signal?.reason),
          {
            once: true,
          },
        );
      }
      const body = Readable.toWeb(nodeStream) as unknown as ReadableStream<Uint8Array>;
      return { ...info, body };
    } catch (error) {
      await handle?.close().catch(() => {});
      throw unavailable('get', key, error);
    }
  }

  async head(key: string, options: StorageCallOptions = {}): Promise<ObjectInfo | undefined> {
    const segments = this.#segments(key);
    throwIfAborted(options.signal);
    try {
      const handle = await this.#openObject(segments);
      if (!handle) return undefined;
      try {
        return await this.#infoOf(key, handle);
      } finally {
        await handle.close();
      }
    } catch (error) {
      throw unavailable('head', key, error);
    }
  }

  /**
   * Removes temporary files left by writes that never reached their rename (a crash, a killed
   * process) once they are older than `temporaryFileGraceMs`; younger ones may belong to a
   * write still in progress. Runs by itself on each instance's first write; call it from your
   * reconciliation job to clean up without writing. Resolves with the number removed.
   *
   * @param options.olderThanMs age from which a file counts as stale; default the store's
   *   `temporaryFileGraceMs` (one hour). Pass your reconciliation's `graceMs` to use one value.
   */
  async removeStaleTemporaryFiles(
    options: { readonly olderThanMs?: number } = {},
  ): Promise<number> {
    const olderThanMs = options.olderThanMs ?? this.#temporaryFileGraceMs;
    if (!Number.isInteger(olderThanMs) || olderThanMs < 0) {
      throw new BallastError('INVALID_OPTIONS', {
        message:
          'Invalid options for removeStaleTemporaryFiles(): "olderThanMs" must be a non-negative integer',
        details: { field: 'olderThanMs' },
      });
    }
    const tempDirectory = join(this.directory, tempDirectoryName);
    let names: string[];
    try {
      names = await readdir(tempDirectory);
    } catch (error) {
      if (isMissing(error)) return 0;
      throw unavailable('cleanup', undefined, error);
    }
    const staleBefore = this.#clock.now() - olderThanMs;
    let removed = 0;
    for (const name of names) {
      const path = join(tempDirectory, name);
      try {
        const stats = await lstat(path);
        if (stats.mtimeMs > staleBefore) continue;
        await rm(path, { force: true });
        removed++;
      } catch (error) {
        // Renamed into place or removed by another instance meanwhile: nothing left to clean.
        if (!isMissing(error)) throw unavailable('cleanup', undefined, error);
      }
    }
    return removed;
  }

  async delete(key: string, options: StorageCallOptions = {}): Promise<void> {
    const segments = this.#segments(key);
    throwIfAborted(options.signal);
    try {
      // rm never follows a link in the last component; the check covers the directories.
      if (!(await this.#parentInside(segments))) return;
      await rm(join(this.directory, ...this.#relativePath(segments)), { force: true });
    } catch (error) {
      if (!isMissing(error)) throw unavailable('delete', key, error);
    }
    await this.#removeEmptyDirectories(segments);
  }

  /** Removes directories a delete or move emptied, deepest first; a non-empty one ends it. */
  async #removeEmptyDirectories(segments: readonly string[]): Promise<void> {
    const directories = this.#relativePath(segments).slice(0, -1);
    for (let depth = directories.length; depth > 0; depth--) {
      try {
        await rmdir(join(this.directory, ...directories.slice(0, depth)));
      } catch {
        break;
      }
    }
  }

  /**
   * Moves an object to a key that holds none: a hard link to the new name (which fails when
   * one exists, so an object is never replaced) and an unlink of the old one. Neither name is
   * reached through a symbolic link.
   */
  async move(
    sourceKey: string,
    targetKey: string,
    options: StorageCallOptions = {},
  ): Promise<ObjectInfo> {
    assertObjectKey(sourceKey, 'sourceKey');
    assertObjectKey(targetKey, 'targetKey');
    const source = this.#segments(sourceKey);
    const target = this.#segments(targetKey);
    throwIfAborted(options.signal);
    const sourcePath = join(this.directory, ...this.#relativePath(source));
    const targetPath = join(this.directory, ...this.#relativePath(target));
    try {
      const stats = await lstat(sourcePath).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw error;
      });
      if (!stats?.isFile() || !(await this.#parentInside(source))) {
        throw new BallastError('OBJECT_NOT_FOUND', { message: `No object "${sourceKey}".` });
      }
      await mkdir(join(this.directory, ...this.#relativePath(target).slice(0, -1)), {
        recursive: true,
      });
      if (!(await this.#parentInside(target))) throw linkRefused(targetKey);
      try {
        await link(sourcePath, targetPath);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
        throw new BallastError('PRECONDITION_FAILED', {
          message: `"${targetKey}" already holds an object; move never replaces one.`,
        });
      }
      await rm(sourcePath, { force: true });
      await this.#removeEmptyDirectories(source);
      return await this.#info(targetKey, targetPath);
    } catch (error) {
      throw unavailable('move', sourceKey, error);
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

  async presignPut(key: string, options: PresignOptions): Promise<PresignedRequest> {
    this.#segments(key);
    return this.#presigner.presign('PUT', key, options);
  }

  async presignGet(key: string, options: PresignOptions): Promise<PresignedRequest> {
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
        throw new BallastError('INVALID_KEY', {
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

  /**
   * True when the directories on the key's path resolve to themselves inside the root: none
   * of them is a symbolic link. Throws ENOENT when one does not exist.
   */
  async #parentInside(segments: readonly string[]): Promise<boolean> {
    const directories = this.#relativePath(segments).slice(0, -1);
    const root = await realpath(this.directory);
    if (directories.length === 0) return true;
    return (await realpath(join(this.directory, ...directories))) === join(root, ...directories);
  }

  /** The object's file, opened without following links, or `undefined` when there is none. */
  async #openObject(segments: readonly string[]): Promise<FileHandle | undefined> {
    try {
      if (!(await this.#parentInside(segments))) return undefined;
      return await open(join(this.directory, ...this.#relativePath(segments)), readNoFollow);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (isMissing(error) || isSymbolicLinkRefusal(error) || code === 'EISDIR') return undefined;
      throw error;
    }
  }

  async #moveIntoPlace(tempPath: string, segments: readonly string[]): Promise<void> {
    const relative = this.#relativePath(segments);
    const target = join(this.directory, ...relative);
    // A concurrent delete may remove a parent directory between mkdir and rename; try again.
    for (let attempt = 1; ; attempt++) {
      await mkdir(join(this.directory, ...relative.slice(0, -1)), { recursive: true });
      // rename replaces a link in the last component instead of writing through it; a linked
      // directory on the way would put the object outside the root.
      if (!(await this.#parentInside(segments))) throw linkRefused(segments.join('/'));
      try {
        await rename(tempPath, target);
        return;
      } catch (error) {
        if (!isMissing(error) || attempt === 3) throw error;
      }
    }
  }

  /** Info of the file at `path` (reached by the walk, which follows no link). */
  async #readInfo(key: string, path: string): Promise<ObjectInfo | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(path, readNoFollow);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (isMissing(error) || isSymbolicLinkRefusal(error) || code === 'EISDIR') return undefined;
      throw error;
    }
    try {
      return await this.#infoOf(key, handle);
    } finally {
      await handle.close();
    }
  }

  async #infoOf(key: string, handle: FileHandle): Promise<ObjectInfo | undefined> {
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
    let dirents: Dirent[];
    try {
      dirents = await readdir(directory, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    const entries = dirents
      // Symbolic links are not followed, and nothing else than this store's own names listed.
      .filter((dirent) => !dirent.name.startsWith('.') && !dirent.isSymbolicLink())
      .flatMap(({ name }) => {
        const isDirectory = name.endsWith('~');
        const segment = decodeSegment(isDirectory ? name.slice(0, -1) : name);
        if (segment === undefined) return [];
        return [{ name, isDirectory, sortKey: keyPrefix + segment + (isDirectory ? '/' : '') }];
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
