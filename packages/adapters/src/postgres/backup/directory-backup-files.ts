/**
 * Backup files as plain files in a directory, so an operator can `pg_restore` one directly or
 * copy it to a USB stick (seed 002 §1.3). A dump is written to a temporary name, flushed to
 * disk (`fsync`) and renamed into place: a crash mid-write leaves a stray temporary file, never
 * a short file under a backup's name.
 */

import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { type BackupFiles, BallastError } from '@ballast/core';
import { invalidArgument } from '@ballast/core/adapter-kit';

const safeName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The path of `name` in `directory`, or `name` itself when it is an absolute path: a location
 * `locate()` answered and a run recorded, maybe in a process that resolved the directory
 * elsewhere. Either way the file name must be one a backup can have.
 */
function pathIn(directory: string, name: string): string {
  const fileName = isAbsolute(name) ? basename(name) : name;
  if (!safeName.test(fileName) || fileName.includes('..')) {
    throw new BallastError('VALIDATION_FAILED', {
      message: 'Invalid backup file name.',
      details: { field: 'name' },
    });
  }
  return isAbsolute(name) ? name : join(directory, name);
}

/** Where `name` is written until it is whole: a hidden name that no run record points at. */
function partialPathIn(directory: string, name: string): string {
  const path = pathIn(directory, name); // the same checks as the final name
  return join(dirname(path), `.partial-${basename(path)}`);
}

/**
 * Refuses, with `INVALID_OPTIONS` naming `where`, a `directory` that can never hold backups
 * because a file is in the way (it is one, or lies below one). A missing directory is fine: the
 * first write creates it. Checked at start-up, so the mistake is not first seen as a failed
 * nightly run.
 */
export async function assertBackupDirectory(directory: string, where: string): Promise<void> {
  const info = await stat(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    if (error.code === 'ENOTDIR') return { isDirectory: () => false };
    throw error;
  });
  if (info && !info.isDirectory()) {
    throw new BallastError('INVALID_OPTIONS', {
      message: `Invalid options for ${where}: "dir" is not a directory (a file is in the way): ${resolve(directory)}`,
      details: { field: 'dir' },
    });
  }
}

/**
 * {@link BackupFiles} in `directory` (created on first write), resolved against the working
 * directory once, here: `locate()` answers absolute paths, which runs record.
 */
export function directoryBackupFiles(directory: string): BackupFiles {
  if (typeof directory !== 'string') {
    throw invalidArgument('directoryBackupFiles()', 'directory', 'a directory path');
  }
  const root = resolve(directory);
  return {
    async write(name, body, { signal }) {
      const target = pathIn(root, name);
      const temporary = partialPathIn(root, name);
      await mkdir(root, { recursive: true });
      const handle = await open(temporary, 'w');
      let done = false;
      try {
        const reader = body.getReader();
        try {
          for (;;) {
            if (signal.aborted) throw signal.reason;
            const { done: end, value } = await reader.read();
            if (end) break;
            let offset = 0;
            while (offset < value.byteLength) {
              const { bytesWritten } = await handle.write(value, offset);
              offset += bytesWritten;
            }
          }
        } catch (error) {
          await reader.cancel(error).catch(() => {});
          throw error;
        } finally {
          reader.releaseLock();
        }
        await handle.sync();
        done = true;
      } finally {
        await handle.close();
        if (!done) await rm(temporary, { force: true });
      }
      await rename(temporary, target);
    },
    async read(name) {
      const path = pathIn(root, name);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) return undefined;
      return Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
    },
    async size(name) {
      const info = await stat(pathIn(root, name)).catch(() => undefined);
      return info?.isFile() ? info.size : undefined;
    },
    async delete(name) {
      await rm(pathIn(root, name), { force: true });
      // A process killed mid-write leaves the temporary file; the runner deletes a dead run's
      // files when it takes over, and this is the part of them that is on disk.
      await rm(partialPathIn(root, name), { force: true });
    },
    locate(name) {
      return pathIn(root, name);
    },
  };
}
