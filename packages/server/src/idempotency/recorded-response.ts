/**
 * What is kept of a response so a retry can be answered without running the handler again, and
 * how it is played back. Only an allow-list of headers is kept: a replay must not hand one
 * client's `Set-Cookie` to another request, and hop-by-hop headers describe a connection that
 * no longer exists. The record is plain JSON, so every store keeps it the same way.
 */
import { BallastError } from '@ballast/core';

/** A recorded response body: UTF-8 text when it is text, base64 otherwise. */
export interface RecordedBody {
  readonly encoding: 'text' | 'base64';
  readonly data: string;
}

/** A response as recorded for replay. Plain JSON. */
export interface RecordedResponse {
  readonly status: number;
  /** Allow-listed headers, lower-case names, in the order the response had them. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** `null` for an empty body. */
  readonly body: RecordedBody | null;
}

/** A response described by its parts, as a framework adapter holds it. */
export interface ResponseParts {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/** Headers recorded by default: enough to replay a created resource faithfully. */
export const defaultRecordedHeaders: readonly string[] = ['content-type', 'location', 'etag'];

/** The header a replay carries (draft-ietf-httpapi-idempotency-key-header). */
export const idempotentReplayedHeader = 'idempotent-replayed';

// RFC 9110 §7.6.1 connection-specific fields, plus framing recomputed on replay.
const neverRecorded = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  idempotentReplayedHeader,
]);

/**
 * The set of header names to record, lower-cased. Hop-by-hop and framing headers are dropped
 * even when listed; `set-cookie` is kept only when listed explicitly.
 *
 * @internal
 */
export function recordableHeaderNames(names: readonly string[]): ReadonlySet<string> {
  return new Set(
    names.map((name) => name.toLowerCase()).filter((name) => !neverRecorded.has(name)),
  );
}

const textMediaType =
  /^(?:text\/|application\/(?:[\w.+-]*\+)?(?:json|xml)$|application\/(?:javascript|x-www-form-urlencoded|graphql)$)/i;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function encodeBody(body: Uint8Array, contentType: string | null): RecordedBody | null {
  if (body.byteLength === 0) return null;
  const mediaType = contentType?.split(';')[0]?.trim() ?? '';
  if (textMediaType.test(mediaType)) {
    try {
      return { encoding: 'text', data: strictUtf8.decode(body) };
    } catch {
      // Declared as text but not valid UTF-8: base64 keeps the exact bytes.
    }
  }
  let binary = '';
  const chunk = 0x8000;
  for (let offset = 0; offset < body.byteLength; offset += chunk) {
    binary += String.fromCharCode(...body.subarray(offset, offset + chunk));
  }
  return { encoding: 'base64', data: btoa(binary) };
}

function decodeBody(body: RecordedBody): Uint8Array<ArrayBuffer> {
  if (body.encoding === 'text') return new TextEncoder().encode(body.data);
  const binary = atob(body.data);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/**
 * Records a response for replay: status, the allow-listed headers, and the body (text when the
 * content type is textual and the bytes are UTF-8, base64 otherwise).
 *
 * @param recordHeaders header names to keep. Default `content-type`, `location`, `etag`.
 */
export function recordResponse(
  response: ResponseParts,
  recordHeaders: readonly string[] = defaultRecordedHeaders,
): RecordedResponse {
  const allowed = recordableHeaderNames(recordHeaders);
  const headers: Array<readonly [string, string]> = [];
  for (const [name, value] of response.headers) {
    // `Headers` iterates lower-case names, joining repeats, except Set-Cookie (one per entry).
    if (allowed.has(name)) headers.push([name, value]);
  }
  return {
    status: response.status,
    headers,
    body: encodeBody(response.body, response.headers.get('content-type')),
  };
}

/**
 * True when `value` has the shape of a {@link RecordedResponse}; a record written by something
 * else (another version, the transaction-bound mode with its own result) is not replayed as one.
 *
 * @internal
 */
export function isRecordedResponse(value: unknown): value is RecordedResponse {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<RecordedResponse>;
  const bodyOk =
    candidate.body === null ||
    (typeof candidate.body === 'object' &&
      candidate.body !== undefined &&
      (candidate.body.encoding === 'text' || candidate.body.encoding === 'base64') &&
      typeof candidate.body.data === 'string');
  return (
    Number.isInteger(candidate.status) &&
    (candidate.status as number) >= 200 &&
    (candidate.status as number) <= 599 &&
    Array.isArray(candidate.headers) &&
    candidate.headers.every(
      (pair) => Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string',
    ) &&
    bodyOk
  );
}

/**
 * A `Response` replaying `recorded`: the recorded status, headers and body, plus
 * `Idempotent-Replayed: true`.
 *
 * @example
 * ```ts
 * return replayResponse(recorded); // 201, Location: /sales/7, Idempotent-Replayed: true
 * ```
 */
export function replayResponse(recorded: RecordedResponse): Response {
  if (!isRecordedResponse(recorded)) {
    throw new BallastError('INTERNAL', {
      message: 'replayResponse(): the record is not a recorded response.',
    });
  }
  const headers = new Headers();
  for (const [name, value] of recorded.headers) headers.append(name, value);
  headers.set(idempotentReplayedHeader, 'true');
  // 204, 205 and 304 must not carry a body.
  const bodyless = recorded.status === 204 || recorded.status === 205 || recorded.status === 304;
  const body = bodyless || recorded.body === null ? null : decodeBody(recorded.body);
  return new Response(body, { status: recorded.status, headers });
}
