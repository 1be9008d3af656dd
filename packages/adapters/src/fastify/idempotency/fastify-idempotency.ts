/**
 * Idempotency for Fastify: translation only; the decisions are `@ballast/server`'s guard. Hooks:
 * `onRequest` refuses a declared body over `maxBodyBytes` (413) before anything is read,
 * `preParsing` bounds a body without a declared length, `preHandler` decides (400/409/422, a
 * replay, or run the route) once the body is parsed, `onError` marks a thrown route, and
 * `onSend` records the serialised response before it is written (a thrown route, a 5xx or a
 * body too large to capture releases the key instead). Wrapped with `fastify-plugin`, so it
 * applies to the context it is registered in and the contexts below it, never to siblings.
 */
import { Readable, Transform } from 'node:stream';
import { BallastError, parseOptions } from '@ballast/core';
import {
  createIdempotencyGuard,
  fingerprintRequestParts,
  type IdempotencyGuardOptions,
  type IdempotentExecution,
  problemResponse,
  replayResponse,
} from '@ballast/server';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import { z } from 'zod';
import { nodeSha256 } from '../../node-http/node-sha256.js';

/** Options for {@link fastifyIdempotency}. */
export interface FastifyIdempotencyOptions extends IdempotencyGuardOptions {
  /**
   * Whether a keyed method must carry an `Idempotency-Key` (missing → 400); a function decides
   * per request. Default `false`.
   */
  required?: boolean | ((request: FastifyRequest) => boolean);
  /** Tenant or user the key belongs to (e.g. `(request) => request.user.tenantId`). Default `'global'`. */
  scope?: (request: FastifyRequest) => string | Promise<string>;
}

const adapterSchema = z.object({
  required: z
    .union([
      z.boolean(),
      z.custom<(request: FastifyRequest) => boolean>((v) => typeof v === 'function'),
    ])
    .default(false),
  scope: z
    .custom<NonNullable<FastifyIdempotencyOptions['scope']>>((v) => typeof v === 'function')
    .optional(),
});

interface RequestState {
  readonly execution: IdempotentExecution;
  threw: boolean;
}

function tooLarge(maxBytes: number): BallastError & { statusCode: number } {
  const error = new BallastError('PAYLOAD_TOO_LARGE', {
    message: `The request body is larger than ${maxBytes} bytes`,
    details: { maxBytes },
  });
  // Fastify's error handler answers with `statusCode` when the bound is hit mid-stream.
  return Object.assign(error, { statusCode: 413 });
}

function toHeaders(outgoing: ReturnType<FastifyReply['getHeaders']>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(outgoing)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.append(name, String(value));
  }
  return headers;
}

/** Sends a web `Response` (a problem or a replay) through Fastify. */
async function sendWebResponse(reply: FastifyReply, response: Response): Promise<FastifyReply> {
  reply.code(response.status);
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') reply.header(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) reply.header('set-cookie', cookies);
  return reply.send(Buffer.from(await response.arrayBuffer()));
}

/** Passes the body through, failing with 413 as soon as more than `maxBytes` went by. */
function boundedBody(maxBytes: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      if (total > maxBytes) callback(tooLarge(maxBytes));
      else callback(null, chunk);
    },
  });
}

type Captured =
  | { readonly bytes: Buffer }
  | { readonly stream: Readable }
  | { readonly uncapturable: true };

/**
 * Reads a Node stream payload up to `maxBytes`. Within the bound the bytes replace the stream;
 * past it, a stream that replays the bytes read so far and then the rest is returned.
 */
async function captureStream(stream: Readable, maxBytes: number): Promise<Captured> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { bytes: Buffer.concat(chunks, total) };
    const chunk =
      typeof next.value === 'string' ? Buffer.from(next.value) : Buffer.from(next.value);
    chunks.push(chunk);
    total += chunk.length;
    if (total > maxBytes) break;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* chunks;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  return { stream: Readable.from(rest(), { objectMode: false }) };
}

async function capturePayload(payload: unknown, maxBytes: number): Promise<Captured> {
  if (payload === undefined || payload === null) return { bytes: Buffer.alloc(0) };
  if (typeof payload === 'string') {
    const bytes = Buffer.from(payload);
    return bytes.length > maxBytes ? { uncapturable: true } : { bytes };
  }
  if (payload instanceof Uint8Array) {
    return payload.length > maxBytes ? { uncapturable: true } : { bytes: Buffer.from(payload) };
  }
  if (payload instanceof Readable) return captureStream(payload, maxBytes);
  // A web stream or a Response sent as is: streamed to the client, not recorded.
  return { uncapturable: true };
}

