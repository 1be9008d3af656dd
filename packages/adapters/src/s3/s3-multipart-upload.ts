/**
 * Multipart upload for `S3ObjectStorage.put`: S3 refuses a single PutObject over 5 GiB, and a
 * multi-gigabyte single request is lost whole by one reset connection. A stream whose
 * `contentLength` reaches the threshold goes up as CreateMultipartUpload, UploadPart… and
 * CompleteMultipartUpload instead, with these guarantees:
 *
 * - Bounded memory: at most two parts are held, one being sent while the next is read.
 * - Every part carries its SHA-256 (`x-amz-checksum-sha256`), which S3 verifies on arrival;
 *   after completion the object's composite checksum (when the server reports it) and its size
 *   (HEAD) are compared with what was sent, and a mismatch fails the put.
 * - A part that fails with a retryable error (a reset connection, a timeout, a 5xx) is sent
 *   again from memory, up to three attempts, before the upload fails.
 * - No orphan parts: any failure after the upload was created aborts it (AbortMultipartUpload,
 *   sent even when the caller's signal aborted). When even that cannot reach S3 (the network
 *   is gone), the next multipart put of the same key aborts the leftover upload first, which
 *   is how a retried backup copy cleans up after a cut one.
 */
import { createHash } from 'node:crypto';
import {
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { BallastError, type Clock, isBallastError } from '@ballast/core';
import { contentLengthMismatch, putStreamFailed } from '@ballast/core/adapter-kit';
import { abortLeftoverUploads, abortUpload } from './s3-multipart-cleanup.js';
import {
  type MultipartPut,
  type MultipartResult,
  type MultipartTarget,
  maxObjectBytes,
  partSizeFor,
} from './s3-multipart-config.js';

const partAttempts = 3;
const partRetryDelaysMs = [250, 1_000];

/** @internal Uploads `body` (exactly `options.size` bytes) to `key` in parts. */
export async function putInParts(
  target: MultipartTarget,
  key: string,
  body: ReadableStream<Uint8Array>,
  options: MultipartPut,
): Promise<MultipartResult> {
  if (options.size > maxObjectBytes) {
    await body.cancel().catch(() => {});
    throw new BallastError('PAYLOAD_TOO_LARGE', {
      message: `S3 objects are at most 5 TiB; put of ${key} has ${options.size} bytes`,
      details: { limit: maxObjectBytes },
    });
  }
  const { client, bucket } = target;
  const signal = options.signal;
  const uploadId = await startUpload(target, key, options).catch(async (error: unknown) => {
    // Nothing was sent: release the caller's source, as a failed single PUT does.
    await body.cancel(error).catch(() => {});
    throw error;
  });
  const reader = body.getReader();
  try {
    const partSize = partSizeFor(options.size, options.partSizeBytes);
    const parts = await sendParts(target, key, uploadId, reader, partSize, options);
    const completed = await target.call(signal, (abortSignal) =>
      client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map(({ digest: _digest, ...part }) => part) },
        }),
        { abortSignal },
      ),
    );
    await checkCompleted(target, key, completed.ChecksumSHA256, parts, options);
    return {
      ...(completed.ETag === undefined ? {} : { etag: completed.ETag }),
      parts: parts.length,
    };
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    await abortUpload(target, key, uploadId);
    throw error;
  } finally {
    reader.releaseLock();
  }
}

/** Aborts leftovers of this key, then creates the upload; resolves with its id. */
async function startUpload(
  target: MultipartTarget,
  key: string,
  options: MultipartPut,
): Promise<string> {
  await abortLeftoverUploads(target, key, options.signal);
  const created = await target.call(options.signal, (abortSignal) =>
    target.client.send(
      new CreateMultipartUploadCommand({
        Bucket: target.bucket,
        Key: key,
        ChecksumAlgorithm: 'SHA256',
        ...(options.contentType === undefined ? {} : { ContentType: options.contentType }),
      }),
      { abortSignal },
    ),
  );
  if (created.UploadId === undefined) {
    throw new BallastError('STORAGE_UNAVAILABLE', {
      message: `S3 put of ${target.bucket}/${key}: CreateMultipartUpload returned no upload id`,
    });
  }
  return created.UploadId;
}

type SentPart = CompletedPart & { readonly digest: Buffer };

/**
 * Reads the source into one part buffer while the previous part is sent from the other, so at
 * most two parts are in memory. The source must have exactly `options.size` bytes.
 */
