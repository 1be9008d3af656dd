/**
 * `S3ObjectStorage.move()`: an object moved to a key that holds none, and only the object that
 * was checked. HeadObject on the source (its ETag) and on the target (an existing object is
 * `PRECONDITION_FAILED`, never replaced), CopyObject with `CopySourceIfMatch` on that ETag
 * (metadata and content type copied; objects up to 5 GB), then DeleteObject with `If-Match` on
 * it. A source overwritten after the check is refused (`PRECONDITION_FAILED`,
 * `details.reason: 'source-changed'`, nothing copied); one overwritten after the copy is left
 * alone (the delete is refused; the newer object is another writer's). Not atomic: a crash
 * between copy and delete leaves the source, an orphan reconciliation removes after its grace
 * period; two concurrent moves to one target are not excluded (confirmUpload's callers are one
 * per row).
 */
import { CopyObjectCommand, DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BallastError, type ObjectInfo, type StorageCallOptions } from '@ballast/core';
import type { S3Calls } from './s3-calls.js';

/** What a move needs of the storage that owns it. */
export interface MoveContext {
  readonly client: S3Client;
  readonly bucket: string;
  readonly calls: S3Calls;
  readonly timeoutMs: number;
  head(key: string, options: StorageCallOptions): Promise<ObjectInfo | undefined>;
}

/** Moves `sourceKey` to `targetKey` (keys checked by the caller), as the header says. */
export async function moveObject(
  context: MoveContext,
  sourceKey: string,
  targetKey: string,
  signal: AbortSignal | undefined,
): Promise<ObjectInfo> {
  const source = await context.head(sourceKey, { signal });
  if (source === undefined) {
    throw new BallastError('OBJECT_NOT_FOUND', { message: `No object "${sourceKey}".` });
  }
  if (await context.head(targetKey, { signal })) {
    throw new BallastError('PRECONDITION_FAILED', {
      message: `"${targetKey}" already holds an object; move never replaces one.`,
    });
  }
  const etag = source.etag;
  const copied = await context.calls.run(
    { operation: 'move', bucket: context.bucket, key: sourceKey },
    context.timeoutMs,
    signal,
    (deadline) =>
      unlessPreconditionFailed(
        context.client.send(
          new CopyObjectCommand({
            Bucket: context.bucket,
            Key: targetKey,
            CopySource: `${context.bucket}/${sourceKey.split('/').map(encodeURIComponent).join('/')}`,
            ...(etag === undefined ? {} : { CopySourceIfMatch: etag }),
          }),
          { abortSignal: deadline.signal },
        ),
      ),
    { missing: () => undefined },
  );
  if (copied === undefined) {
    throw new BallastError('OBJECT_NOT_FOUND', { message: `No object "${sourceKey}".` });
  }
  if (copied === preconditionFailed) {
    throw new BallastError('PRECONDITION_FAILED', {
      message: `"${sourceKey}" changed after it was checked; nothing was moved.`,
      details: { reason: 'source-changed' },
    });
  }
  // Only the object copied is deleted: a newer one written since is another writer's, and a
  // refused delete (412) leaves it where it is.
  await context.calls.run(
    { operation: 'delete', bucket: context.bucket, key: sourceKey },
    context.timeoutMs,
    signal,
    (deadline) =>
      unlessPreconditionFailed(
        context.client.send(
          new DeleteObjectCommand({
            Bucket: context.bucket,
            Key: sourceKey,
            ...(etag === undefined ? {} : { IfMatch: etag }),
          }),
          { abortSignal: deadline.signal },
        ),
      ),
    { missing: () => undefined },
  );
  const moved = await context.head(targetKey, { signal });
  if (!moved) {
    throw new BallastError('STORAGE_UNAVAILABLE', {
      message: `"${targetKey}" vanished after its copy.`,
    });
  }
  return moved;
}

/** What {@link unlessPreconditionFailed} answers for S3's 412: an answer, not a failure. */
const preconditionFailed = Symbol('precondition failed');

/**
 * `call`, with S3's 412 `PreconditionFailed` (an ETag condition that did not hold) as the
 * answer {@link preconditionFailed} rather than an error, so it neither counts against the
 * circuit breaker nor reads as an outage.
 */
async function unlessPreconditionFailed<T>(
  call: Promise<T>,
): Promise<T | typeof preconditionFailed> {
  try {
    return await call;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata
      ?.httpStatusCode;
    if (status === 412) return preconditionFailed;
    throw error;
  }
}
