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
import { randomUUID } from 'node:crypto';
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
import {
  assertContentType,
  assertObjectKey,
  assertPutBody,
  assertStorageCallOptions,
  parseOptions,
  throwIfAborted,
} from '@ballast/core/adapter-kit';
import {
  isMissing,
  isSymbolicLinkRefusal,
  linkRefused,
  unavailable,
} from './file-system-errors.js';
import { keySegments, readNoFollow, relativePath, walkObjects } from './file-system-keys.js';
import {
  type FileSystemObjectStorageOptions,
  fileSystemOptionsSchema,
} from './file-system-object-storage-config.js';
import { readObjectInfo, readObjectInfoAt, writeObjectFile } from './object-file.js';

const maxPageSize = 1000;
/** Where writes are staged before their atomic rename; never listed (names starting with `.`). */
const tempDirectoryName = '.ballast-tmp';

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
    const segments = keySegments(key);
    assertStorageCallOptions('put()', options);
    throwIfAborted(options.signal);
    assertContentType(options.contentType);
    assertPutBody(body, options.contentLength);
    // Best effort, once per instance: a failing sweep must not fail the write, and the next
    // instance (or removeStaleTemporaryFiles()) tries again.
    this.#opened ??= this.removeStaleTemporaryFiles().catch(() => 0);
    await this.#opened;
    const tempDirectory = join(this.directory, tempDirectoryName);
    const tempPath = join(tempDirectory, randomUUID());
    try {
      await mkdir(tempDirectory, { recursive: true });
      const handle = await open(tempPath, 'wx');
      try {
        await writeObjectFile(handle, body, {
          key,
          contentType: options.contentType,
          contentLength: options.contentLength,
          signal: options.signal,
        });
      } finally {
        await handle.close();
      }
      const modified = new Date(this.#clock.now());
      await utimes(tempPath, modified, modified);
      await this.#moveIntoPlace(tempPath, segments);
      return this.#info(key, join(this.directory, ...relativePath(segments)));
    } catch (error) {
      await rm(tempPath, { force: true }).catch(() => {});
      throw unavailable('put', key, error);
    }
  }

  async get(key: string, options: StorageCallOptions = {}): Promise<StoredObject | undefined> {
    const segments = keySegments(key);
    assertStorageCallOptions('get()', options);
    throwIfAborted(options.signal);
    let handle: FileHandle | undefined;
    try {
      handle = await this.#openObject(segments);
      const info = handle && (await readObjectInfo(key, handle));
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
    const segments = keySegments(key);
    assertStorageCallOptions('head()', options);
    throwIfAborted(options.signal);
    try {
      const handle = await this.#openObject(segments);
      if (!handle) return undefined;
      try {
        return await readObjectInfo(key, handle);
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
    assertStorageCallOptions('removeStaleTemporaryFiles()', options);
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
    const segments = keySegments(key);
    assertStorageCallOptions('delete()', options);
    throwIfAborted(options.signal);
    try {
      // rm never follows a link in the last component; the check covers the directories.
      if (!(await this.#parentInside(segments))) return;
      await rm(join(this.directory, ...relativePath(segments)), { force: true });
    } catch (error) {
      if (!isMissing(error)) throw unavailable('delete', key, error);
    }
    await this.#removeEmptyDirectories(segments);
  }

  /** Removes directories a delete or move emptied, deepest first; a non-empty one ends it. */
  async #removeEmptyDirectories(segments: readonly string[]): Promise<void> {
    const directories = relativePath(segments).slice(0, -1);
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
    const source = keySegments(sourceKey);
    const target = keySegments(targetKey);
    assertStorageCallOptions('move()', options);
    throwIfAborted(options.signal);
    const sourcePath = join(this.directory, ...relativePath(source));
    const targetPath = join(this.directory, ...relativePath(target));
    try {
      const stats = await lstat(sourcePath).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw error;
      });
      // A concurrent move of the same source may have removed its emptied directory since.
      const sourceInside =
        stats?.isFile() === true &&
        (await this.#parentInside(source).catch((error: unknown) => {
          if (isMissing(error)) return false;
          throw error;
        }));
      if (!sourceInside) {
        throw new BallastError('OBJECT_NOT_FOUND', { message: `No object "${sourceKey}".` });
      }
      await mkdir(join(this.directory, ...relativePath(target).slice(0, -1)), {
        recursive: true,
      });
      if (!(await this.#parentInside(target))) throw linkRefused(targetKey);
      try {
        await link(sourcePath, targetPath);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code === 'EEXIST') {
          throw new BallastError('PRECONDITION_FAILED', {
            message: `"${targetKey}" already holds an object; move never replaces one.`,
          });
        }
        // A concurrent move took the source between the check above and the link.
        if (code === 'ENOENT' && !(await lstat(sourcePath).catch(() => undefined))) {
          throw new BallastError('OBJECT_NOT_FOUND', { message: `No object "${sourceKey}".` });
        }
        throw error;
      }
      await rm(sourcePath, { force: true });
      await this.#removeEmptyDirectories(source);
      return await this.#info(targetKey, targetPath);
    } catch (error) {
      throw unavailable('move', sourceKey, error);
    }
  }

  async list(options: ListObjectsOptions = {}): Promise<ObjectPage> {
    assertStorageCallOptions('list()', options);
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
      for await (const [key, path] of walkObjects(this.directory, '', prefix, options.cursor)) {
        throwIfAborted(options.signal);
        if (objects.length === pageSize) {
          more = true;
          break;
        }
        const info = await readObjectInfoAt(key, path);
        if (info) objects.push(info);
      }
    } catch (error) {
      throw unavailable('list', undefined, error);
    }
    const last = objects.at(-1);
    return more && last ? { objects, nextCursor: last.key } : { objects };
  }

  async presignPut(key: string, options: PresignOptions): Promise<PresignedRequest> {
    keySegments(key);
    return this.#presigner.presign('PUT', key, options);
  }

  async presignGet(key: string, options: PresignOptions): Promise<PresignedRequest> {
    keySegments(key);
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

  /**
   * True when the directories on the key's path resolve to themselves inside the root: none
   * of them is a symbolic link. Throws ENOENT when one does not exist.
   */
  async #parentInside(segments: readonly string[]): Promise<boolean> {
    const directories = relativePath(segments).slice(0, -1);
    const root = await realpath(this.directory);
    if (directories.length === 0) return true;
    return (await realpath(join(this.directory, ...directories))) === join(root, ...directories);
  }

  /** The object's file, opened without following links, or `undefined` when there is none. */
  async #openObject(segments: readonly string[]): Promise<FileHandle | undefined> {
    try {
      if (!(await this.#parentInside(segments))) return undefined;
      return await open(join(this.directory, ...relativePath(segments)), readNoFollow);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (isMissing(error) || isSymbolicLinkRefusal(error) || code === 'EISDIR') return undefined;
      throw error;
    }
  }

  async #moveIntoPlace(tempPath: string, segments: readonly string[]): Promise<void> {
    const relative = relativePath(segments);
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

  #info(key: string, path: string): Promise<ObjectInfo> {
    return readObjectInfoAt(key, path).then((info) => {
      if (!info)
        throw new BallastError('STORAGE_UNAVAILABLE', { message: `"${key}" vanished after put.` });
      return info;
    });
  }
}
