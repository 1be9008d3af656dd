/**
 * The presign answer of an upload endpoint, checked before a byte of the file leaves the
 * device: a buggy or compromised endpoint must not make the page PUT the file to a
 * `javascript:`/`file:` URL, to an origin the app did not allow, or with headers a browser
 * refuses (XHR throws a DOMException for a malformed name; Node's fetch would send a forged
 * `Cookie` or `Transfer-Encoding`).
 */
import type { BallastError } from '@ballast/core';
import { clientError } from '../errors/client-error.js';

/** What the request endpoint answers: the relevant part of `issueSignedUpload()`'s result. */
export interface UploadTicket {
  upload: { url: string; headers: Record<string, string> };
  token: string;
}

// RFC 9110 token; values without CR, LF or NUL.
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerValue = /^[^\r\n\0]*$/;
// Headers a page may not set (Fetch standard); content-length and host are dropped when sent
// (the platform writes them), these refuse the ticket.
const forbidden =
  /^(accept-(charset|encoding)|access-control-request-.*|connection|cookie2?|date|dnt|expect|keep-alive|origin|referer|set-cookie|te|trailer|transfer-encoding|upgrade|via|sec-.*|proxy-.*)$/i;

function refuse(reason: string): BallastError {
  return clientError('UPSTREAM_ERROR', {
    message: `The upload endpoint's answer was refused: ${reason}.`,
    retryable: false,
  });
}

function checkHeaders(headers: unknown): Record<string, string> {
  if (headers === undefined) return {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw refuse('upload.headers is not an object');
  }
  const entries = Object.entries(headers);
  if (entries.length > 64) throw refuse('upload.headers has too many headers');
  for (const [name, value] of entries) {
    if (!headerName.test(name)) throw refuse('a header name is not valid');
    if (typeof value !== 'string' || value.length > 8_192 || !headerValue.test(value)) {
      throw refuse(`the value of header "${name}" is not valid`);
    }
    if (forbidden.test(name)) {
      throw refuse(`header "${name}" may not be set by a page`);
    }
  }
  return headers as Record<string, string>;
}

function checkUrl(url: unknown, context: TicketContext): string {
  if (typeof url !== 'string' || url.length === 0 || url.length > 16_384) {
    throw refuse('upload.url is missing');
  }
  let parsed: URL;
  try {
    // A relative URL is the page's own origin (the browser resolves it the same way).
    parsed = new URL(url, globalThis.location?.href);
  } catch {
    throw refuse('upload.url is not a URL');
  }
  // `memory:` is core's MemoryObjectStorage presigner, reachable only through a test's own fetch.
  const testStorage = parsed.protocol === 'memory:' && context.customFetch;
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:' && !testStorage) {
    throw refuse('upload.url is not http(s)');
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw refuse('upload.url carries credentials');
  }
  // A page served over https never sends the file in clear text.
  if (globalThis.location?.protocol === 'https:' && parsed.protocol !== 'https:') {
    throw refuse('upload.url is http on an https page');
  }
  const { storageOrigins } = context;
  if (storageOrigins !== undefined && !storageOrigins.includes(parsed.origin)) {
    throw refuse(`storage origin ${parsed.origin} is not in storageOrigins`);
  }
  return url;
}

/** What the ticket is checked against. */
export interface TicketContext {
  /** The origins allowed by `storageOrigins`, when it was given. */
  storageOrigins?: readonly string[] | undefined;
  /** Whether the caller passed its own `fetch` (a test double may serve `memory:` URLs). */
  customFetch: boolean;
}

/** The ticket in `data`, or `UPSTREAM_ERROR` saying what was wrong with it. */
export function parseUploadTicket(data: unknown, context: TicketContext): UploadTicket {
  const ticket = data as { upload?: unknown; token?: unknown } | null | undefined;
  if (typeof ticket !== 'object' || ticket === null || typeof ticket.token !== 'string') {
    throw refuse('expected { upload: { url, headers }, token }');
  }
  const upload = ticket.upload as { url?: unknown; headers?: unknown; method?: unknown } | null;
  if (typeof upload !== 'object' || upload === null) throw refuse('upload is missing');
  if ((upload.method ?? 'PUT') !== 'PUT') throw refuse('upload.method is not PUT');
  return {
    upload: { url: checkUrl(upload.url, context), headers: checkHeaders(upload.headers) },
    token: ticket.token,
  };
}
