/**
 * Presigned URLs for stores that have no server of their own (memory, a local directory). The
 * URL carries the method, key, expiry, content type and, for a PUT, the declared length and
 * SHA-256 of the body, signed with HMAC-SHA256 (WebCrypto), so
 * a test or the demo can play the part of a browser uploading straight to storage, and the
 * store rejects a tampered or expired URL the way S3 does. Nothing listens on these URLs: a test
 * hands the request to {@link LocalPresigner.serve} (or the store's `handlePresigned`).
 */

import { payloadTooLarge, readBodyStream } from '../body/read-body-stream.js';
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { encodeBase64, fromBase64, toBase64Url } from '../crypto/byte-encoding.js';
import { type HmacSha256Key, hmacSha256Key } from '../crypto/hmac-sha256.js';
import { BallastError, isBallastError, toBallastError } from '../errors/ballast-error.js';
import { toProblem } from '../errors/problem.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import { normaliseSha256, sha256 } from './checksum.js';
import { assertObjectKey } from './object-key.js';
import {
  checksumSha256Header,
  defaultPresignedContentType,
  type ObjectStorage,
  type PresignedRequest,
  type PresignOptions,
} from './object-storage.js';

/** Options for {@link LocalPresigner}. */
export interface LocalPresignerOptions {
  /** Start of every URL, without a trailing slash, e.g. `'memory://uploads'`. */
  readonly baseUrl: string;
  /**
   * HMAC secret (at least 32 bytes). Default: 32 random bytes per instance, so URLs are only
   * valid for the store that issued them.
   */
  readonly secret?: string | Uint8Array;
  /** Source of time for expiry. Default `systemClock`. */
  readonly clock?: Clock;
  /**
   * Largest PUT body {@link LocalPresigner.serve} reads when the URL binds no length, in bytes
   * (it holds the body in memory to check it): more answers `413` `PAYLOAD_TOO_LARGE`. A URL
   * that binds `contentLength` reads no more than that. Default 100 MiB.
   */
  readonly maxBodyBytes?: number;
}

/** Default {@link LocalPresignerOptions.maxBodyBytes}: 100 MiB. */
const defaultMaxBodyBytes = 100 * 1024 * 1024;

/** What a verified URL grants. */
export interface PresignedGrant {
  readonly method: 'PUT' | 'GET';
  readonly key: string;
  readonly contentType?: string;
  /** Byte length a PUT must have, when it was declared. */
  readonly contentLength?: number;
  /** SHA-256 (base64) a PUT's body must have, when it was declared. */
  readonly checksumSha256?: string;
  readonly expiresAt: number;
}

const optionsSchema = v.object({
  baseUrl: v.custom<string>(
    (value) => typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^?#]*[^/?#]$/.test(value),
    'a URL without a trailing slash',
  ),
  secret: v.optional(
    v.union(
      v.string({ minLength: 32 }),
      v.custom<Uint8Array>(
        (value) => value instanceof Uint8Array && value.length >= 32,
        'at least 32 bytes',
      ),
    ),
  ),
  clock: v.optional(
    v.custom<Clock>((value) => typeof (value as Clock | undefined)?.now === 'function', 'a Clock'),
  ),
  maxBodyBytes: v.optional(v.number({ integer: true, min: 0, max: Number.MAX_SAFE_INTEGER })),
});

const maxPresignSeconds = 7 * 24 * 3600;
const param = {
  method: 'X-Ballast-Method',
  expires: 'X-Ballast-Expires',
  contentType: 'X-Ballast-Content-Type',
  contentLength: 'X-Ballast-Content-Length',
  checksum: 'X-Ballast-Checksum-Sha256',
  signature: 'X-Ballast-Signature',
} as const;

function invalid(message: string): BallastError {
  return new BallastError('SIGNATURE_INVALID', { message });
}

