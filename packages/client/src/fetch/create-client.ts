/**
 * A fetch that behaves on a bad network (seed 002 §2.3, §4.1): every attempt has a timeout, so
 * the UI never hangs; reads are retried with backoff; a write is retried once, with the same
 * `Idempotency-Key`, so the retry can never record it twice; `Retry-After` is honoured; and
 * every error answer arrives as a `BallastError` with a stable code and a message for people.
 */
import { type BallastError, systemClock } from '@ballast/core';
import { clientError } from '../errors/client-error.js';
import { invalidOption } from '../options/option-checks.js';
import {
  type ClientOptions,
  isSendablePath,
  type ParsedClientOptions,
  parseClientOptions,
  parseRequestOptions,
} from './client-options.js';
import { createIdempotencyKey } from './idempotency-key.js';
import { problemError } from './problem-response.js';
import { readBody } from './read-body.js';
import { backoffMs, mayRecover } from './retry-decision.js';

/** Options of one request. */
export interface RequestOptions {
  /** HTTP method. Default `'GET'`. */
  method?: string;
  /**
   * Body. A string, `Blob`, `FormData`, `ArrayBuffer` or `URLSearchParams` is sent as is;
   * anything else is sent as JSON.
   */
  body?: unknown;
  /** Headers of this request, on top of the client's. */
  headers?: Record<string, string>;
  /**
   * The write's `Idempotency-Key`. Writes (POST, PUT, PATCH, DELETE) get a fresh UUID when
   * none is given; `false` sends none, and such a write is never retried.
   */
  idempotencyKey?: string | false;
  /** The version being edited: sent as `If-Match: "<version>"` (a strong ETag). */
  ifMatch?: string | number;
  /** Time allowed for one attempt, in ms. Default: the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Retries of this request. Default: the client's `retry.reads` or `retry.writes`. */
  retries?: number;
  /** Cancels the request and any wait between attempts. */
  signal?: AbortSignal;
}

/** A successful answer. */
export interface ClientResponse<T> {
  /** HTTP status (2xx). */
  status: number;
  headers: Headers;
  /** Parsed JSON, the text of a non-JSON body, or `undefined` for an empty one. */
  data: T;
  /** The server answered from its idempotency record (`Idempotent-Replayed: true`). */
  replayed: boolean;
  /**
   * A read was redirected on its way (fetch followed a 3xx): the answer may not be the API's
   * (a captive portal's sign-in page). Writes are never followed.
   */
  redirected: boolean;
}

/** The client made by {@link createClient}. */
export interface Client {
  /** Sends one request; resolves with a 2xx answer or rejects with a `BallastError`. */
  request<T = unknown>(path: string, options?: RequestOptions): Promise<ClientResponse<T>>;
  /** `GET path`, resolving with the parsed body. */
  get<T = unknown>(path: string, options?: RequestOptions): Promise<T>;
  /** `POST path` with `body`, resolving with the parsed body. */
  post<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  /** `PUT path` with `body`, resolving with the parsed body. */
  put<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  /** `PATCH path` with `body`, resolving with the parsed body. */
  patch<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<T>;
  /** `DELETE path`, resolving with the parsed body. */
  delete<T = unknown>(path: string, options?: RequestOptions): Promise<T>;
  /** The absolute or same-origin URL of `path` under `baseUrl`. */
  url(path: string): string;
}

const readMethods = ['GET', 'HEAD', 'OPTIONS'];

// Every supported platform (browsers, Node ≥ 20.19) has these classes as globals.
const isRawBody = (body: unknown): body is BodyInit =>
  typeof body === 'string' ||
  body instanceof Blob ||
  body instanceof FormData ||
  body instanceof URLSearchParams ||
  body instanceof ArrayBuffer ||
  ArrayBuffer.isView(body);

/**
 * The body as JSON text. A BigInt or a cycle is the caller's error, not a TypeError; so is a
 * function or a Symbol, which JSON.stringify turns into no text at all (the request would go
 * out as JSON with an empty body).
 */
function jsonBody(body: unknown): string {
  let text: string | undefined;
  let cause: unknown;
  try {
    text = JSON.stringify(body);
  } catch (error) {
    cause = error;
  }
  if (text === undefined) {
    throw invalidOption('request()', 'body', 'JSON cannot encode it', undefined, cause);
  }
  return text;
}

/** The page's or worker's location; none in Node, and Deno without `--location` throws on reading it. */
function pageLocation(): Location | undefined {
  try {
    return globalThis.location;
  } catch {
    return undefined;
  }
}

/**
 * Creates a resilient HTTP client over `fetch`.
 *
 * @example
 * ```ts
 * const api = createClient({ baseUrl: 'https://api.example.com' });
 * const sales = await api.get<Sale[]>('/sales');           // retried twice on failure
 * await api.post('/sales', { item: 'coffee', quantity: 1 }); // Idempotency-Key added, retried once
 * ```
 * @throws BallastError `INVALID_OPTIONS` for a wrong option.
 */
