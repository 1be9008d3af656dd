/**
 * Aborting multipart uploads: the one a failed put started, and leftovers of earlier puts of the
 * same key that could not abort their own (the process died, the network was gone), so a
 * retried put leaves no parts behind that S3 would keep, and bill, forever.
 */
import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
} from '@aws-sdk/client-s3';
import { isBallastError } from '@ballast/core';
import type { MultipartTarget } from './s3-multipart-config.js';

/**
 * @internal Aborts incomplete uploads of exactly `key`, left by an earlier put that could not abort its
 * own (the process died, the network went). Best effort: a server without the listing call
 * is logged, not fatal.
 */
export async function abortLeftoverUploads(
  target: MultipartTarget,
  key: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  let listed: ListMultipartUploadsCommandOutput;
  try {
    listed = await target.call(signal, (abortSignal) =>
      target.client.send(
        new ListMultipartUploadsCommand({ Bucket: target.bucket, Prefix: key, MaxUploads: 1000 }),
        { abortSignal },
      ),
    );
  } catch (error) {
    if (isBallastError(error) && error.code === 'ABORTED') throw error;
    target.logger.warn(
      { err: error, key },
      'S3 multipart: could not list incomplete uploads; leftovers, if any, stay',
    );
    return;
  }
  for (const upload of listed.Uploads ?? []) {
    if (upload.Key !== key || upload.UploadId === undefined) continue;
    target.logger.warn(
      { key, uploadId: upload.UploadId },
      'S3 multipart: aborting a leftover upload',
    );
    await abortUpload(target, key, upload.UploadId);
  }
}

/** @internal Aborts an upload, even when the caller's signal aborted; a failure is logged, not thrown. */
export async function abortUpload(
  target: MultipartTarget,
  key: string,
  uploadId: string,
): Promise<void> {
  try {
    await target.call(undefined, (abortSignal) =>
      target.client.send(
        new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: key, UploadId: uploadId }),
        { abortSignal },
      ),
    );
  } catch (error) {
    target.logger.warn(
      { err: error, key, uploadId },
      'S3 multipart: could not abort the upload; the next put of this key aborts it',
    );
  }
}