async function sendParts(
  target: MultipartTarget,
  key: string,
  uploadId: string,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  partSize: number,
  options: MultipartPut,
): Promise<SentPart[]> {
  // No part is larger than the object: a small object under a large setting gets small buffers.
  const bufferSize = Math.min(partSize, options.size);
  const buffers = [Buffer.allocUnsafe(bufferSize), Buffer.allocUnsafe(bufferSize)];
  const parts: SentPart[] = [];
  let inFlight: Promise<SentPart> | undefined;
  let started = 0;
  let filled = 0;
  let total = 0;
  const flush = async () => {
    // The buffer filled next is the one the previous part was sent from: wait for that first.
    if (inFlight) parts.push(await inFlight);
    const bytes = buffers[started % 2]!.subarray(0, filled);
    started++;
    inFlight = sendPart(target, key, uploadId, started, bytes, options.signal);
    // Keeps a failure from being unhandled while the next part is read; it is awaited above.
    inFlight.catch(() => {});
    filled = 0;
  };
  try {
    for (;;) {
      if (options.signal?.aborted) throw abortedPut(key, options.signal);
      const { done, value } = await readSource(reader, key);
      if (done) break;
      total += value.byteLength;
      if (total > options.size)
        throw contentLengthMismatch(options.size, `more than ${options.size}`);
      let offset = 0;
      while (offset < value.byteLength) {
        const take = Math.min(bufferSize - filled, value.byteLength - offset);
        buffers[started % 2]!.set(value.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === bufferSize && total < options.size) await flush();
      }
    }
    if (total !== options.size) throw contentLengthMismatch(options.size, String(total));
    if (filled > 0) await flush();
    if (inFlight) parts.push(await inFlight);
    return parts;
  } catch (error) {
    // Abort only once no part is still arriving, or S3 may keep that part after the abort.
    await inFlight?.catch(() => {});
    throw error;
  }
}

async function readSource(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  key: string,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  try {
    return await reader.read();
  } catch (error) {
    // The caller's stream failed: S3 did nothing wrong.
    throw putStreamFailed(key, error);
  }
}

/** One UploadPart with its SHA-256; a retryable failure is sent again, up to three attempts. */
async function sendPart(
  target: MultipartTarget,
  key: string,
  uploadId: string,
  number: number,
  bytes: Uint8Array,
  signal: AbortSignal | undefined,
): Promise<SentPart> {
  const digest = createHash('sha256').update(bytes).digest();
  const checksum = digest.toString('base64');
  for (let attempt = 1; ; attempt++) {
    try {
      const output = await target.call(signal, (abortSignal) =>
        target.client.send(
          new UploadPartCommand({
            Bucket: target.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber: number,
            Body: bytes,
            ContentLength: bytes.byteLength,
            ChecksumSHA256: checksum,
          }),
          { abortSignal },
        ),
      );
      if (output.ChecksumSHA256 !== undefined && output.ChecksumSHA256 !== checksum) {
        throw new BallastError('UPLOAD_FAILED', {
          message: `S3 put of ${key}: part ${number} was stored with another checksum`,
          retryable: false,
        });
      }
      return { PartNumber: number, ETag: output.ETag, ChecksumSHA256: checksum, digest };
    } catch (error) {
      const retryable = isBallastError(error) && error.retryable && error.code !== 'ABORTED';
      if (!retryable || attempt >= partAttempts || signal?.aborted) throw error;
      target.logger.warn(
        { key, part: number, attempt, code: error.code },
        'S3 multipart: part failed; sending it again',
      );
      await sleep(target.clock, partRetryDelaysMs[attempt - 1] ?? 1_000, signal);
    }
  }
}

/** Checks what S3 assembled: the composite checksum when reported, and the size by HEAD. */
async function checkCompleted(
  target: MultipartTarget,
  key: string,
  reported: string | undefined,
  parts: readonly SentPart[],
  options: MultipartPut,
): Promise<void> {
  const composite = `${createHash('sha256')
    .update(Buffer.concat(parts.map((part) => part.digest)))
    .digest('base64')}-${parts.length}`;
  let problem: string | undefined;
  if (reported !== undefined && reported !== composite) {
    problem = `checksum ${reported}, expected ${composite}`;
  } else {
    const head = await target.call(options.signal, (abortSignal) =>
      target.client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key }), {
        abortSignal,
      }),
    );
    if (head.ContentLength !== options.size) {
      problem = `size ${head.ContentLength ?? 'unknown'}, expected ${options.size}`;
    }
  }
  if (problem === undefined) return;
  // A put that fails must not leave a wrong object behind under the key.
  await target
    .call(undefined, (abortSignal) =>
      target.client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: key }), {
        abortSignal,
      }),
    )
    .catch((error: unknown) => {
      target.logger.warn(
        { err: error, key },
        'S3 multipart: could not delete a mismatching object',
      );
    });
  throw new BallastError('UPLOAD_FAILED', {
    message: `S3 put of ${key}: the assembled object does not match what was sent (${problem})`,
    details: { key },
  });
}

function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const cancel = clock.setTimer(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function abortedPut(key: string, signal: AbortSignal): BallastError {
  return new BallastError('ABORTED', {
    message: `S3 put of ${key} was aborted by the caller`,
    cause: signal.reason,
  });
}
