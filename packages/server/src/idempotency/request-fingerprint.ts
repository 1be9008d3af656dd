/**
 * The fingerprint of an HTTP request as every Ballast layer computes it, so a fetch handler, an
 * Express app and a Fastify app sharing one store agree on "the same request": method, path with
 * query, and the body — parsed and canonicalised when it is JSON (member order and whitespace
 * do not matter), raw bytes otherwise.
 */
import type { FingerprintOptions } from '@ballast/core';
import {
  type Awaitable,
  fingerprintInSameTick,
  invalidArgument,
  promiseFrom,
} from '@ballast/core/adapter-kit';
import { isObject } from '../options/is-object.js';

/** An HTTP request described by its parts, as a framework adapter sees it. */
export interface RequestFingerprintParts {
  readonly method: string;
  /** Path with query (`/sales?dry=1`) or a full URL. */
  readonly path: string;
  /** The `Content-Type` header; decides whether a raw body is parsed as JSON. */
  readonly contentType?: string | null;
  /**
   * The body as the framework holds it. Bytes or text are the raw body: parsed first when the
   * content type is JSON (falling back to the bytes). Any other value (an object, an array,
   * `null`) is a body the framework already parsed (`express.json()`, Fastify). `undefined`: no body.
   */
  readonly body?: unknown;
  /** A parsed JSON body, explicitly. Wins over `body`. */
  readonly json?: unknown;
  /**
   * The JSON text a parsed `body` (or `json`) was read from, when the adapter kept it. Only
   * number literals a double cannot hold exactly are taken from it, so `9007199254740993` and
   * `9007199254740992` stay two requests even after a framework's parser merged them.
   */
  readonly jsonText?: string;
}

const jsonMediaType = /^application\/(?:[\w.+-]*\+)?json$/i;

/** True for `application/json` and `application/*+json` (parameters ignored); else false. */
export function isJsonContentType(contentType: string | null | undefined): boolean {
  if (!contentType || typeof contentType !== 'string') return false;
  // The usual value, answered without a split, a trim and a regular expression per request.
  if (contentType === 'application/json') return true;
  const semicolon = contentType.indexOf(';');
  return jsonMediaType.test((semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim());
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The body as text when it is UTF-8, else `undefined` (then hashed as raw bytes). */
function utf8Text(body: Uint8Array | string): string | undefined {
  if (typeof body === 'string') return body;
  try {
    return decoder.decode(body);
  } catch {
    // Not UTF-8, so not JSON: the raw bytes are fingerprinted instead.
    return undefined;
  }
}

/**
 * Fingerprint of a request given by its parts. Adapters call it with what their framework holds
 * (a parsed body, or the raw bytes); the result equals {@link requestFingerprint}'s for the same
 * request on the wire.
 */
export function fingerprintRequestParts(
  parts: RequestFingerprintParts,
  options: FingerprintOptions = {},
): Promise<string> {
  return promiseFrom(() => fingerprintPartsChecked(parts, options, 'fingerprintRequestParts()'));
}

/**
 * {@link fingerprintRequestParts}, answered synchronously where the runtime hashes
 * synchronously (Node), so a framework adapter can decide in the same tick.
 *
 * For adapter authors, on `@ballast/server/adapter-kit`.
 */
export function fingerprintPartsInSameTick(
  parts: RequestFingerprintParts,
  options: FingerprintOptions = {},
): Awaitable<string> {
  return fingerprintPartsChecked(parts, options, 'fingerprintPartsInSameTick()');
}

function fingerprintPartsChecked(
  parts: RequestFingerprintParts,
  options: FingerprintOptions,
  where: string,
): Awaitable<string> {
  if (!isObject(parts)) throw invalidArgument(where, 'parts', '{ method, path, body? }');
  const { method, path, jsonText } = parts;
  if (parts.json !== undefined) {
    return fingerprintInSameTick({ method, path, json: parts.json, jsonText }, options);
  }
  const body = parts.body;
  if (body === undefined) return fingerprintInSameTick({ method, path }, options);
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    return fingerprintInSameTick({ method, path, json: body, jsonText }, options);
  }
  if (body.length === 0) return fingerprintInSameTick({ method, path }, options);
  if (isJsonContentType(parts.contentType)) {
    const text = utf8Text(body);
    // Canonicalised from the text; text that is not JSON is hashed as the raw body.
    if (text !== undefined) return fingerprintInSameTick({ method, path, jsonText: text }, options);
  }
  return fingerprintInSameTick({ method, path, body }, options);
}

/**
 * Fingerprint of a web `Request` whose body was already read (a body can be read only once):
 * method, path with query, and `body` (JSON canonicalised when the content type says JSON).
 *
 * @example
 * ```ts
 * const body = new Uint8Array(await request.arrayBuffer());
 * const fp = await requestFingerprint(request, body);
 * ```
 */
export function requestFingerprint(
  request: Request,
  body: Uint8Array,
  options: FingerprintOptions = {},
): Promise<string> {
  if (!isObject(request) || typeof request.url !== 'string' || !isObject(request.headers)) {
    return Promise.reject(invalidArgument('requestFingerprint()', 'request', 'a Request'));
  }
  const url = new URL(request.url);
  return fingerprintRequestParts(
    {
      method: request.method,
      path: url.pathname + url.search,
      contentType: request.headers.get('content-type'),
      body,
    },
    options,
  );
}
