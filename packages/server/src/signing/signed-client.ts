/**
 * The API side of seed 003 §4 ("API layer: sign requests"), as a small ky-like client: every
 * call is signed, carries the tenant, the trace and (for writes) an idempotency key, and is
 * retried through core `retry()` when that is safe. Each attempt is signed again with a fresh
 * timestamp (and nonce), so a retry after a slow failure is never refused as expired or as a
 * replay, and the edge's idempotency layer sees one key for all attempts of one call.
 */
import {
  BallastError,
  childSpan,
  createSigner,
  createTraceContext,
  type Logger,
  noopLogger,
  type RetryOptions,
  type RetryPresetName,
  retry,
  type Signer,
  type SignerOptions,
  systemClock,
  type TraceContext,
  traceHeaders,
} from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { z } from 'zod';
import { clockSchema, functionSchema, loggerSchema } from '../options/index.js';
import { currentTraceContext } from '../trace/async-trace-storage.js';
import { signedCallErrorOf } from './signed-call-error.js';

/** Options for {@link createSignedClient}. */
export interface SignedClientOptions extends SignerOptions {
  /** Base URL every path is appended to (`'https://edge.internal/v1'`). Required. */
  baseUrl: string | URL;
  /**
   * A signer from `createSigner()`, instead of the signing options (`secret` or `secrets`,
   * `canonical`, `nonce`, …, see `SignerOptions` in `@ballast/core`). The verifier must use the
   * same format, canonical form and signed headers.
   */
  signer?: Signer;
  /** The `fetch` to call. Default `globalThis.fetch`. */
  fetch?: (request: Request) => Promise<Response>;
  /** Tenant id sent in the tenant header of every call (a call may override it). Default: none. */
  tenantId?: string;
  /** Header carrying the tenant id. Default `'x-tenant-id'`. */
  tenantHeader?: string;
  /**
   * Retry policy for core `retry()`: options or a preset name. `false` disables retries.
   * Default `'mutation'` (500, 1000, 2000 ms). A POST or PATCH is retried only with an
   * idempotency key (see {@link SignedRequestInit.idempotencyKey}).
   */
  retry?: RetryOptions | RetryPresetName | false;
  /**
   * Generate an `Idempotency-Key` (a UUID) for every POST and PATCH that has none, so they are
   * retried safely. Default `false`: only calls that ask (`idempotencyKey: true`) get one.
   */
  generateIdempotencyKeys?: boolean;
  /**
   * The trace to continue: a context, or a function returning the current one. Default: the
   * ambient trace (`currentTraceContext()`, set by `traceContext()` and the Express/Fastify
   * adapters on runtimes with `AsyncLocalStorage`); a new trace when there is none.
   */
  trace?: TraceContext | (() => TraceContext | undefined);
  /** Headers sent with every call (the call's own headers win). */
  headers?: Record<string, string>;
  /**
   * Logs each retry (`warn`: method, path, attempt, delay, code) and each failed call's upstream
   * problem document, which is not copied into the error. Default: none.
   */
  logger?: Logger;
}

/** One call. Give the body as `json` (serialized, content-type set) or as `body`. */
export interface SignedRequestInit {
  /** HTTP method. Default `'GET'`. */
  method?: string;
  /** Headers for this call. */
  headers?: HeadersInit;
  /** A body sent and signed as is: a string (UTF-8) or bytes. */
  body?: string | Uint8Array;
  /** A value sent as JSON (`content-type: application/json`). */
  json?: unknown;
  /** Tenant id for this call, overriding the client's. */
  tenantId?: string;
  /**
   * The call's `Idempotency-Key`: a string to send, or `true` to generate a UUID. One key
   * serves every attempt, so the receiver can run the write once.
   */
  idempotencyKey?: string | true;
  /** Cancels the call, including retries and backoff waits. */
  signal?: AbortSignal;
  /** The trace to continue for this call, overriding the client's. */
  trace?: TraceContext;
}

/** A response promise with ky's body shortcuts. */
export interface ResponsePromise extends Promise<Response> {
  /** The response body parsed as JSON. */
  json<T = unknown>(): Promise<T>;
  /** The response body as text. */
  text(): Promise<string>;
}

/** A client whose every call is signed. */
export interface SignedClient {
  /** Calls `path` (relative to `baseUrl`). Resolves with a 2xx response; throws otherwise. */
  fetch(path: string, init?: SignedRequestInit): ResponsePromise;
  get(path: string, init?: Omit<SignedRequestInit, 'method'>): ResponsePromise;
  post(path: string, init?: Omit<SignedRequestInit, 'method'>): ResponsePromise;
  put(path: string, init?: Omit<SignedRequestInit, 'method'>): ResponsePromise;
  patch(path: string, init?: Omit<SignedRequestInit, 'method'>): ResponsePromise;
  delete(path: string, init?: Omit<SignedRequestInit, 'method'>): ResponsePromise;
}

const clientKeys = new Set([
  'baseUrl',
  'signer',
  'fetch',
  'tenantId',
  'tenantHeader',
  'retry',
  'generateIdempotencyKeys',
  'trace',
  'headers',
  'logger',
]);

