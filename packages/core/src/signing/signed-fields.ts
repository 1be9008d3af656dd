/**
 * The small fields a signature binds besides the body (timestamp, nonce, key id, method, path),
 * each with one syntax that the signer produces and the verifier accepts. Keeping the rules in
 * one place is what keeps the canonical forms injective (see `canonical-payload.ts`).
 */
import type { TimestampUnit } from './signing-config.js';

/** RFC 9110 token: what a header name or a method may contain. */
export const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Digits only, so `${timestamp}.` can never absorb part of the body. At most 15 digits: every
 * such value is an exact JavaScript integer even in milliseconds, and a longer one is refused as
 * malformed rather than rounded.
 */
const timestampPattern = /^[0-9]{1,15}$/;
/**
 * Printable ASCII without space, comma or full stop, at most 200 characters. No `.` because the
 * Standard Webhooks payload `id.timestamp.body` would otherwise be ambiguous (its spec warns
 * about this); no comma or space because the value may be joined into a header list.
 */
const noncePattern = /^[\x21-\x2b\x2d\x2f-\x7e]{1,200}$/;
/** Printable ASCII without space or comma, so a key id can sit in a header list. */
const keyIdPattern = /^[\x21-\x2b\x2d-\x7e]{1,64}$/;
/** A request target as sent on the wire: printable ASCII, no spaces (RFC 9112 §3.2). */
const requestTargetPattern = /^[\x21-\x7e]{1,8192}$/;

/** The header value for `epochMs` in `unit` (floored: a timestamp is never in the future). */
export function formatTimestamp(epochMs: number, unit: TimestampUnit): string {
  return String(unit === 's' ? Math.floor(epochMs / 1000) : Math.floor(epochMs));
}

/** Epoch milliseconds of a timestamp header, or `undefined` when it is not digits only. */
export function parseTimestamp(value: string, unit: TimestampUnit): number | undefined {
  if (!timestampPattern.test(value)) return undefined;
  const number = Number(value);
  return unit === 's' ? number * 1000 : number;
}

export function isValidNonce(value: string): boolean {
  return noncePattern.test(value);
}

export function isValidKeyId(value: string): boolean {
  return keyIdPattern.test(value);
}

/** Uppercase method, or `undefined` when it is not an RFC 9110 token. */
export function normalizeMethod(method: string): string | undefined {
  return tokenPattern.test(method) ? method.toUpperCase() : undefined;
}

export function isValidRequestTarget(path: string): boolean {
  return requestTargetPattern.test(path);
}

const placeholderOrigin = 'http://ballast.invalid';

/**
 * The request target (path and query, origin-form) that a fetch of `pathOrUrl` puts on the
 * wire, serialized by the WHATWG URL parser exactly as `fetch` does: percent-encoding applied,
 * dot segments resolved, an empty `?` kept, credentials and fragment dropped. The strict form
 * signs this string; a verifier in a fetch handler passes `requestTargetOf(request.url)`, one
 * behind Node's `http` passes the raw `req.url` (already what was on the wire).
 *
 * Returns `undefined` when `pathOrUrl` is neither a path starting with `/` nor an absolute URL.
 *
 * @example
 * ```ts
 * requestTargetOf('https://edge.internal/contracts/../v1/contracts?x=a b#top');
 * // '/v1/contracts?x=a%20b'
 * ```
 */
export function requestTargetOf(pathOrUrl: string | URL): string | undefined {
  let url: URL;
  try {
    // A leading "/" is a path even when it is "//x" (which alone would parse as a host).
    url =
      typeof pathOrUrl === 'string' && pathOrUrl.startsWith('/')
        ? new URL(`${placeholderOrigin}${pathOrUrl}`)
        : new URL(pathOrUrl);
  } catch {
    // Neither a path nor an absolute URL: the caller decides how to report it.
    return undefined;
  }
  if (url.origin === 'null') return undefined;
  const href = url.href;
  const hashAt = href.indexOf('#', url.origin.length);
  const withoutHash = hashAt === -1 ? href : href.slice(0, hashAt);
  // The target starts at the first "/" after the authority ("//user:pass@host:port"), in which
  // the URL serializer has percent-encoded any "/".
  const authorityEnd = withoutHash.indexOf('/', withoutHash.indexOf('//') + 2);
  return authorityEnd === -1 ? '/' : withoutHash.slice(authorityEnd);
}