/**
 * Signs and verifies presigned URLs for local stores. `MemoryObjectStorage` and
 * `FileSystemObjectStorage` use one each; a custom store can too.
 *
 * @example
 * ```ts
 * const presigner = new LocalPresigner({ baseUrl: 'memory://uploads' });
 * const put = await presigner.presign('PUT', 'docs/a.pdf', { expiresInSeconds: 600 });
 * const response = await presigner.serve(storage, new Request(put.url, { method: 'PUT', body }));
 * ```
 */
export class LocalPresigner {
  readonly baseUrl: string;
  readonly #clock: Clock;
  readonly #key: HmacSha256Key;
  readonly #maxBodyBytes: number;

  constructor(options: LocalPresignerOptions) {
    const parsed = parseOptions(optionsSchema, options, 'new LocalPresigner()');
    this.baseUrl = parsed.baseUrl;
    this.#clock = parsed.clock ?? systemClock;
    this.#maxBodyBytes = parsed.maxBodyBytes ?? defaultMaxBodyBytes;
    const secret =
      typeof parsed.secret === 'string'
        ? new TextEncoder().encode(parsed.secret)
        : (parsed.secret ?? crypto.getRandomValues(new Uint8Array(32)));
    this.#key = hmacSha256Key(secret as Uint8Array<ArrayBuffer>);
  }

