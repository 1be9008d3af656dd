/**
 * Presigned URLs for `S3ObjectStorage`: SigV4 signing is local, done by
 * `@aws-sdk/s3-request-presigner`, an optional peer loaded on the first presign only. A PUT
 * binds its content type, length and checksum as signed headers, so S3 refuses a body that
 * differs from what was signed.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BallastError, type PresignedRequest } from '@ballast/core';
import type { S3FailureContext } from './s3-errors.js';

/** Headers a presigned PUT binds: kept as signed headers, never hoisted into the query. */
/** @internal */
export const boundPutHeaders = ['content-type', 'content-length', 'x-amz-checksum-sha256'];

type GetSignedUrl = typeof import('@aws-sdk/s3-request-presigner').getSignedUrl;
let presignerModule: Promise<GetSignedUrl> | undefined;

/**
 * `@aws-sdk/s3-request-presigner`, loaded on the first presign only: an app that never
 * presigns does not need it installed.
 */
export function loadPresigner(): Promise<GetSignedUrl> {
  presignerModule ??= import('@aws-sdk/s3-request-presigner').then(
    (module) => module.getSignedUrl,
    (error: unknown) => {
      presignerModule = undefined;
      throw new BallastError('INVALID_OPTIONS', {
        message:
          'S3ObjectStorage: presigning needs the optional peer dependency "@aws-sdk/s3-request-presigner"; install it next to "@aws-sdk/client-s3"',
        details: { field: '@aws-sdk/s3-request-presigner' },
        cause: error,
      });
    },
  );
  return presignerModule;
}

/** What to presign. */
export interface PresignCall {
  readonly operation: 'presignPut' | 'presignGet';
  readonly bucket: string;
  readonly key: string;
  readonly command: PutObjectCommand | GetObjectCommand;
  readonly expiresInSeconds: number;
  /** The headers the client must send, returned with the URL. */
  readonly headers: Record<string, string>;
  /** When the signature starts, ms since the epoch (from the storage's clock). */
  readonly signedAt: number;
}

/** The options a presign takes, once parsed (`presignOptionsSchema`). */
interface ParsedPresignOptions {
  readonly expiresInSeconds: number;
  readonly contentType?: string | undefined;
  readonly contentLength?: number | undefined;
  readonly checksumSha256?: string | undefined;
}

/**
 * A PUT to presign. The content type (default `application/octet-stream`), and when given the
 * length and checksum, go into the command so they become signed headers.
 */
export function putCall(
  bucket: string,
  key: string,
  options: ParsedPresignOptions,
  signedAt: number,
): PresignCall {
  const contentType = options.contentType ?? 'application/octet-stream';
  const headers: Record<string, string> = { 'content-type': contentType };
  if (options.checksumSha256 !== undefined) {
    headers['x-amz-checksum-sha256'] = options.checksumSha256;
  }
  return {
    operation: 'presignPut',
    bucket,
    key,
    command: new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      ContentType: contentType,
      ...(options.contentLength === undefined ? {} : { ContentLength: options.contentLength }),
      ...(options.checksumSha256 === undefined ? {} : { ChecksumSHA256: options.checksumSha256 }),
    }),
    expiresInSeconds: options.expiresInSeconds,
    headers,
    signedAt,
  };
}

/** A GET to presign. */
export function getCall(
  bucket: string,
  key: string,
  options: ParsedPresignOptions,
  signedAt: number,
): PresignCall {
  return {
    operation: 'presignGet',
    bucket,
    key,
    command: new GetObjectCommand({ Bucket: bucket, Key: key }),
    expiresInSeconds: options.expiresInSeconds,
    headers: {},
    signedAt,
  };
}

/**
 * Signs `call.command`. `report` maps a signing failure (it fails only when credentials cannot
 * be resolved) to the storage's error, and logs it.
 */
export async function presignS3(
  client: S3Client,
  call: PresignCall,
  report: (error: unknown, context: S3FailureContext) => BallastError,
): Promise<PresignedRequest> {
  const { operation, bucket, key, command, expiresInSeconds, headers, signedAt } = call;
  const getSignedUrl = await loadPresigner();
  try {
    const url = await getSignedUrl(client, command, {
      expiresIn: expiresInSeconds,
      signingDate: new Date(signedAt),
      ...(operation === 'presignPut'
        ? {
            signableHeaders: new Set(boundPutHeaders),
            unhoistableHeaders: new Set(boundPutHeaders),
          }
        : {}),
    });
    return {
      url,
      method: operation === 'presignPut' ? 'PUT' : 'GET',
      headers,
      expiresAt: signedAt + expiresInSeconds * 1000,
    };
  } catch (error) {
    // Signing is local; it fails only when credentials cannot be resolved.
    throw report(error, { operation, bucket, key });
  }
}
