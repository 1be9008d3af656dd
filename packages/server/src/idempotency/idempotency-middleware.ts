/**
 * Idempotency for a web-standard fetch handler (Hono, Workers, Deno, Bun, Node's `Request`):
 * wraps the handler so a retried or duplicated write runs once and every later copy gets the
 * recorded answer. The response sent to the first client is the handler's own (all headers);
 * replays carry only the allow-listed headers plus `Idempotent-Replayed: true`.
 *
 * What the client got decides what is recorded, however the handler produced it: a
 * `BallastError` the handler throws is answered as problem+json with its status here, exactly as
 * the Express and Fastify error handlers answer it, so a thrown 4xx is recorded on every adapter
 * alike; any other error releases the key and propagates to the host.
 */
import { isBallastError } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { z } from 'zod';
import { problemResponse } from '../errors/problem-response.js';
import { requestContentCoding } from '../http/content-coding.js';
import { decodeRequestBody } from '../http/decode-request-body.js';
import type { FetchHandler, WrappedHandler } from '../http/fetch-handler.js';
import { readRequestBody } from '../http/read-request-body.js';
import { functionSchema } from '../options/index.js';
import { createIdempotencyGuard } from './idempotency-guard.js';
import {
  type IdempotencyGuardOptions,
  type IdempotentExecution,
  idempotencyScopeOptionSchema,
} from './idempotency-guard-config.js';
import { idempotencyKeyHeader } from './idempotency-key-header.js';
import { replayResponse } from './recorded-response.js';
import { requestFingerprint } from './request-fingerprint.js';

/** Options for {@link idempotency}. */
export interface IdempotencyMiddlewareOptions<Context = object> extends IdempotencyGuardOptions {
  /**
   * Whether a keyed method must carry an `Idempotency-Key` (missing → 400). A function decides
   * per request (per route). Default `false`: requests without a key run unguarded (seed 002
   * §4.2: the header is optional).
   */
  required?: boolean | ((request: Request) => boolean);
  /**
   * Tenant or user the key belongs to, e.g. `(request) => request.headers.get('x-tenant-id')`.
   * Required: pass `'global'` explicitly to share every key between all callers. A value that is
   * not a string of 1–255 characters answers 400 `VALIDATION_FAILED`.
   */
  scope: 'global' | ((request: Request, context: Context | undefined) => string | Promise<string>);
}

const middlewareSchema = z.object({
  required: z.union([z.boolean(), functionSchema('a function of the request')]).default(false),
  scope: idempotencyScopeOptionSchema,
});

/**
 * Reads the handler's response body, up to `maxBytes`. Within the bound, the bytes are recorded
 * and sent; past it, the response is streamed on (bytes read so far first) and `onStreamEnd`
 * runs once the stream ends, fails or is cancelled, so the key is released only after the
 * handler's response is truly over.
 */
async function captureBody(
  response: Response,
  maxBytes: number,
  onStreamEnd: () => unknown,
): Promise<{ bytes: Uint8Array<ArrayBuffer> } | { stream: ReadableStream<Uint8Array> }> {
  if (response.body === null) return { bytes: new Uint8Array(0) };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
    if (total > maxBytes) break;
  }
  if (total <= maxBytes) {
    const bytes = new Uint8Array(total);
    let offset = 0;
    for (const chunk of chunks) {
      bytes.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return { bytes };
  }
  let ended = false;
  const end = async () => {
    if (ended) return;
    ended = true;
    await onStreamEnd();
  };
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          await end();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        controller.error(error);
        await end();
      }
    },
    async cancel(reason) {
      await reader.cancel(reason).catch(() => {
        // The consumer is gone either way; the key is released below.
      });
      await end();
    },
  });
  return { stream };
}

/**
 * The request the handler gets: the same request carrying the bytes read, decoded. A body that
 * was compressed arrives inflated, without its `Content-Encoding` and `Content-Length`, as a
 * Node route behind `express.json()` gets it. A request that never had a body goes on as it is.
 */
function forwardedRequest(request: Request, body: Uint8Array | undefined): Request {
  if (request.body === null) return request;
  const init: RequestInit = { body: ownBuffer(body ?? new Uint8Array(0)) };
  if (requestContentCoding(request.headers.get('content-encoding')) !== 'identity') {
    const headers = new Headers(request.headers);
    headers.delete('content-encoding');
    headers.delete('content-length');
    init.headers = headers;
  }
  return new Request(request, init);
}

/** The same bytes typed as a `BodyInit` (a view over a shared buffer is copied). */
function ownBuffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
}

async function finishWith(
  execution: IdempotentExecution,
  response: Response,
  maxResponseBytes: number,
): Promise<Response> {
  const parts = { status: response.status, headers: response.headers };
  const captured = await captureBody(response, maxResponseBytes, () =>
    execution.finish({ ...parts, body: null }),
  );
  const init = {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  };
  if ('stream' in captured) return new Response(captured.stream, init);
  // Recorded before the first client hears back, so its own retry always finds the record.
  await execution.finish({ ...parts, body: captured.bytes });
  const bodyless = response.status === 204 || response.status === 205 || response.status === 304;
  return new Response(bodyless ? null : captured.bytes, init);
}

