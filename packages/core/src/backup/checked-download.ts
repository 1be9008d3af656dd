/**
 * The body of a backup download, checked against the run's record as it streams: a file that
 * rotted on disk after the run (a flipped byte, a truncation) errors the stream at its end
 * instead of ending it as if it were the backup that was recorded good. A consumer that reads
 * to the end, a browser or `pg_restore`, learns of the damage instead of keeping it.
 */
import { BallastError } from '../errors/ballast-error.js';
import { digestingStream } from './sha256-stream.js';

/** `body`, erroring with `BACKUP_FAILED` at its end unless it had `bytes` bytes hashing to `checksum`. */
export function checkedDownload(
  body: ReadableStream<Uint8Array>,
  expected: { readonly runId: string; readonly bytes: number; readonly checksum: string },
): ReadableStream<Uint8Array> {
  const { stream, digest } = digestingStream();
  const check = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      controller.enqueue(chunk);
    },
    flush(controller) {
      if (digest.bytes === expected.bytes && digest.hex() === expected.checksum) return;
      controller.error(
        new BallastError('BACKUP_FAILED', {
          message: `Backup ${expected.runId} no longer matches its checksum (${digest.bytes} bytes read, ${expected.bytes} recorded): the file is damaged.`,
          details: { backupId: expected.runId },
        }),
      );
    },
  });
  return body.pipeThrough(stream).pipeThrough(check);
}