export function createClient(options: ClientOptions = {}): Client {
  const config: ParsedClientOptions = parseClientOptions(options);
  const { clock = systemClock, random = Math.random, connectivity, retry: retryOptions } = config;
  const baseUrl = config.baseUrl.replace(/\/+$/, '');

  // A scheme: `https:`, or `mailto:`, which isSendablePath refuses.
  const absoluteUrl = /^[a-z][a-z\d+.-]*:/i;
  const url = (path: string) =>
    absoluteUrl.test(path) ? path : `${baseUrl}${path.startsWith('/') ? '' : '/'}${path}`;

  async function request<T>(path: string, options: RequestOptions = {}) {
    // Outside a page (Node) the platform's fetch has no location to resolve a relative URL
    // against: like another scheme's, its TypeError would read as a network failure, which the
    // queue retries for ever. A fetch of the caller's own may resolve it (a framework's
    // server-side fetch).
    if (!isSendablePath(path) || !(config.fetch || absoluteUrl.test(url(path)) || pageLocation()))
      throw invalidOption(
        'request()',
        'path',
        'expected an http URL, or a path (in Node, with an http baseUrl)',
      );
    const { body, signal, ...call } = parseRequestOptions(options);
    const method = (call.method ?? 'GET').toUpperCase();
    const isRead = readMethods.includes(method);
    const headers = new Headers(config.headers);
    for (const [name, value] of Object.entries(call.headers ?? {})) headers.set(name, value);
    // A write is never followed to another address: fetch would turn a redirected POST into a
    // GET (a login page in front of the API), and its 2xx would be taken as the write's.
    const init: RequestInit = { method, headers, redirect: isRead ? 'follow' : 'manual' };
    if (body !== undefined) {
      // fetch would reject it as a TypeError, which read as a network failure (and offline).
      if (method === 'GET' || method === 'HEAD')
        throw invalidOption('request()', 'body', `a ${method} request cannot have one`);
      if (isRawBody(body)) init.body = body;
      else {
        init.body = jsonBody(body);
        if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      }
    }
    if (!headers.has('accept')) headers.set('accept', 'application/json, application/problem+json');
    const given = call.idempotencyKey;
    // A write gets a fresh key when none is given; `false` sends none.
    const key = given === undefined ? (isRead ? undefined : createIdempotencyKey()) : given;
    // An RFC 9651 String, as the IETF draft defines the header (Ballast's server also takes a
    // bare token, but other servers following the draft may not).
    if (key) headers.set('idempotency-key', `"${key.replace(/[\\"]/g, '\\$&')}"`);
    if (call.ifMatch !== undefined) headers.set('if-match', `"${call.ifMatch}"`);
    // A write without a key is not safe to repeat: it is sent once.
    const retries =
      !isRead && !key ? 0 : (call.retries ?? (isRead ? retryOptions.reads : retryOptions.writes));
    const timeoutMs = call.timeoutMs ?? config.timeoutMs;
    const target = url(path);

    for (let retry = 0; ; retry++) {
      let failure: BallastError;
      // The timer runs until the body is read: a server can send its headers and then stall.
      const controller = new AbortController();
      const abort = () => controller.abort();
      let timedOut = false;
      const cancelTimer = clock.setTimer(() => {
        timedOut = true;
        abort();
      }, timeoutMs);
      signal?.addEventListener('abort', abort, { once: true });
      try {
        const response = await (config.fetch ?? fetch)(target, {
          ...init,
          signal: controller.signal,
        });
        connectivity?.reportSuccess();
        if (response.ok) {
          return {
            status: response.status,
            headers: response.headers,
            data: (await readBody(response)) as T,
            replayed: response.headers.get('idempotent-replayed') === 'true',
            redirected: response.redirected,
          } satisfies ClientResponse<T>;
        }
        failure = await problemError(response, clock.now());
      } catch (cause) {
        if (signal?.aborted) throw clientError('ABORTED', { cause });
        connectivity?.reportFailure();
        // Without a message the error's message is its code.
        failure = clientError(timedOut ? 'TIMEOUT' : 'NETWORK_ERROR', {
          message: timedOut
            ? `No answer from ${method} ${target} within ${timeoutMs} ms`
            : undefined,
          cause,
        });
      } finally {
        cancelTimer();
        signal?.removeEventListener('abort', abort);
      }
      // The caller's own cancellation (`ABORTED`, 499) is never retried.
      if (retry >= retries || !mayRecover(failure)) throw failure;
      const hinted = failure.details.retryAfterMs;
      if (typeof hinted === 'number' && hinted > retryOptions.maxRetryAfterMs) throw failure;
      try {
        await clock.sleep(backoffMs(retryOptions.delaysMs, retry, failure, random), signal);
      } catch (cause) {
        throw clientError('ABORTED', { cause });
      }
    }
  }

  const withBody =
    (method: string) =>
    async <T>(path: string, body?: unknown, requestOptions: RequestOptions = {}) =>
      (await request<T>(path, { ...requestOptions, method, body })).data;
  const withoutBody =
    (method: string) =>
    async <T>(path: string, requestOptions: RequestOptions = {}) =>
      (await request<T>(path, { ...requestOptions, method })).data;

  return {
    request,
    get: withoutBody('GET'),
    post: withBody('POST'),
    put: withBody('PUT'),
    patch: withBody('PATCH'),
    delete: withoutBody('DELETE'),
    url,
  };
}