/**
 * Wraps a fetch handler with idempotency.
 *
 * | request | answer |
 * | --- | --- |
 * | not a keyed method, or no key and not `required` | the handler, unguarded |
 * | keyed method, key missing and `required` | 400 `IDEMPOTENCY_KEY_MISSING` |
 * | malformed key (not an sf-string or token, empty, > 255, not printable) | 400 `IDEMPOTENCY_KEY_INVALID` |
 * | body over `maxBodyBytes`, as sent or decoded | 413 `PAYLOAD_TOO_LARGE`, handler not run |
 * | `Content-Encoding` other than identity, gzip, deflate, br (where the runtime decodes it), or several | 415 `UNSUPPORTED_MEDIA_TYPE`, handler not run |
 * | compressed body that does not decode | 400 `VALIDATION_FAILED`, handler not run |
 * | JSON body nested deeper than `maxJsonDepth`, or scope not 1–255 characters | 400 `VALIDATION_FAILED`, handler not run |
 * | first request with the key | the handler; 2xx–4xx recorded; 5xx, 401, 403, 407, 408, 429 and other thrown errors release the key |
 * | same key and request, first still running | 409 `IDEMPOTENCY_IN_FLIGHT` + `Retry-After` (or wait mode) |
 * | same key and request, recorded | the recorded response + `Idempotent-Replayed: true` |
 * | same key, another request (method, path or body) | 422 `IDEMPOTENCY_KEY_REUSED` |
 * | store unreachable | 503 `IDEMPOTENCY_STORE_UNAVAILABLE`, handler not run |
 *
 * @example
 * ```ts
 * const withIdempotency = idempotency({
 *   store: new MemoryIdempotencyStore(),
 *   required: true,
 *   scope: (request) => request.headers.get('x-tenant-id') ?? '',
 * });
 * export default { fetch: withIdempotency(async (request) => createSale(await request.json())) };
 * ```
 */
export function idempotency<Context extends object = object>(
  options: IdempotencyMiddlewareOptions<Context>,
): (handler: FetchHandler<Context>) => WrappedHandler<Context> {
  // A missing argument is then refused by the option schemas (INVALID_OPTIONS), not a TypeError.
  const {
    required: requiredOption,
    scope: scopeOption,
    ...guardOptions
  } = options ?? ({} as IdempotencyMiddlewareOptions<Context>);
  const parsed = parseOptions(
    middlewareSchema,
    { required: requiredOption, scope: scopeOption },
    'idempotency()',
  );
  const guard = createIdempotencyGuard(guardOptions);
  const required = parsed.required as boolean | ((request: Request) => boolean);
  const scopeOf = scopeOption as NonNullable<IdempotencyMiddlewareOptions<Context>['scope']>;
  const fingerprintOptions = { maxDepth: guard.maxJsonDepth };

  return (handler) =>
    async (request, context): Promise<Response> => {
      let body: Uint8Array | undefined;
      const decision = await guard.begin({
        method: request.method,
        idempotencyKey: request.headers.get(idempotencyKeyHeader),
        required: typeof required === 'function' ? required(request) : required,
        scope: () => (scopeOf === 'global' ? 'global' : scopeOf(request, context)),
        fingerprint: async () => {
          // An unsupported coding is refused before its body is read; a supported one is
          // fingerprinted decoded, so the same JSON sent compressed or plain is one request.
          const coding = request.headers.get('content-encoding');
          requestContentCoding(coding);
          const sent = await readRequestBody(request, guard.maxBodyBytes);
          body = await decodeRequestBody(sent, coding, guard.maxBodyBytes);
          return requestFingerprint(request, body, fingerprintOptions);
        },
        signal: request.signal,
      });
      switch (decision.kind) {
        case 'pass':
          return handler(request, context as Context);
        case 'refuse':
          return problemResponse(decision.error, {
            locale: guard.locale,
            instance: new URL(request.url).pathname,
          });
        case 'replay':
          return replayResponse(decision.recorded);
        case 'execute': {
          const { execution } = decision;
          // Everything after the claim runs inside run(): whatever throws releases the key.
          return execution.run(async () => {
            // The body was read to fingerprint it; the handler gets a request carrying it.
            const forwarded = forwardedRequest(request, body);
            let response: Response;
            try {
              response = await handler(forwarded, context as Context);
            } catch (error) {
              if (!isBallastError(error)) throw error;
              // Answered here as the Express and Fastify error handlers answer it.
              response = problemResponse(error, {
                locale: guard.locale,
                instance: new URL(request.url).pathname,
              });
            }
            return finishWith(execution, response, guard.maxResponseBytes);
          });
        }
      }
    };
}
