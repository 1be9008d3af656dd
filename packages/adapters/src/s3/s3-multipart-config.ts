/**
 * Settings of multipart puts (`S3ObjectStorage`'s `multipartThresholdBytes`, `partSizeBytes`)
 * with their validation, S3's multipart limits, and the part size an object gets.
 */

import type { S3Client } from '@aws-sdk/client-s3';
import type { Clock, Logger } from '@ballast/core';
import { z } from 'zod';

const MiB = 1024 * 1024;
/** S3's smallest part (except the last). */
const minPartBytes = 5 * MiB;
/** S3's largest single PutObject, and its largest part. */
const maxSinglePutBytes = 5 * 1024 * MiB;
/** Parts this module accepts as a setting: larger ones would not fit one Node buffer everywhere. */
const maxPartSettingBytes = 1024 * MiB;
/** S3's most parts per upload. */
const maxParts = 10_000;
/** @internal S3's largest object. */
export const maxObjectBytes = 5 * 1024 * 1024 * MiB;

/** Multipart settings of {@link S3ObjectStorage}. */
export interface S3MultipartOptions {
  /**
   * A stream put with a `contentLength` at or above this many bytes is uploaded in parts; below
   * it, with one PutObject. Default 64 MiB; between 5 MiB and 5 GiB (S3's single-PUT limit).
   */
  multipartThresholdBytes?: number;
  /**
   * Size of each part, in bytes. At most two parts are in memory at once. Default 16 MiB;
   * between 5 MiB (S3's minimum) and 1 GiB. Grown automatically when an object would otherwise
   * need more than S3's 10,000 parts.
   */
  partSizeBytes?: number;
}

/** @internal Fields spread into `S3ObjectStorage`'s options schema. */
export const multipartOptionsShape = {
  multipartThresholdBytes: z
    .number()
    .int()
    .min(minPartBytes)
    .max(maxSinglePutBytes)
    .default(64 * MiB),
  partSizeBytes: z
    .number()
    .int()
    .min(minPartBytes)
    .max(maxPartSettingBytes)
    .default(16 * MiB),
};

/** @internal What a multipart put needs from the storage that owns the client. */
export interface MultipartTarget {
  readonly client: S3Client;
  readonly bucket: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Runs one SDK call under the storage's per-call deadline and breaker, with failures mapped
   * to `BallastError`s. `signal` undefined: the call runs even though the caller gave up.
   */
  call<T>(
    signal: AbortSignal | undefined,
    send: (abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T>;
}

/** @internal */
export interface MultipartPut {
  readonly size: number;
  readonly partSizeBytes: number;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
}

/** @internal What a completed multipart put reports. */
export interface MultipartResult {
  readonly etag?: string;
  readonly parts: number;
}

/** @internal True when a put of this body should go up in parts. */
export function usesMultipart(
  body: unknown,
  contentLength: number | undefined,
  thresholdBytes: number,
): body is ReadableStream<Uint8Array> {
  return (
    body instanceof ReadableStream && contentLength !== undefined && contentLength >= thresholdBytes
  );
}

/** The part size for an object: the setting, grown (in whole MiB) to stay within 10,000 parts. */
export function partSizeFor(size: number, partSizeBytes: number): number {
  const needed = Math.ceil(Math.ceil(size / maxParts) / MiB) * MiB;
  return Math.max(partSizeBytes, needed);
}
