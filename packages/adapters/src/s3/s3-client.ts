/**
 * The S3 client `S3ObjectStorage` builds when it is given none. It turns the SDK's default
 * request and response checksums down to `WHEN_REQUIRED`: with the defaults a streamed
 * PutObject is sent with aws-chunked framing and trailing checksums, which S3-compatible
 * servers that do not decode it (s3rver, older MinIO) store verbatim, framing included: a
 * corrupted object. The SDK's own retries are off (`maxAttempts: 1`) so `retry()` decides.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { type Logger, noopLogger } from '@ballast/core';
import type { S3ObjectStorageOptions } from './s3-object-storage-config.js';

/** A client for the given options (endpoint, region, credentials, path style, attempts). */
export function createS3Client(
  options: Pick<
    S3ObjectStorageOptions,
    'endpoint' | 'region' | 'credentials' | 'forcePathStyle' | 'maxAttempts' | 'logger'
  >,
): S3Client {
  return new S3Client({
    region: options.region ?? 'us-east-1',
    maxAttempts: options.maxAttempts ?? 1,
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Without a logger the SDK warns on the console for some failures; route it to ours.
    logger: sdkLoggerFor(options.logger ?? noopLogger),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
}

/** The SDK's logger shape, forwarded to `logger.debug`: the adapter logs what matters itself. */
function sdkLoggerFor(logger: Logger) {
  const forward = (...content: unknown[]) =>
    logger.debug({ source: '@aws-sdk/client-s3' }, content.map(String).join(' '));
  return { debug: () => {}, info: () => {}, warn: forward, error: forward };
}
