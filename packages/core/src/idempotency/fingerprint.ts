/**
 * The fingerprint of a request: what makes two requests "the same request" for idempotency. A
 * retry with the same key and the same fingerprint is replayed; the same key with another
 * fingerprint is a client bug (a key reused for a different payload) and is refused with 422
 * instead of silently answering with another request's result.
 *
 * It covers the method, the path with its query, and the body. A JSON body is canonicalised
 * (member order and whitespace do not matter, types do), so an Express process that sees a
 * parsed body and a Fastify or fetch process that sees raw bytes agree on one fingerprint.
 * SHA-256 comes from WebCrypto, so this runs in Node, browsers and edge runtimes alike.
 */
import { decodeHex, encodeHex, toBase64Url } from '../crypto/byte-encoding.js';
import { nativeCrypto } from '../crypto/native-crypto.js';
import { BallastError } from '../errors/ballast-error.js';
import { type Awaitable, isPromiseLike, promiseFrom } from './awaitable.js';
import {
  canonicalJson,
  canonicalJsonParsedFrom,
  canonicalJsonText,
  defaultMaxJsonDepth,
} from './canonical-json.js';

/** What {@link fingerprint} hashes. Give `body` (raw bytes or text) or a JSON body (`json`, `jsonText`), not both. */
export interface FingerprintInput {
  /** HTTP method; case does not matter. */
  readonly method: string;
  /**
   * Request target: a path with its query (`/sales?dryRun=1`) or a full URL (only its path and
   * query count). Normalised the way the WHATWG URL parser does, so `/a b` and `/a%20b` agree.
   */
  readonly path: string;
  /**
   * The raw body as sent: bytes, or text (hashed as its UTF-8 bytes). An empty body counts as no
   * body, as on the wire.
   */
  readonly body?: string | ArrayBuffer | ArrayBufferView;
  /**
   * The parsed JSON body. Canonicalised before hashing. `null` is a body; `undefined` (or leaving
   * the member out) is no body.
   */
  readonly json?: unknown;
  /**
   * A JSON body as the text that was sent. Canonicalised from the text, so number literals a
   * double cannot hold (`9007199254740993`, `1e400`) keep their exact value; when the text is not
   * JSON it is hashed as the raw body (its UTF-8 bytes), as `body` would be. May be given with
   * `json` when the caller already parsed it (`json` must then be `JSON.parse(jsonText)`): the
   * parsed value is used and the text only read for exact numbers, which saves a parse.
   */
  readonly jsonText?: string;
}

/** Options for {@link fingerprint}. */
export interface FingerprintOptions {
  /** Output alphabet: `'hex'` (64 characters, default) or `'base64url'` (43 characters). */
  readonly encoding?: 'hex' | 'base64url';
  /**
   * The SHA-256 implementation: the 32-byte digest, or the same digest as 64 lower-case hex
   * characters. Default: Node's synchronous `crypto.hash` where the runtime has it, else
   * WebCrypto's `crypto.subtle.digest`; any correct SHA-256 gives the same fingerprint.
   */
  readonly sha256?: (message: Uint8Array) => Uint8Array | string | Promise<Uint8Array | string>;
  /**
   * Deepest nesting of arrays and objects in a JSON body. Deeper bodies throw
   * `BallastError('VALIDATION_FAILED')` (400, `details.reason: 'too-deep'`). Default 256.
   */
  readonly maxDepth?: number;
}

const webCryptoSha256 = async (message: Uint8Array): Promise<Uint8Array> =>
  new Uint8Array(
    await globalThis.crypto.subtle.digest('SHA-256', message as Uint8Array<ArrayBuffer>),
  );

// Read once. The call is marked pure because a bundler cannot tell a property read has no effect.
const nativeHash = /* @__PURE__ */ (() => nativeCrypto.hash)();
const defaultSha256: NonNullable<FingerprintOptions['sha256']> = nativeHash
  ? (message) => nativeHash('sha256', message, 'hex')
  : webCryptoSha256;

/**
 * Hashes a message that is text. Node's hash takes the text itself and encodes it as UTF-8
 * natively, which spares a `TextEncoder` copy of every JSON body; any other SHA-256 gets the
 * bytes. Both hash the same bytes, so the fingerprint does not depend on the path taken.
 */
function sha256OfText(
  text: string,
  sha256: FingerprintOptions['sha256'],
): Awaitable<Uint8Array | string> {
  if (sha256 === undefined && nativeHash) return nativeHash('sha256', text, 'hex');
  return (sha256 ?? defaultSha256)(encoder.encode(text));
}

// Bumped if the hashed form ever changes, so old and new fingerprints can never collide.
const formatTag = 'ballast-idempotency-fingerprint/1';
const encoder = /* @__PURE__ */ new TextEncoder();
// RFC 9110 token: what an HTTP method may be made of.
const methodToken = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

// A target the WHATWG URL parser returns unchanged: one leading slash (two would start an
// authority), path and query made only of characters neither component percent-encodes, no
// backslash, no fragment, and no dot segment (`.`, `..`, `%2e`) to resolve.
const plainTarget = /^\/(?!\/)[\w\-.~!$&()*+,;=:@%/]*(?:\?[\w\-.~!$&()*+,;=:@%/?]*)?$/;
const dotSegment = /(?:^|\/)(?:\.|%2e)/i;

function canonicalTarget(path: string): string {
  // Most targets are already in canonical form; parsing a URL per request is costly.
  if (plainTarget.test(path)) {
    const query = path.indexOf('?');
    const pathname = query < 0 ? path : path.slice(0, query);
    if (!dotSegment.test(pathname)) return query === path.length - 1 ? pathname : path;
  }
  const url = new URL(path, 'http://fingerprint.invalid');
  return url.pathname + url.search;
}