const headerName = z
  .string()
  .regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, 'expected an HTTP header name')
  .transform((name) => name.toLowerCase());
const headerValue = z.string().regex(/^[^\r\n\0]*$/, 'expected a single-line header value');

const clientSchema = z.object({
  baseUrl: z.union([z.string(), z.instanceof(URL)]).transform((value, context) => {
    try {
      const url = new URL(value);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
      return url;
    } catch {
      context.addIssue({ code: 'custom', message: 'expected an absolute http(s) URL' });
      return z.NEVER;
    }
  }),
  signer: z
    .custom<Signer>(
      (value) => typeof (value as Partial<Signer> | null)?.sign === 'function',
      'expected a Signer from createSigner()',
    )
    .optional(),
  fetch: functionSchema<(request: Request) => Promise<Response>>('a fetch function').optional(),
  tenantId: headerValue.min(1).max(200).optional(),
  tenantHeader: headerName.default('x-tenant-id'),
  retry: z
    .union([z.literal(false), z.string(), z.custom<RetryOptions>((v) => typeof v === 'object')])
    .default('mutation'),
  generateIdempotencyKeys: z.boolean().default(false),
  trace: z
    .custom<TraceContext | (() => TraceContext | undefined)>(
      (value) =>
        typeof value === 'function' ||
        (typeof value === 'object' &&
          value !== null &&
          typeof (value as TraceContext).traceId === 'string'),
      'expected a TraceContext or a function returning one',
    )
    .optional(),
  headers: z.record(headerName, headerValue).default({}),
  logger: loggerSchema.default(noopLogger),
  clock: clockSchema.default(systemClock),
});

const methodsWithoutBody = new Set(['GET', 'HEAD']);
const methodsNeedingKeys = new Set(['POST', 'PATCH']);

