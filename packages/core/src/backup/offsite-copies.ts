/**
 * Off-site copies of backups: the copy (streamed from the local file, so a multi-gigabyte dump
 * is never held in memory; the storage adapter decides between one PUT and a multipart upload),
 * the check of a copy against the run's size and SHA-256, and the retry of copies that failed.
 * A copy is only recorded `copied` once it was checked; any failure is recorded `failed` with
 * an alert, never thrown, so an off-site outage never turns a good local backup into a failed run.
 */
import { decodeHex, encodeBase64 } from '../crypto/byte-encoding.js';
import type { Logger } from '../logging/logger.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { type BackupEventHub, describeError as describe } from './backup-events.js';
import type { BackupFiles } from './backup-ports.js';
import type { BackupRun, BackupRunStore } from './backup-run.js';
import type { CopyCheck } from './backup-runner-config.js';
import { runFile } from './run-file.js';
import { digestStream } from './sha256-stream.js';

/** @internal */
export interface OffsiteCopies {
  /** Compares the off-site object with the run's size and checksum (`deep`: read it back). */
  check(run: BackupRun, deep: boolean): Promise<CopyCheck>;
  /** Copies one run off-site and checks the copy; records the outcome, never throws. */
  copy(run: BackupRun): Promise<boolean>;
  /** Copies kept runs whose copy is `pending` or `failed` (except `except`); returns how many. */
  retry(except?: string): Promise<number>;
}

/** @internal */
export function createOffsiteCopies(context: {
  readonly offsite: ObjectStorage | undefined;
  readonly offsitePrefix: string;
  readonly verifyOffsiteChecksum: boolean;
  readonly files: BackupFiles;
  readonly runs: BackupRunStore;
  readonly logger: Logger;
  readonly events: BackupEventHub;
}): OffsiteCopies {
  const { offsite, offsitePrefix, verifyOffsiteChecksum, files, runs, logger } = context;
  const alert = context.events.alert;

  /** Compares the off-site object with the run's size and checksum. */
  async function check(run: BackupRun, deep: boolean): Promise<CopyCheck> {
    if (!offsite || !run.offsiteKey) return 'skipped';
    let info: Awaited<ReturnType<ObjectStorage['head']>>;
    try {
      info = await offsite.head(run.offsiteKey);
    } catch (error) {
      logger.warn({ err: error, backup: run.id }, 'backup: off-site head failed');
      return 'unavailable';
    }
    if (!info) return 'missing';
    if (info.size !== run.bytes) return 'mismatch';
    const expected = run.checksum ? decodeHex(run.checksum) : undefined;
    if (info.checksumSha256 !== undefined && expected) {
      return info.checksumSha256 === encodeBase64(expected) ? 'ok' : 'mismatch';
    }
    if (!deep) return 'ok';
    try {
      const object = await offsite.get(run.offsiteKey);
      if (!object) return 'missing';
      const { checksum, bytes } = await digestStream(object.body);
      return checksum === run.checksum && bytes === run.bytes ? 'ok' : 'mismatch';
    } catch (error) {
      logger.warn({ err: error, backup: run.id }, 'backup: off-site read failed');
      return 'unavailable';
    }
  }

  /** Copies one run off-site and checks the copy; records the outcome, never throws. */
  async function copy(run: BackupRun): Promise<boolean> {
    if (!offsite || run.bytes === undefined) return false;
    const key = `${offsitePrefix}${run.path}`;
    let problem: string;
    try {
      const file = runFile(files, run);
      const body = await files.read(file);
      if (!body) {
        problem = `local file ${run.location ?? files.locate(run.path)} is missing`;
      } else {
        await offsite.put(key, body, {
          contentLength: run.bytes,
          contentType: 'application/octet-stream',
        });
        const found = await check({ ...run, offsiteKey: key }, verifyOffsiteChecksum);
        if (found === 'ok') {
          await runs.update(run.id, { offsite: 'copied', offsiteKey: key, error: undefined });
          logger.info({ backup: run.id, key }, 'backup: off-site copy verified');
          return true;
        }
        problem = `off-site copy check: ${found}`;
      }
    } catch (error) {
      problem = describe(error);
    }
    await runs.update(run.id, { offsite: 'failed', error: `off-site copy failed: ${problem}` });
    alert({
      kind: 'offsite-copy-failed',
      runId: run.id,
      message: `Off-site copy of backup ${run.id} failed (${problem}); the next run retries it.`,
    });
    return false;
  }

  async function retry(except?: string): Promise<number> {
    if (!offsite) return 0;
    let copied = 0;
    for (const run of await runs.list({ status: 'succeeded' })) {
      if (run.id === except || (run.offsite !== 'failed' && run.offsite !== 'pending')) continue;
      if (await copy(run)) copied++;
    }
    return copied;
  }

  return { check, copy, retry };
}
