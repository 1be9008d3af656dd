/**
 * Options of {@link FileSystemObjectStorage} and their validation, apart from the behaviour in
 * `file-system-object-storage.ts` (kysely's `*-config.ts` pattern).
 */
import type { Clock } from '@ballast/core';
import { clockSchema } from '@ballast/server/adapter-kit';
import { z } from 'zod';

/** Options for `FileSystemObjectStorage`. */
export interface FileSystemObjectStorageOptions {
  /** Directory holding the objects; created on first write. Use it for nothing else. */
  readonly directory: string;
  /** Source of `lastModified` (written as the file's mtime) and of URL expiry. Default `systemClock`. */
  readonly clock?: Clock;
  /** Name in presigned URLs (`fs://<name>/<key>?…`). Default `'local'`. */
  readonly name?: string;
  /** HMAC secret for presigned URLs (≥ 32 bytes). Default: random per instance. */
  readonly presignSecret?: string | Uint8Array;
  /**
   * Age after which a temporary file of an interrupted write (a crash between writing and the
   * atomic rename) is removed, in ms: on the store's first write and by
   * `removeStaleTemporaryFiles()`. A write in progress elsewhere is younger than this. Default
   * one hour, the same grace `reconcile()` gives a new object.
   */
  readonly temporaryFileGraceMs?: number;
}

/** @internal */
export const fileSystemOptionsSchema = z.strictObject({
  directory: z.string().min(1),
  clock: clockSchema.optional(),
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{0,62}$/)
    .optional(),
  presignSecret: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
  temporaryFileGraceMs: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .default(60 * 60 * 1000),
});