const idempotencyPlugin: FastifyPluginAsync<FastifyIdempotencyOptions> = async (
  fastify,
  options,
) => {
  const { required: requiredOption, scope: scopeOption, ...guardOptions } = options;
  const adapter = parseOptions(
    adapterSchema,
    { required: requiredOption, scope: scopeOption },
    'fastifyIdempotency()',
  );
  const guard = createIdempotencyGuard(guardOptions);
  const { required, scope } = adapter;
  const states = new WeakMap<FastifyRequest, RequestState>();
  const keyed = (request: FastifyRequest) =>
    guard.appliesTo(request.method) && request.headers['idempotency-key'] !== undefined;
  const refuse = (request: FastifyRequest, reply: FastifyReply, error: BallastError) =>
    sendWebResponse(
      reply,
      problemResponse(error, { locale: guard.locale, instance: request.url.split('?')[0] ?? '' }),
    );

  fastify.addHook('onRequest', async (request, reply) => {
    if (!keyed(request)) return;
    const declared = request.headers['content-length'];
    if (
      declared !== undefined &&
      /^[0-9]+$/.test(declared) &&
      Number(declared) > guard.maxBodyBytes
    ) {
      return refuse(request, reply, tooLarge(guard.maxBodyBytes));
    }
  });

  fastify.addHook('preParsing', async (request, _reply, payload) => {
    // A declared length was checked in onRequest, and Fastify refuses a body that does not
    // match it; only a body of unknown length needs counting on the way in.
    if (!keyed(request) || request.headers['content-length'] !== undefined) return payload;
    return payload.pipe(boundedBody(guard.maxBodyBytes));
  });

  fastify.addHook('preHandler', async (request, reply) => {
    if (!guard.appliesTo(request.method)) return;
    let gone: AbortController | undefined;
    if (guard.waits) {
      const controller = new AbortController();
      reply.raw.once('close', () => controller.abort());
      gone = controller;
    }
    const header = request.headers['idempotency-key'];
    const decision = await guard.begin({
      method: request.method,
      idempotencyKey: Array.isArray(header) ? header.join(', ') : header,
      required: typeof required === 'function' ? required(request) : required,
      scope: () => (scope ? scope(request) : 'global'),
      fingerprint: () =>
        fingerprintRequestParts(
          {
            method: request.method,
            // request.url is the target as received: path and query, prefix included.
            path: request.url,
            contentType: request.headers['content-type'] ?? null,
            body: request.body,
          },
          { sha256: nodeSha256 },
        ),
      ...(gone ? { signal: gone.signal } : {}),
    });
    switch (decision.kind) {
      case 'pass':
        return;
      case 'refuse':
        return refuse(request, reply, decision.error);
      case 'replay':
        return sendWebResponse(reply, replayResponse(decision.recorded));
      case 'execute': {
        const { execution } = decision;
        states.set(request, { execution, threw: false });
        reply.raw.once('close', () => {
          // The client left. If onSend already ran, the execution is settled (or its stream
          // releases it); if not, the route is still working and onSend will record its answer.
          if (!execution.settled && reply.sent) void execution.abandon('client-closed');
        });
        return;
      }
    }
  });

  fastify.addHook('onError', async (request) => {
    const state = states.get(request);
    if (state) state.threw = true;
  });

  fastify.addHook('onSend', async (request, reply, payload) => {
    const state = states.get(request);
    if (!state || state.execution.settled) return payload;
    const { execution } = state;
    if (state.threw) {
      // A thrown route releases the key whatever status the error handler chose.
      await execution.abandon('error');
      return payload;
    }
    const parts = { status: reply.statusCode, headers: toHeaders(reply.getHeaders()) };
    const captured = await capturePayload(payload, guard.maxResponseBytes);
    if ('bytes' in captured) {
      // Recorded before Fastify writes the answer, so the client's own retry finds the record.
      await execution.finish({ ...parts, body: captured.bytes });
      return payload instanceof Readable ? captured.bytes : payload;
    }
    // Not capturable: release once the response is over (sent, or cut off by the client).
    reply.raw.once('close', () => {
      void execution.finish({ ...parts, body: null });
    });
    return 'stream' in captured ? captured.stream : payload;
  });
};

/**
 * Fastify plugin giving keyed writes exactly-once semantics (see `idempotency()` in
 * `@ballast/server` for the status table). Register it in the context that holds the routes to
 * protect; routes in sibling contexts are unaffected.
 *
 * A body over `maxBodyBytes` is refused before the route runs: with a declared `Content-Length`
 * as problem+json 413; a chunked body is cut off at the bound and answered 413 by Fastify's
 * error handler (code `PAYLOAD_TOO_LARGE`).
 *
 * @example
 * ```ts
 * await app.register(async (api) => {
 *   await api.register(fastifyIdempotency, { store, required: true, scope: (request) => tenantOf(request) });
 *   api.post('/sales', async (request, reply) => reply.code(201).send(await createSale(request.body)));
 * });
 * ```
 */
export const fastifyIdempotency = fastifyPlugin(idempotencyPlugin, {
  name: '@ballast/adapters/fastify/idempotency',
  fastify: '>=4.26',
});
