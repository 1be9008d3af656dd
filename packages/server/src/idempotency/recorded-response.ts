/**
 * What is kept of a response so a retry can be answered without running the handler again, and
 * how it is played back. Only an allow-list of headers is kept: a replay must not hand one
 * client's `Set-Cookie` to another request, and hop-by-hop headers describe a connection that
 * no longer exists. The record is plain JSON, so every store keeps it the same way.
 */

import { BallastError } from '@ballast/core';
import { invalidArgument } from '@ballast/core/adapter-kit';
import { isObject } from '../options/is-object.js';

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

/**
 * Response headers as Node frameworks hold them (`reply.getHeaders()`, `res.getHeaders()`):
 * names in any case, a value a string, a number or a list (a list is a repeated header).
 */
export type ResponseHeaderRecord = {
  readonly [name: string]: string | number | readonly string[] | undefined;
};

/** A response described by its parts, as a framework adapter holds it. */
export interface ResponseParts {
  readonly status: number;
  /** A web `Headers`, or a plain record (read as `new Headers(...)` would read it, but cheaper). */
  readonly headers: Headers | ResponseHeaderRecord;
  /** The body as sent: bytes, or text (its UTF-8 bytes, as a framework would write it). */
  readonly body: Uint8Array | string;
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
const utf8 = new TextEncoder();
// Any surrogate: a string without one is certainly well-formed UTF-16, so it is its own text.
const surrogate = /[\uD800-\uDFFF]/;

// The last content type looked at: a route answers with one content type, response after response.
let lastContentType = '';
let lastIsText = false;

function isTextMediaType(contentType: string | null): boolean {
  if (contentType === null) return false;
  if (contentType === lastContentType) return lastIsText;
  const semicolon = contentType.indexOf(';');
  const text = textMediaType.test(
    (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim(),
  );
  lastContentType = contentType;
  lastIsText = text;
  return text;
}

function encodeBody(content: Uint8Array | string, contentType: string | null): RecordedBody | null {
  if (content.length === 0) return null;
  const text = isTextMediaType(contentType);
  if (typeof content === 'string') {
    // Text a framework already serialised is kept as it is, without a round trip through bytes.
    if (text && !surrogate.test(content)) return { encoding: 'text', data: content };
    // Otherwise it is recorded as the bytes it is written as (a lone surrogate becomes U+FFFD).
    return encodeBody(utf8.encode(content), contentType);
  }
  const body = content;
  if (text) {
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
  if (
    !isObject(response) ||
    typeof response.status !== 'number' ||
    !isObject(response.headers) ||
    (typeof response.body !== 'string' && !(response.body instanceof Uint8Array))
  ) {
    throw invalidArgument('recordResponse()', 'response', '{ status, headers, body }');
  }
  return recordResponseWith(response, recordableHeaderNames(recordHeaders));
}

/**
 * {@link recordResponse} with the header names already resolved by
 * {@link recordableHeaderNames}, so a guard resolves them once rather than per response.
 *
 * @internal
 */
export function recordResponseWith(
  response: ResponseParts,
  allowed: ReadonlySet<string>,
): RecordedResponse {
  const source = response.headers;
  if (source instanceof Headers) {
    const headers: Array<readonly [string, string]> = [];
    for (const [name, value] of source) {
      // `Headers` iterates lower-case names, joining repeats, except Set-Cookie (one per entry).
      if (allowed.has(name)) headers.push([name, value]);
    }
    return {
      status: response.status,
      headers,
      body: encodeBody(response.body, source.get('content-type')),
    };
  }
  const { headers, contentType } = recordHeaderRecord(source, allowed);
  return { status: response.status, headers, body: encodeBody(response.body, contentType) };
}

/** True for HTTP whitespace, which `Headers` strips from both ends of a value. */
function isHttpWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** A header value as `Headers` would keep it: text, without surrounding whitespace. */
function headerText(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  // Almost every value has no surrounding whitespace: it is checked for, not stripped blindly.
  let start = 0;
  let end = text.length;
  while (start < end && isHttpWhitespace(text.charCodeAt(start))) start++;
  while (end > start && isHttpWhitespace(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/** `name` in lower case, without a new string when it already is (the usual case). */
function lowerCaseName(name: string): string {
  // A header name is short: a look at each character costs less than a regular expression test.
  for (let index = 0; index < name.length; index++) {
    const code = name.charCodeAt(index);
    if (code >= 0x41 && code <= 0x5a) return name.toLowerCase();
  }
  return name;
}

/**
 * Adds one header value to `headers`, kept in name order as `Headers` iterates: a repeated
 * name joins its values with `, `, except Set-Cookie, which keeps one entry per value.
 */
function addHeader(headers: Array<readonly [string, string]>, name: string, value: string): void {
  let index = headers.length;
  while (index > 0 && (headers[index - 1] as readonly [string, string])[0] > name) index--;
  const previous = headers[index - 1];
  if (previous !== undefined && previous[0] === name && name !== 'set-cookie') {
    headers[index - 1] = [name, `${previous[1]}, ${value}`];
    return;
  }
  // Names usually arrive in order, and splice would allocate the (empty) list it removed.
  if (index === headers.length) headers.push([name, value]);
  else headers.splice(index, 0, [name, value]);
}

/**
 * The allow-listed headers of a plain record, exactly as iterating `new Headers(record)` would
 * give them (lower-case names in sorted order, repeats joined with `, ` except Set-Cookie), and
 * its Content-Type, without building a `Headers`.
 */
function recordHeaderRecord(
  source: ResponseHeaderRecord,
  allowed: ReadonlySet<string>,
): { headers: Array<readonly [string, string]>; contentType: string | null } {
  let contentType: string | null = null;
  const headers: Array<readonly [string, string]> = [];
  for (const rawName of Object.keys(source)) {
    const value = source[rawName];
    if (value === undefined) continue;
    const name = lowerCaseName(rawName);
    const isContentType = name === 'content-type';
    const kept = allowed.has(name);
    if (!isContentType && !kept) continue;
    if (typeof value === 'string' || typeof value === 'number') {
      const text = headerText(value);
      if (isContentType) contentType = contentType === null ? text : `${contentType}, ${text}`;
      if (kept) addHeader(headers, name, text);
      continue;
    }
    for (const item of value) {
      const text = headerText(item);
      if (isContentType) contentType = contentType === null ? text : `${contentType}, ${text}`;
      if (kept) addHeader(headers, name, text);
    }
  }
  return { headers, contentType };
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
