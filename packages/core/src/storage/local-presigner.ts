/**
 * Presigned URLs for stores that have no server of their own (memory, a local directory). The
 * URL carries the method, key, expiry and content type, signed with HMAC-SHA256 (WebCrypto), so
 * a test or the demo can play the part of a browser uploading straight to storage, and the
 * store rejects a tampered or expired URL the way S3 does. Nothing listens on these URLs: a test
 * hands the request to {@link LocalPresigner.serve} (or the store's `handlePresigned`).
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { fromBase64, toBase64Url } from '../crypto/byte-encoding.js';
import { type HmacSha256Key, hmacSha256Key } from '../crypto/hmac-sha256.js';
import { BallastError, isBallastError, toBallastError } from '../errors/ballast-error.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import { assertObjectKey } from './object-key.js';
import type { ObjectStorage, PresignedRequest, PresignOptions } from './object-storage.js';

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
}

/** What a verified URL grants. */
export interface PresignedGrant {
  readonly method: 'PUT' | 'GET';
  readonly key: string;
  readonly contentType?: string;
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
});

const maxPresignSeconds = 7 * 24 * 3600;
const param = {
  method: 'X-Ballast-Method',
  expires: 'X-Ballast-Expires',
  contentType: 'X-Ballast-Content-Type',
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

  constructor(options: LocalPresignerOptions) {
    const parsed = parseOptions(optionsSchema, options, 'new LocalPresigner()');
    this.baseUrl = parsed.baseUrl;
    this.#clock = parsed.clock ?? systemClock;
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
    const contentType = method === 'PUT' ? options.contentType : undefined;
    const signature = await this.#sign(method, key, expiresAt, contentType);
    const query = new URLSearchParams({
      [param.method]: method,
      [param.expires]: String(expiresAt),
    });
    if (contentType !== undefined) query.set(param.contentType, contentType);
    query.set(param.signature, signature);
    const path = key.split('/').map(encodeURIComponent).join('/');
    return {
      url: `${this.baseUrl}/${path}?${query.toString()}`,
      method,
      headers: contentType === undefined ? {} : { 'content-type': contentType },
      expiresAt,
    };
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
      key = url.slice(prefix.length, queryStart).split('/').map(decodeURIComponent).join('/');
    } catch {
      throw invalid('Malformed key in presigned URL.');
    }
    const query = new URLSearchParams(url.slice(queryStart + 1));
    const signedMethod = query.get(param.method);
    const expiresAt = Number(query.get(param.expires));
    const contentType = query.get(param.contentType) ?? undefined;
    const signature = fromBase64(query.get(param.signature) ?? '');
    if ((signedMethod !== 'PUT' && signedMethod !== 'GET') || !Number.isSafeInteger(expiresAt)) {
      throw invalid('Malformed presigned URL.');
    }
    if (signedMethod !== method.toUpperCase()) throw invalid('URL signed for another method.');
    const payload = new TextEncoder().encode(
      `${signedMethod}\n${key}\n${expiresAt}\n${contentType ?? ''}`,
    );
    const valid = signature !== undefined && (await this.#key.verify(signature, payload));
    if (!valid) throw invalid('Presigned URL signature does not match.');
    // Checked after the signature, so a forged URL cannot learn anything from the answer.
    if (this.#clock.now() >= expiresAt) {
      throw new BallastError('SIGNATURE_EXPIRED', { message: 'Presigned URL expired.' });
    }
    return { method: signedMethod, key, contentType, expiresAt };
  }

  /**
   * Executes a presigned request against `storage` as the real service would: `200` with the
   * ETag after a PUT, the object after a GET, `403` with a problem+json body for a bad or expired
   * URL or a content type other than the signed one, `404` for a missing object.
   */
  async serve(storage: ObjectStorage, request: Request): Promise<Response> {
    try {
      const grant = await this.verify(request.url, request.method);
      if (grant.method === 'PUT') {
        const sentType = request.headers.get('content-type') ?? undefined;
        if (grant.contentType !== undefined && sentType !== grant.contentType) {
          throw invalid('Content type differs from the signed one.');
        }
        const body = new Uint8Array(await request.arrayBuffer());
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
        JSON.stringify(failure.toProblem({ instance: request.url.split('?')[0] })),
        {
          status: failure.status,
          headers: { 'content-type': 'application/problem+json' },
        },
      );
    }
  }

  async #sign(
    method: string,
    key: string,
    expiresAt: number,
    contentType: string | undefined,
  ): Promise<string> {
    const payload = new TextEncoder().encode(
      `${method}\n${key}\n${expiresAt}\n${contentType ?? ''}`,
    );
    return toBase64Url(await this.#key.sign(payload));
  }
}
