/**
 * Keys as paths below `FileSystemObjectStorage`'s root: each segment percent-encoded (so `..`,
 * `/` and NUL in a key are just characters and cannot escape the directory), directories named
 * `<segment>~`, the last segment a file; and the walk that lists them back in key order without
 * following symbolic links.
 */
import { constants, type Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BallastError } from '@ballast/core';
import { assertObjectKey, compareObjectKeys } from '@ballast/core/adapter-kit';
import { isMissing } from './file-system-errors.js';

/** The longest file name most file systems accept, in bytes (255, less the directory's `~`). */
const maxNameBytes = 254;

/** Encodes one key segment as a file name: never empty, never `.`-led, never containing `/`. */
export function encodeSegment(segment: string): string {
  if (segment === '') return '%';
  return encodeURIComponent(segment)
    .replace(/[!~*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/^\./, '%2E');
}

/** The key segment a file name encodes, or `undefined` for a name this store never writes. */
export function decodeSegment(name: string): string | undefined {
  if (name === '%') return '';
  try {
    return decodeURIComponent(name);
  } catch {
    // Dropped into the directory by something else (malformed percent-encoding): not an object.
    return undefined;
  }
}

/** Open for reading without following a symbolic link in the last path component. */
export const readNoFollow = constants.O_RDONLY | constants.O_NOFOLLOW;

/** Validates a key and splits it; every segment must encode to a legal file name. */
export function keySegments(key: string): string[] {
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

/** The path of a key's file below the root: `<segment>~` directories, then `<segment>`. */
export function relativePath(segments: readonly string[]): string[] {
  return segments.map((segment, i) =>
    i === segments.length - 1 ? encodeSegment(segment) : `${encodeSegment(segment)}~`,
  );
}

/**
 * Yields `[key, path]` of every object under `directory` in key order (S3's UTF-8 byte order),
 * skipping whole subtrees that lie outside `prefix` or at or before `after`.
 */
export async function* walkObjects(
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
      if (overlapsPrefix && !beforeCursor) yield* walkObjects(path, entry.sortKey, prefix, after);
      continue;
    }
    if (!entry.sortKey.startsWith(prefix)) continue;
    if (after !== undefined && compareObjectKeys(entry.sortKey, after) <= 0) continue;
    yield [entry.sortKey, path];
  }
}