/** The last head built: a route's requests keep sending one method and one path. */
let lastHead = { method: '', path: '', text: '' };

/** The hashed form's header: format tag, method and canonical target, each on its line. */
function headOf(method: string, path: string): string {
  const last = lastHead;
  if (method === last.method && path === last.path) return last.text;
  const text = `${formatTag}\n${method.toUpperCase()}\n${canonicalTarget(path)}\n`;
  lastHead = { method, path, text };
  return text;
}

/**
 * What is hashed for the body: the canonical text of a JSON body (a string), or the raw bytes
 * (empty for no body). JSON text that does not parse is hashed as the raw body it is.
 */
function bodyToHash(input: FingerprintInput, maxDepth: number): string | Uint8Array {
  const given =
    Number(input.json !== undefined || input.jsonText !== undefined) +
    Number(input.body !== undefined);
  if (given > 1) {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'fingerprint(): give either "body" or a JSON body ("json", "jsonText"), not both.',
      details: { field: 'json' },
    });
  }
  if (input.jsonText !== undefined && typeof input.jsonText !== 'string') {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'fingerprint(): "jsonText" must be a string.',
      details: { field: 'jsonText' },
    });
  }
  if (input.json !== undefined) {
    return input.jsonText === undefined
      ? canonicalJson(input.json, maxDepth)
      : canonicalJsonParsedFrom(input.json, input.jsonText, maxDepth);
  }
  let raw = input.body;
  if (input.jsonText !== undefined) {
    const canonical =
      input.jsonText.length === 0 ? undefined : canonicalJsonText(input.jsonText, maxDepth);
    if (canonical !== undefined) return canonical;
    raw = input.jsonText;
  }
  if (raw === undefined) return new Uint8Array(0);
  if (typeof raw === 'string') return encoder.encode(raw);
  if (raw instanceof ArrayBuffer) return new Uint8Array(raw);
  if (ArrayBuffer.isView(raw)) return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  throw new BallastError('INVALID_OPTIONS', {
    message: 'fingerprint(): "body" must be a string, an ArrayBuffer or a typed array.',
    details: { field: 'body' },
  });
}

/**
 * SHA-256 fingerprint of a request's method, path (with query) and body.
 *
 * - Stable under JSON member order and whitespace (`{"a":1,"b":2}` ≡ `{ "b": 2, "a": 1 }`).
 * - Sensitive to every value and type: `1` vs `"1"`, `null` vs a missing member, array order.
 * - Raw `body` and `json` are different kinds of body and never collide with each other.
 *
 * @example
 * ```ts
 * const fp = await fingerprint({ method: 'POST', path: '/sales', json: { total: 12.5 } });
 * ```
 */
export function fingerprint(
  input: FingerprintInput,
  options: FingerprintOptions = {},
): Promise<string> {
  return promiseFrom(() => fingerprintInSameTick(input, options));
}

/**
 * {@link fingerprint}, answered synchronously when the SHA-256 is (Node's is; WebCrypto's is
 * not), so a server adapter can decide in the same tick. Throws rather than rejects on bad
 * input when it answers synchronously.
 *
 * For adapter authors, on `@ballast/core/adapter-kit`.
 */
export function fingerprintInSameTick(
  input: FingerprintInput,
  options: FingerprintOptions = {},
): Awaitable<string> {
  // A method the last head was built for passed the token test already.
  if (
    typeof input?.method !== 'string' ||
    (input.method !== lastHead.method && !methodToken.test(input.method))
  ) {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'fingerprint(): "method" must be an HTTP method token.',
      details: { field: 'method' },
    });
  }
  if (typeof input.path !== 'string') {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'fingerprint(): "path" must be a string.',
      details: { field: 'path' },
    });
  }
  const maxDepth = options.maxDepth ?? defaultMaxJsonDepth;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'fingerprint(): "maxDepth" must be a positive integer.',
      details: { field: 'maxDepth' },
    });
  }
  const body = bodyToHash(input, maxDepth);
  // Method and path cannot contain a newline (the URL parser strips them), so the header is
  // unambiguous, and the body comes last, so no body can imitate another header.
  const head = headOf(input.method, input.path);
  let digest: Awaitable<Uint8Array | string>;
  if (typeof body === 'string') {
    // A JSON body is text: head and body are hashed as one text.
    digest = sha256OfText(`${head}json\n${body}`, options.sha256);
  } else if (body.byteLength === 0) {
    digest = sha256OfText(`${head}none\n`, options.sha256);
  } else {
    const headBytes = encoder.encode(`${head}bytes\n`);
    const message = new Uint8Array(headBytes.byteLength + body.byteLength);
    message.set(headBytes, 0);
    message.set(body, headBytes.byteLength);
    digest = (options.sha256 ?? defaultSha256)(message);
  }
  if (!isPromiseLike(digest)) return encodeDigest(digest, options.encoding);
  return digest.then((value) => encodeDigest(value, options.encoding));
}

function encodeDigest(
  digest: Uint8Array | string,
  encoding: FingerprintOptions['encoding'],
): string {
  if (typeof digest === 'string') {
    if (encoding !== 'base64url') return digest;
    const bytes = decodeHex(digest);
    if (!bytes) {
      throw new BallastError('INVALID_OPTIONS', {
        message: 'fingerprint(): "sha256" returned a string that is not hex.',
        details: { field: 'sha256' },
      });
    }
    return toBase64Url(bytes);
  }
  return encoding === 'base64url' ? toBase64Url(digest) : encodeHex(digest);
}