  /** A URL granting `method` on `key` until `expiresInSeconds` from now. */
  async presign(
    method: 'PUT' | 'GET',
    key: string,
    options: PresignOptions,
  ): Promise<PresignedRequest> {
    assertObjectKey(key);
    const seconds = options?.expiresInSeconds;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > maxPresignSeconds) {
      throw new BallastError('INVALID_OPTIONS', {
        message: `Invalid options for presign${method === 'PUT' ? 'Put' : 'Get'}(): "expiresInSeconds" must be an integer from 1 to ${maxPresignSeconds}`,
        details: { field: 'expiresInSeconds' },
      });
    }
    const expiresAt = this.#clock.now() + seconds * 1000;
    const grant = method === 'PUT' ? putBinding(options) : {};
    const signature = await this.#sign(method, key, expiresAt, grant);
    const query = new URLSearchParams({
      [param.method]: method,
      [param.expires]: String(expiresAt),
    });
    if (grant.contentType !== undefined) query.set(param.contentType, grant.contentType);
    if (grant.contentLength !== undefined) {
      query.set(param.contentLength, String(grant.contentLength));
    }
    if (grant.checksumSha256 !== undefined) query.set(param.checksum, grant.checksumSha256);
    query.set(param.signature, signature);
    const path = urlPathOf(key);
    const headers: Record<string, string> = {};
    if (grant.contentType !== undefined) headers['content-type'] = grant.contentType;
    if (grant.checksumSha256 !== undefined) headers[checksumSha256Header] = grant.checksumSha256;
    return { url: `${this.baseUrl}/${path}?${query.toString()}`, method, headers, expiresAt };
  }

  /**
   * Checks that `url` was issued by this presigner for `method` and has not expired. Throws
   * `SIGNATURE_INVALID` (wrong store, method, key or signature) or `SIGNATURE_EXPIRED`.
   */
  async verify(url: string, method: string): Promise<PresignedGrant> {
    const prefix = `${this.baseUrl}/`;
    const queryStart = url.indexOf('?');
    if (!url.startsWith(prefix) || queryStart < 0) throw invalid('Not a URL of this store.');
    let key: string;
    try {
      key = keyOfUrlPath(url.slice(prefix.length, queryStart));
    } catch {
      throw invalid('Malformed key in presigned URL.');
    }
    const query = new URLSearchParams(url.slice(queryStart + 1));
    const signedMethod = query.get(param.method);
    const expiresAt = Number(query.get(param.expires));
    const contentType = query.get(param.contentType) ?? undefined;
    const lengthText = query.get(param.contentLength);
    const contentLength = lengthText === null ? undefined : Number(lengthText);
    const checksumSha256 = query.get(param.checksum) ?? undefined;
    const signature = fromBase64(query.get(param.signature) ?? '');
    if (
      (signedMethod !== 'PUT' && signedMethod !== 'GET') ||
      !Number.isSafeInteger(expiresAt) ||
      (contentLength !== undefined && !Number.isSafeInteger(contentLength))
    ) {
      throw invalid('Malformed presigned URL.');
    }
    if (signedMethod !== method.toUpperCase()) throw invalid('URL signed for another method.');
    const grant = { contentType, contentLength, checksumSha256 };
    const payload = signedPayload(signedMethod, key, expiresAt, grant);
    const valid = signature !== undefined && (await this.#key.verify(signature, payload));
    if (!valid) throw invalid('Presigned URL signature does not match.');
    // Checked after the signature, so a forged URL cannot learn anything from the answer.
    if (this.#clock.now() >= expiresAt) {
      throw new BallastError('SIGNATURE_EXPIRED', { message: 'Presigned URL expired.' });
    }
    return { method: signedMethod, key, ...definedOnly(grant), expiresAt };
  }

  /**
   * Executes a presigned request against `storage` as the real service would: `200` with the
   * ETag after a PUT, the object after a GET, `403` with a problem+json body for a bad or expired
   * URL, a content type, length or checksum header other than the signed one, `400`
   * (`VALIDATION_FAILED`) for a body whose SHA-256 differs from the signed one (S3's
   * `BadDigest`), `404` for a missing object. A body is read no further than the signed
   * length, or `maxBodyBytes` when none was signed (`413`).
   */
  async serve(storage: ObjectStorage, request: Request): Promise<Response> {
    try {
      const grant = await this.verify(request.url, request.method);
      if (grant.method === 'PUT') {
        const sentType = request.headers.get('content-type') ?? undefined;
        if (grant.contentType !== undefined && sentType !== grant.contentType) {
          throw invalid('Content type differs from the signed one.');
        }
        const sentChecksum = request.headers.get(checksumSha256Header) ?? undefined;
        if (grant.checksumSha256 !== undefined && sentChecksum !== grant.checksumSha256) {
          throw invalid('Checksum header differs from the signed one.');
        }
        const sentLength = request.headers.get('content-length');
        if (
          grant.contentLength !== undefined &&
          sentLength !== null &&
          Number(sentLength) !== grant.contentLength
        ) {
          throw invalid('Content-Length differs from the signed one.');
        }
        const body = await bodyOf(request, grant.contentLength ?? this.#maxBodyBytes, () =>
          grant.contentLength === undefined
            ? payloadTooLarge(this.#maxBodyBytes)
            : invalid('Content-Length differs from the signed one.'),
        );
        if (grant.contentLength !== undefined && body.length !== grant.contentLength) {
          throw invalid('Content-Length differs from the signed one.');
        }
        if (
          grant.checksumSha256 !== undefined &&
          encodeBase64(await sha256(body)) !== grant.checksumSha256
        ) {
          throw new BallastError('VALIDATION_FAILED', {
            message: 'The body does not match the signed SHA-256.',
            details: { field: 'checksumSha256' },
          });
        }
        const info = await storage.put(grant.key, body, {
          contentType: grant.contentType ?? sentType,
          signal: request.signal,
        });
        return new Response(null, { status: 200, headers: info.etag ? { etag: info.etag } : {} });
      }
      const object = await storage.get(grant.key, { signal: request.signal });
      if (!object) throw new BallastError('OBJECT_NOT_FOUND');
      const headers: Record<string, string> = { 'content-length': String(object.size) };
      if (object.contentType) headers['content-type'] = object.contentType;
      if (object.etag) headers.etag = object.etag;
      return new Response(object.body, { status: 200, headers });
    } catch (error) {
      const failure = isBallastError(error) ? error : toBallastError(error);
      return new Response(
        JSON.stringify(toProblem(failure, { instance: request.url.split('?')[0] })),
        {
          status: failure.status,
          headers: { 'content-type': 'application/problem+json' },
        },
      );
    }
  }

  async #sign(method: string, key: string, expiresAt: number, grant: PutBinding): Promise<string> {
    return toBase64Url(await this.#key.sign(signedPayload(method, key, expiresAt, grant)));
  }
}

/**
 * The uploaded bytes, no more than `maxBytes` (past it, `tooLarge()`: the rest is never read, so
 * a long body cannot fill memory). A body that breaks off (the uploader's connection dropped
 * mid-PUT) is the uploader's doing: `ABORTED` (499), like S3 storing nothing, never a 500.
 */
async function bodyOf(
  request: Request,
  maxBytes: number,
  tooLarge: () => BallastError,
): Promise<Uint8Array> {
  if (request.body === null) return new Uint8Array(0);
  try {
    return await readBodyStream(request.body, { maxBytes, tooLarge });
  } catch (error) {
    if (isBallastError(error)) throw error;
    throw new BallastError('ABORTED', {
      message: 'The upload body broke off before its end.',
      cause: error,
    });
  }
}

/**
 * A key as a URL path: each segment percent-encoded, and a `.` or `..` segment followed by a
 * `;`, which no encoded segment ends with. A URL parser (`fetch`, `new Request()`) resolves dot
 * segments, even percent-encoded ones: `a/../b` would arrive as `b` and never match its
 * signature.
 */
function urlPathOf(key: string): string {
  return key
    .split('/')
    .map((segment) =>
      segment === '.' || segment === '..' ? `${segment};` : encodeURIComponent(segment),
    )
    .join('/');
}

/** The key {@link urlPathOf} encoded; throws `URIError` on malformed percent-encoding. */
function keyOfUrlPath(path: string): string {
  return path
    .split('/')
    .map((segment) =>
      segment === '.;' || segment === '..;' ? segment.slice(0, -1) : decodeURIComponent(segment),
    )
    .join('/');
}

/** What a presigned PUT binds besides method, key and expiry. */
interface PutBinding {
  readonly contentType?: string | undefined;
  readonly contentLength?: number | undefined;
  readonly checksumSha256?: string | undefined;
}

/** Validates a PUT's binding and fills the default content type. */
function putBinding(options: PresignOptions): PutBinding {
  const { contentLength, checksumSha256 } = options;
  if (contentLength !== undefined && !(Number.isSafeInteger(contentLength) && contentLength >= 0)) {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'Invalid options for presignPut(): "contentLength" must be a non-negative integer',
      details: { field: 'contentLength' },
    });
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
  if (options.contentType !== undefined && /[\u0000-\u001f\u007f]/.test(options.contentType)) {
    throw new BallastError('INVALID_OPTIONS', {
      message:
        'Invalid options for presignPut(): "contentType" must not contain control characters',
      details: { field: 'contentType' },
    });
  }
  const checksum = checksumSha256 === undefined ? undefined : normaliseSha256(checksumSha256);
  if (checksumSha256 !== undefined && checksum === undefined) {
    throw new BallastError('INVALID_OPTIONS', {
      message:
        'Invalid options for presignPut(): "checksumSha256" must be a SHA-256 in base64 or hex',
      details: { field: 'checksumSha256' },
    });
  }
  return {
    contentType: options.contentType ?? defaultPresignedContentType,
    contentLength,
    checksumSha256: checksum,
  };
}

function signedPayload(
  method: string,
  key: string,
  expiresAt: number,
  grant: PutBinding,
): Uint8Array<ArrayBuffer> {
  // Every field on its own line; an absent one is an empty line, distinct from any value.
  return new TextEncoder().encode(
    [
      method,
      key,
      expiresAt,
      grant.contentType ?? '',
      grant.contentLength ?? '',
      grant.checksumSha256 ?? '',
    ].join('\n'),
  );
}

function definedOnly(grant: PutBinding): Partial<PresignedGrant> {
  return Object.fromEntries(Object.entries(grant).filter(([, value]) => value !== undefined));
}