function invalidCall(field: string, problem: string): BallastError {
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid input for the signed client: "${field}": ${problem}`,
    details: { field, issues: [{ field, problem }] },
  });
}

/** `path` appended to the base URL's path: a call can never leave the base URL's origin. */
function urlOf(base: URL, path: string): URL {
  if (typeof path !== 'string') throw invalidCall('path', 'expected a string');
  const prefix = base.href.split(/[?#]/)[0]!.replace(/\/?$/, '/');
  return new URL(`${prefix}${path.replace(/^\/+/, '')}`);
}

function bodyOf(init: SignedRequestInit, headers: Headers): string | Uint8Array<ArrayBuffer> {
  if (init.json !== undefined) {
    if (init.body !== undefined) throw invalidCall('body', 'give either body or json, not both');
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return JSON.stringify(init.json);
  }
  if (init.body === undefined) return '';
  if (typeof init.body !== 'string' && !(init.body instanceof Uint8Array)) {
    // A stream or FormData would be serialized by fetch after signing: its bytes are unknown here.
    throw invalidCall('body', 'expected a string or a Uint8Array (the exact bytes to sign)');
  }
  if (typeof init.body === 'string' || init.body.buffer instanceof ArrayBuffer) {
    return init.body as string | Uint8Array<ArrayBuffer>;
  }
  // A view of a SharedArrayBuffer: copied, since fetch cannot send one.
  return new Uint8Array(init.body);
}

function withBodyHelpers(promise: Promise<Response>): ResponsePromise {
  const responsePromise = promise as ResponsePromise;
  responsePromise.json = async <T>() => (await promise).json() as Promise<T>;
  responsePromise.text = async () => (await promise).text();
  return responsePromise;
}

/**
 * Creates a {@link SignedClient}. Validates options and the secret at once (`INVALID_OPTIONS`),
 * so a missing `INTERNAL_SIGNING_SECRET` fails at start-up, as in the seed.
 *
 * Every call: resolves the URL under `baseUrl`; serializes the body once; sets the tenant
 * header, `traceparent` and `x-request-id` (a child span of the current trace) and the
 * idempotency key; then, per attempt, signs method, path, body and the signed headers with a
 * fresh timestamp and sends. A non-2xx answer throws {@link SignedCallError} carrying the
 * response and the other side's problem `code` (only the code and status: the rest of the
 * upstream problem is logged, never copied into the error's `details`); network failures throw
 * `NETWORK_ERROR`. Redirects are never followed (a signed body must not travel to another
 * URL): a 3xx fails the call with a non-retryable 502 `UPSTREAM_ERROR`.
 *
 * @example
 * ```ts
 * const edge = createSignedClient({
 *   baseUrl: process.env.EDGE_URL!,
 *   secret: process.env.INTERNAL_SIGNING_SECRET!,
 *   canonical: 'strict',
 *   nonce: true,
 *   generateIdempotencyKeys: true,
 * });
 * const contract = await edge
 *   .post('/contracts', { json: { plan_id }, tenantId, idempotencyKey: request.headers['idempotency-key'] })
 *   .json<{ id: string }>();
 * ```
 */
export function createSignedClient(options: SignedClientOptions): SignedClient {
  if (typeof options !== 'object' || options === null) {
    throw invalidCall('(options)', 'expected an object');
  }
  const clientInput: Record<string, unknown> = {};
  const signerInput: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (clientKeys.has(key)) clientInput[key] = value;
    else signerInput[key] = value;
  }
  // The clock serves both the signer and the retries.
  if (options.clock !== undefined) clientInput.clock = options.clock;
  const client = parseOptions(clientSchema, clientInput, 'createSignedClient()');
  if (client.signer && Object.keys(signerInput).some((key) => key !== 'clock')) {
    throw new BallastError('INVALID_OPTIONS', {
      message:
        'Invalid options for createSignedClient(): "signer": give either a signer or the options to create one, not both',
      details: { field: 'signer' },
    });
  }
  const signer = client.signer ?? createSigner(signerInput as unknown as SignerOptions);
  const send = client.fetch ?? ((request: Request) => globalThis.fetch(request));
  const retryOptions: RetryOptions | undefined =
    client.retry === false
      ? undefined
      : typeof client.retry === 'string'
        ? { preset: client.retry as RetryPresetName, clock: client.clock }
        : { clock: client.clock, ...client.retry };
  const traceSource = client.trace;

  function currentTrace(init: SignedRequestInit): TraceContext {
    if (init.trace) return init.trace;
    const found =
      typeof traceSource === 'function' ? traceSource() : (traceSource ?? currentTraceContext());
    return found ?? createTraceContext();
  }

  async function call(path: string, init: SignedRequestInit = {}): Promise<Response> {
    const method = (init.method ?? 'GET').toUpperCase();
    const url = urlOf(client.baseUrl, path);
    const headers = new Headers(client.headers);
    for (const [name, value] of new Headers(init.headers)) headers.set(name, value);
    const body = bodyOf(init, headers);
    const bodyLength = typeof body === 'string' ? body.length : body.byteLength;
    if (methodsWithoutBody.has(method) && bodyLength > 0) {
      throw invalidCall('body', `a ${method} request has no body`);
    }
    const tenantId = init.tenantId ?? client.tenantId;
    if (tenantId !== undefined) headers.set(client.tenantHeader, tenantId);
    const wantsKey =
      init.idempotencyKey === true ||
      (client.generateIdempotencyKeys && methodsNeedingKeys.has(method));
    if (typeof init.idempotencyKey === 'string') {
      headers.set('idempotency-key', init.idempotencyKey);
    } else if (wantsKey && !headers.has('idempotency-key')) {
      headers.set('idempotency-key', crypto.randomUUID());
    }
    // One span for the call: every attempt is the same hop of the same trace.
    const span = childSpan(currentTrace(init));
    for (const [name, value] of Object.entries(traceHeaders(span))) headers.set(name, value);

    const attempt = async (signal: AbortSignal | undefined): Promise<Response> => {
      const signed = new Headers(headers);
      const signature = await signer.sign({ method, path: url.href, headers: signed, body });
      for (const [name, value] of Object.entries(signature)) signed.set(name, value);
      let response: Response;
      try {
        response = await send(
          new Request(url, {
            method,
            headers: signed,
            // A redirect would re-send this signed body to another URL, maybe another origin:
            // never follow one; it fails the call (see signedCallErrorOf).
            redirect: 'manual',
            ...(methodsWithoutBody.has(method) ? {} : { body }),
            ...(signal ? { signal } : {}),
          }),
        );
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new BallastError('NETWORK_ERROR', {
          message: `${method} ${url.href} failed before a response`,
          cause: error,
        });
      }
      if (response.ok) return response;
      throw await signedCallErrorOf(
        response,
        { method, url: url.href },
        client.clock.now(),
        client.logger,
      );
    };

    if (!retryOptions) return attempt(init.signal);
    // The caller's retry listener (new `on.retry` or deprecated `onRetry`) still runs, after the
    // log line; passing both names to retry() at once would be refused as ambiguous.
    const { onRetry: deprecatedOnRetry, on: listeners, ...policy } = retryOptions;
    return retry(({ signal }) => attempt(signal), {
      ...policy,
      ...(init.signal ? { signal: init.signal } : {}),
      request: { method, headers: { 'idempotency-key': headers.get('idempotency-key') ?? '' } },
      on: {
        ...listeners,
        retry: (event) => {
          const code = (event.error as { code?: unknown } | undefined)?.code;
          client.logger.warn(
            {
              traceId: span.traceId,
              method,
              path: url.pathname,
              attempt: event.attempt,
              delayMs: event.delayMs,
              code: typeof code === 'string' ? code : undefined,
            },
            'signed call retrying',
          );
          listeners?.retry?.(event);
          deprecatedOnRetry?.(event);
        },
      },
    });
  }

  const withMethod =
    (method: string) =>
    (path: string, init: Omit<SignedRequestInit, 'method'> = {}) =>
      withBodyHelpers(call(path, { ...init, method }));
  return {
    fetch: (path, init) => withBodyHelpers(call(path, init)),
    get: withMethod('GET'),
    post: withMethod('POST'),
    put: withMethod('PUT'),
    patch: withMethod('PATCH'),
    delete: withMethod('DELETE'),
  };
}
