/**
 * An object on disk, as `FileSystemObjectStorage` writes it: the object's bytes, then a JSON
 * trailer (content type, SHA-256, MD5), then the trailer's length as 8 hex digits. Everything is
 * in one file, so the one atomic rename that publishes the bytes publishes their metadata too.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import type { ObjectBody, ObjectInfo } from '@ballast/core';
import { contentLengthMismatch, putStreamFailed, throwIfAborted } from '@ballast/core/adapter-kit';
import { isMissing, isSymbolicLinkRefusal } from './file-system-errors.js';
import { readNoFollow } from './file-system-keys.js';

const footerLength = 8;
const maxTrailerLength = 4096;

interface Trailer {
  readonly contentType?: string;
  readonly sha256: string;
  readonly md5: string;
}

/** What `writeObjectFile` needs besides the body. */
export interface ObjectFileWrite {
  readonly key: string;
  readonly contentType?: string | undefined;
  /** Length a stream must have (`put`'s `contentLength`). */
  readonly contentLength?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

/**
 * Writes `body`, its trailer and footer to `handle` and syncs it. Stops with `ABORTED` between
 * chunks of a stream when `signal` fires, `VALIDATION_FAILED` as soon as a stream passes its
 * `contentLength` (or ends short of it) and `UPLOAD_FAILED` when the stream errors.
 */
export async function writeObjectFile(
  handle: FileHandle,
  body: ObjectBody,
  { key, contentType, contentLength, signal }: ObjectFileWrite,
): Promise<void> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  const write = async (chunk: Uint8Array) => {
    sha256.update(chunk);
    md5.update(chunk);
    await writeAll(handle, chunk);
  };
  if (typeof body === 'string') await write(new TextEncoder().encode(body));
  else if (body instanceof Uint8Array) await write(body);
  else {
    const reader = body.getReader();
    let written = 0;
    try {
      for (;;) {
        throwIfAborted(signal);
        const { done, value } = await reader.read().catch((error: unknown) => {
          throw putStreamFailed(key, error, signal);
        });
        if (done) break;
        written += value.byteLength;
        if (contentLength !== undefined && written > contentLength) {
          throw contentLengthMismatch(contentLength, `more than ${contentLength}`);
        }
        await write(value);
      }
      if (contentLength !== undefined && written !== contentLength) {
        throw contentLengthMismatch(contentLength, String(written));
      }
    } catch (error) {
      // Stopped early: release the caller's source instead of leaving it to be read.
      await reader.cancel(error).catch(() => {
        // An errored stream rejects cancel(); the first error is the one that matters.
      });
      throw error;
    } finally {
      reader.releaseLock();
    }
  }
  const trailer: Trailer = {
    contentType,
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
}

/**
 * The info of an object file: size and trailer, or `undefined` when the file is not one this
 * store wrote (too short, or no valid trailer).
 */
export async function readObjectInfo(
  key: string,
  handle: FileHandle,
): Promise<ObjectInfo | undefined> {
  const stats = await handle.stat();
  if (!stats.isFile() || stats.size < footerLength) return undefined;
  const footer = Buffer.alloc(footerLength);
  await handle.read(footer, 0, footerLength, stats.size - footerLength);
  const footerText = footer.toString('latin1');
  // parseInt would read "e done.\n" as 14: only the eight hex digits this store writes count.
  if (!/^[0-9a-f]{8}$/.test(footerText)) return undefined;
  const trailerLength = Number.parseInt(footerText, 16);
  if (!(trailerLength > 0 && trailerLength <= maxTrailerLength)) return undefined;
  const dataLength = stats.size - footerLength - trailerLength;
  if (dataLength < 0) return undefined;
  const trailerBytes = Buffer.alloc(trailerLength);
  await handle.read(trailerBytes, 0, trailerLength, dataLength);
  const trailer = parseTrailer(trailerBytes.toString('utf8'));
  if (!trailer) return undefined;
  return {
    key,
    size: dataLength,
    etag: `"${trailer.md5}"`,
    lastModified: Math.round(stats.mtimeMs),
    contentType: trailer.contentType,
    checksumSha256: trailer.sha256,
  };
}

/**
 * The trailer, or `undefined` when the text is not one this store wrote: a file dropped into
 * the directory by something else is not an object, and must not fail the whole listing.
 */
function parseTrailer(text: string): Trailer | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const trailer = value as Partial<Trailer> | null;
  if (
    typeof trailer !== 'object' ||
    trailer === null ||
    typeof trailer.sha256 !== 'string' ||
    typeof trailer.md5 !== 'string' ||
    (trailer.contentType !== undefined && typeof trailer.contentType !== 'string')
  ) {
    return undefined;
  }
  return trailer as Trailer;
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

/** Info of the file at `path` (reached by the walk, which follows no link). */
export async function readObjectInfoAt(key: string, path: string): Promise<ObjectInfo | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, readNoFollow);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (isMissing(error) || isSymbolicLinkRefusal(error) || code === 'EISDIR') return undefined;
    throw error;
  }
  try {
    return await readObjectInfo(key, handle);
  } finally {
    await handle.close();
  }
}
