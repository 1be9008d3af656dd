/**
 * `Content-Digest` (RFC 9530): a hash of the exact body bytes in a standard header. It lets a
 * receiver, a proxy or a log pipeline that does not hold the signing secret check that the
 * body arrived intact, and the strict canonical form signs it, so it cannot be replaced.
 */
import { parseDictionary } from 'structured-headers';
import { encodeBase64 } from '../crypto/byte-encoding.js';
import { timingSafeEqual } from '../crypto/timing-safe-equal.js';
import { BallastError } from '../errors/ballast-error.js';

const encoder = /* @__PURE__ */ new TextEncoder();
/** Algorithms RFC 9530 registers as active; the deprecated ones (md5, sha, crc32…) are ignored. */
const algorithms = { 'sha-256': 'SHA-256', 'sha-512': 'SHA-512' } as const;
type DigestAlgorithm = keyof typeof algorithms;

/**
 * The body's bytes. Anything but a string or bytes is refused: `new Uint8Array(object)` is an
 * empty array, and Express's `req.body` (a parsed object typed `any`) would then "match" the
 * digest of an empty body whatever the request carried.
 */
function bodyBytes(body: string | Uint8Array, where: string): Uint8Array<ArrayBuffer> {
  if (typeof body === 'string') return encoder.encode(body);
  if (!(body instanceof Uint8Array)) {
    throw new BallastError('INVALID_OPTIONS', {
      message: `Invalid options for ${where}: "body": expected the raw body as a string or a Uint8Array`,
      details: { field: 'body' },
    });
  }
  // WebCrypto wants an ArrayBuffer-backed view; copy only when the body sits on something else.
  return body.buffer instanceof ArrayBuffer
    ? (body as Uint8Array<ArrayBuffer>)
    : new Uint8Array(body);
}

async function digest(algorithm: DigestAlgorithm, body: Uint8Array<ArrayBuffer>) {
  return new Uint8Array(await crypto.subtle.digest(algorithms[algorithm], body));
}

/**
 * The `Content-Digest` field value of `body`: `sha-256=:<base64>:`. A string body is hashed as
 * its UTF-8 bytes; give a `Uint8Array` to hash bytes exactly as sent.
 *
 * @example
 * ```ts
 * headers.set('content-digest', await createContentDigest(body));
 * // 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:' for '{"hello": "world"}'
 * ```
 */
export async function createContentDigest(body: string | Uint8Array): Promise<string> {
  const bytes = bodyBytes(body, 'createContentDigest()');
  return `sha-256=:${encodeBase64(await digest('sha-256', bytes))}:`;
}

/** Digest lengths in bytes: a member of another length cannot be a digest of that algorithm. */
const digestBytes: Record<DigestAlgorithm, number> = { 'sha-256': 32, 'sha-512': 64 };

/** Longest value read: every registered algorithm once, with room for parameters. */
const maxContentDigestLength = 4_096;

/**
 * Members of a dictionary as written, counted in one pass: top-level commas outside strings
 * (the only place a comma can hide, since the parser already accepted the syntax).
 */
function countMembers(value: string): number {
  let members = 1;
  let inString = false;
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (inString) {
      if (code === 0x5c) index++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x2c) members++;
  }
  return members;
}

/**
 * Parses a `Content-Digest` value (an RFC 9651 Dictionary of Byte Sequences, read by the
 * `structured-headers` package in one linear pass) into the members Ballast can check, or
 * `undefined` when the value is malformed: not a dictionary, a supported member that is not a
 * byte sequence of its digest's length, or a member name given twice. RFC 9651 keeps the last
 * of two equal names; two digests for one algorithm mean a broken sender, and a proxy that read
 * the first would disagree with a receiver that read the last, so the value is refused instead.
 */
function parseContentDigest(value: string): Map<DigestAlgorithm, Uint8Array> | undefined {
  // A missing header (`undefined`) or a repeated one (Node's `string[]`) is no digest.
  if (typeof value !== 'string' || value.length === 0 || value.length > maxContentDigestLength)
    return undefined;
  let dictionary: ReturnType<typeof parseDictionary>;
  try {
    dictionary = parseDictionary(value);
  } catch {
    return undefined;
  }
  if (dictionary.size !== countMembers(value)) return undefined;
  const found = new Map<DigestAlgorithm, Uint8Array>();
  for (const [name, member] of dictionary) {
    if (!Object.hasOwn(algorithms, name)) continue;
    const algorithm = name as DigestAlgorithm;
    const item = member[0];
    if (!(item instanceof ArrayBuffer) || item.byteLength !== digestBytes[algorithm]) {
      return undefined;
    }
    found.set(algorithm, new Uint8Array(item));
  }
  return found;
}

/** Why {@link checkContentDigest} refused a value. */
export type ContentDigestProblem = 'malformed' | 'unsupported-algorithm' | 'mismatch';

/**
 * Checks `value` against `body`: `undefined` when every supported member (sha-256, sha-512)
 * matches and there is at least one, otherwise the problem.
 */
export async function checkContentDigest(
  value: string,
  body: string | Uint8Array,
  where = 'checkContentDigest()',
): Promise<ContentDigestProblem | undefined> {
  const bytes = bodyBytes(body, where);
  const members = parseContentDigest(value);
  if (!members) return 'malformed';
  if (members.size === 0) return 'unsupported-algorithm';
  for (const [algorithm, expected] of members) {
    const actual = await digest(algorithm, bytes);
    // A digest is not secret, but comparing it in constant time costs nothing.
    if (!timingSafeEqual(actual, expected)) return 'mismatch';
  }
  return undefined;
}

/**
 * True when the `Content-Digest` value `value` matches `body`: every sha-256 and sha-512 member
 * must match and at least one must be present; unknown algorithms are ignored, deprecated ones
 * (md5, sha) never suffice, and a malformed value is `false`.
 *
 * @example
 * ```ts
 * if (!(await verifyContentDigest(request.headers.get('content-digest') ?? '', rawBody))) {
 *   // the body was altered in transit
 * }
 * ```
 */
export async function verifyContentDigest(
  value: string,
  body: string | Uint8Array,
): Promise<boolean> {
  return (await checkContentDigest(value, body, 'verifyContentDigest()')) === undefined;
}
