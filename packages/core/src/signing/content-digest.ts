/**
 * `Content-Digest` (RFC 9530): a hash of the exact body bytes in a standard header. It lets a
 * receiver, a proxy or a log pipeline that does not hold the signing secret check that the
 * body arrived intact, and the strict canonical form signs it, so it cannot be replaced.
 */
import { decodeBase64, encodeBase64 } from '../crypto/byte-encoding.js';
import { timingSafeEqual } from '../crypto/timing-safe-equal.js';

const encoder = new TextEncoder();
/** Algorithms RFC 9530 registers as active; the deprecated ones (md5, sha, crc32…) are ignored. */
const algorithms = { 'sha-256': 'SHA-256', 'sha-512': 'SHA-512' } as const;
type DigestAlgorithm = keyof typeof algorithms;

function bodyBytes(body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  if (typeof body === 'string') return encoder.encode(body);
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
  return `sha-256=:${encodeBase64(await digest('sha-256', bodyBytes(body)))}:`;
}

/**
 * Parses a `Content-Digest` value (an RFC 8941 dictionary of byte sequences) into the members
 * Ballast can check, or `undefined` when the syntax is broken.
 */
function parseContentDigest(value: string): Map<DigestAlgorithm, Uint8Array> | undefined {
  const found = new Map<DigestAlgorithm, Uint8Array>();
  for (const rawMember of value.split(',')) {
    const member = rawMember.trim();
    const match = /^([a-z*][a-z0-9_\-.*]*)=:([A-Za-z0-9+/=]*):(?:;.*)?$/.exec(member);
    if (!match) return undefined;
    const name = match[1] as string;
    const bytes = decodeBase64(match[2] as string);
    if (!bytes) return undefined;
    if (Object.hasOwn(algorithms, name)) {
      if (found.has(name as DigestAlgorithm)) return undefined;
      found.set(name as DigestAlgorithm, bytes);
    }
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
): Promise<ContentDigestProblem | undefined> {
  const members = parseContentDigest(value);
  if (!members) return 'malformed';
  if (members.size === 0) return 'unsupported-algorithm';
  const bytes = bodyBytes(body);
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
  return (await checkContentDigest(value, body)) === undefined;
}
