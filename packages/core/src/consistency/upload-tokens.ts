/**
 * Upload tokens (seed 000 §2). A guest who may upload one file gets a token naming the row, the
 * key and a deadline, signed with HMAC-SHA256 (WebCrypto) by the server. `confirmUpload` accepts
 * only a token this server signed and whose deadline, checked on the server's clock, has not
 * passed, so a client can neither confirm someone else's upload nor confirm late.
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { fromBase64, toBase64Url } from '../crypto/byte-encoding.js';
import { hmacSha256Key } from '../crypto/hmac-sha256.js';
import { BallastError } from '../errors/ballast-error.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import { portSchema } from './recipe-options.js';

/** What an upload token asserts. */
export interface UploadTokenClaims {
  /** Id of the `pending` row. */
  readonly recordId: string;
  /** Storage key the client uploads to. */
  readonly key: string;
  /** Epoch ms after which the upload can no longer be confirmed. */
  readonly expiresAt: number;
  /** Declared size in bytes, checked by `confirmUpload`. */
  readonly size?: number;
  readonly contentType?: string;
  /** Declared SHA-256 (base64), checked by `confirmUpload`. */
  readonly checksumSha256?: string;
  /**
   * Key the presigned PUT writes to; `confirmUpload` promotes it to {@link key}. Absent in
   * tokens issued before staging existed, which are confirmed at `key` directly.
   */
  readonly stagingKey?: string;
}

/** Signs and verifies upload tokens. */
export interface UploadTokens {
  /** A token for `claims`. */
  sign(claims: UploadTokenClaims): Promise<string>;
  /**
   * The claims of a token this instance (or one sharing a secret) signed. Throws
   * `SIGNATURE_INVALID` for a malformed or forged token and `SIGNATURE_EXPIRED` once
   * `expiresAt` has passed on the clock.
   */
  verify(token: string): Promise<UploadTokenClaims>;
}

/** Options for {@link createUploadTokens}. */
export interface UploadTokensOptions {
  /**
   * HMAC secret, at least 32 bytes. Several for rotation: the first signs, all verify, so a
   * new secret can be put first while tokens signed with the old one are still in flight.
   */
  readonly secret: string | Uint8Array | readonly (string | Uint8Array)[];
  /** Clock for expiry. Default `systemClock`. */
  readonly clock?: Clock;
}

const secretSchema = v.union(
  v.string({ minLength: 32 }),
  v.custom<Uint8Array>(
    (value) => value instanceof Uint8Array && value.length >= 32,
    'a Uint8Array of at least 32 bytes',
  ),
);
const schema = v.object({
  secret: v.union(secretSchema, v.array(secretSchema, { minLength: 1 })),
  clock: v.optional(portSchema<Clock>('a Clock', 'now')),
});

const claimsSchema = v.object({
  i: v.string({ minLength: 1 }),
  k: v.string({ minLength: 1 }),
  e: v.number({ integer: true }),
  s: v.optional(v.number({ integer: true, min: 0 })),
  t: v.optional(v.string()),
  c: v.optional(v.string()),
  u: v.optional(v.string({ minLength: 1 })),
});

const version = 'v1';

function invalidToken(): BallastError {
  return new BallastError('SIGNATURE_INVALID', { message: 'Upload token is not valid.' });
}

/**
 * Creates the signer/verifier for upload tokens used by `issueSignedUpload` and
 * `confirmUpload`.
 *
 * @example
 * ```ts
 * const tokens = createUploadTokens({ secret: process.env.UPLOAD_TOKEN_SECRET! });
 * ```
 */
export function createUploadTokens(options: UploadTokensOptions): UploadTokens {
  const parsed = parseOptions(schema, options, 'createUploadTokens()');
  const clock = parsed.clock ?? systemClock;
  const secrets = Array.isArray(parsed.secret) ? parsed.secret : [parsed.secret];
  const keys = secrets.map((secret) =>
    hmacSha256Key(
      (typeof secret === 'string'
        ? new TextEncoder().encode(secret)
        : secret) as Uint8Array<ArrayBuffer>,
    ),
  );
  const encoder = new TextEncoder();

  return {
    async sign(claims) {
      const payload = toBase64Url(
        encoder.encode(
          JSON.stringify({
            i: claims.recordId,
            k: claims.key,
            e: claims.expiresAt,
            s: claims.size,
            t: claims.contentType,
            c: claims.checksumSha256,
            u: claims.stagingKey,
          }),
        ),
      );
      const signed = `${version}.${payload}`;
      const signature = await keys[0]!.sign(encoder.encode(signed));
      return `${signed}.${toBase64Url(signature)}`;
    },

    async verify(token) {
      if (typeof token !== 'string' || token.length > 8192) throw invalidToken();
      const [prefix, payload, signatureText, ...rest] = token.split('.');
      const signature = fromBase64(signatureText ?? '');
      if (prefix !== version || !payload || !signature || rest.length > 0) throw invalidToken();
      const signed = encoder.encode(`${prefix}.${payload}`);
      let valid = false;
      for (const key of keys) {
        // Compared in constant time.
        if (await key.verify(signature, signed)) {
          valid = true;
          break;
        }
      }
      if (!valid) throw invalidToken();
      let claims: v.Infer<typeof claimsSchema>;
      try {
        claims = parseOptions(
          claimsSchema,
          JSON.parse(new TextDecoder().decode(fromBase64(payload))),
          'verify()',
        );
      } catch {
        throw invalidToken();
      }
      if (clock.now() >= claims.e) {
        throw new BallastError('SIGNATURE_EXPIRED', { message: 'Upload token expired.' });
      }
      return {
        recordId: claims.i,
        key: claims.k,
        expiresAt: claims.e,
        size: claims.s,
        contentType: claims.t,
        ...(claims.c === undefined ? {} : { checksumSha256: claims.c }),
        ...(claims.u === undefined ? {} : { stagingKey: claims.u }),
      };
    },
  };
}
