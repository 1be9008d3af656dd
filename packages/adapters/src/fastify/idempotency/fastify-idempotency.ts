/**
 * Idempotency for Fastify: translation only; the decisions are `@ballast/server`'s guard. Hooks:
 * `onRequest` refuses a declared body over `maxBodyBytes` (413) before anything is read,
 * `preParsing` bounds a body without a declared length, `preHandler` decides (400/409/422, a
 * replay, or run the route) once the body is parsed, `onError` marks a thrown route, and
 * `onSend` records the serialised response before it is written (a thrown route, a 5xx or a
 * body too large to capture releases the key instead). Not encapsulated (as with `fastify-plugin`), so it
 * applies to the context it is registered in and the contexts below it, never to siblings.
 */
import type { ServerResponse } from 'node:http';
import { Readable, Transform } from 'node:stream';
import { BallastError } from '@ballast/core';
import { type Awaitable, isPromiseLike, parseOptions } from '@ballast/core/adapter-kit';
import { problemResponse, type ResponseHeaderRecord, replayResponse } from '@ballast/server';
import {
  createIdempotencyGuard,
  fingerprintPartsInSameTick,
  type IdempotencyDecision,
  type IdempotencyGuardOptions,
  type IdempotencyGuardRequest,
  type IdempotentExecution,
} from '@ballast/server/adapter-kit';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { unencapsulatedPlugin } from '../unencapsulated-plugin.js';

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

/** A request that holds its key, from preHandler to the end of its response. */
interface RequestState {
  readonly execution: IdempotentExecution;
  readonly reply: FastifyReply;
  threw: boolean;
}

/** What the guard needs of a Fastify request; a class, so no closures are made per request. */
class FastifyGuardRequest implements IdempotencyGuardRequest {
  readonly method: string;
  readonly idempotencyKey: string | undefined;
  readonly required: boolean;
  readonly signal: AbortSignal | undefined;
  readonly #request: FastifyRequest;
  readonly #scope: FastifyIdempotencyOptions['scope'];

  constructor(
    request: FastifyRequest,
    required: boolean,
    scope: FastifyIdempotencyOptions['scope'],
    signal: AbortSignal | undefined,
  ) {
    const header = request.headers['idempotency-key'];
    this.method = request.method;
    this.idempotencyKey = Array.isArray(header) ? header.join(', ') : header;
    this.required = required;
    this.signal = signal;
    this.#request = request;
    this.#scope = scope;
  }

  scope(): string | Promise<string> {
    return this.#scope ? this.#scope(this.#request) : 'global';
  }

  fingerprint(): Awaitable<string> {
    const request = this.#request;
    return fingerprintPartsInSameTick({
      method: request.method,
      // request.url is the target as received: path and query, prefix included.
      path: request.url,
      contentType: request.headers['content-type'] ?? null,
      body: request.body,
    });
  }
}

function tooLarge(maxBytes: number): BallastError & { statusCode: number } {
  const error = new BallastError('PAYLOAD_TOO_LARGE', {
    message: `The request body is larger than ${maxBytes} bytes`,
    details: { maxBytes },
  });
  // Fastify's error handler answers with `statusCode` when the bound is hit mid-stream.
  return Object.assign(error, { statusCode: 413 });
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
  | { readonly bytes: Buffer | string }
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

/**
 * Runs `next` once `pending` is over: at once when it already is (a store that answers
 * synchronously), so Fastify writes the response in the same tick. `pending` never rejects.
 */
function afterwards(pending: Awaitable<unknown>, next: () => void): void {
  if (isPromiseLike(pending)) void pending.then(next);
  else next();
}

/**
 * The headers a record needs, read one by one: `reply.getHeaders()` would copy every header
 * twice over, on every keyed response, to keep three of them.
 */
function recordedHeaders(reply: FastifyReply, names: readonly string[]): ResponseHeaderRecord {
  const headers: Record<string, ResponseHeaderRecord[string]> = {
    'content-type': reply.getHeader('content-type'),
  };
  for (const name of names) headers[name] = reply.getHeader(name);
  return headers;
}

/** Releases the key once the response is over (sent, or cut off by the client). */
function releaseWhenClosed(
  reply: FastifyReply,
  execution: IdempotentExecution,
  status: number,
): void {
  reply.raw.once('close', () => {
    void execution.finish({ status, headers: {}, body: null });
  });
}

/** True when `text` takes more than `maxBytes` as UTF-8 (counted only when it might). */
function textTooLarge(text: string, maxBytes: number): boolean {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short text needs no counting.
  return text.length * 3 > maxBytes && Buffer.byteLength(text) > maxBytes;
}

/** The payload to record, for the payloads onSend cannot capture synchronously. */
async function capturePayload(payload: unknown, maxBytes: number): Promise<Captured> {
  if (payload === undefined || payload === null) return { bytes: '' };
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
  const recordedNames = guard.recordedHeaderNames;
  const { required, scope } = adapter;
  // Each request's state rides on its raw response under a key of this registration: one
  // listener function then serves every request, and no WeakMap entry has to be traced by
  // every garbage collection while the request lives.
  const stateKey = Symbol('@ballast/adapters/fastify/idempotency');
  type WithState = ServerResponse & { [stateKey]?: RequestState };
  const states = {
    get: (raw: ServerResponse): RequestState | undefined => (raw as WithState)[stateKey],
    set: (raw: ServerResponse, state: RequestState): void => {
      (raw as WithState)[stateKey] = state;
    },
  };
  /**
   * The raw response closed. If onSend already ran, the execution is settled (or its stream
   * releases it). If not and the reply was sent anyway (hijacked, written raw), nothing else
   * will end the execution: release the key. If not sent, the route is still working and
   * onSend will record its answer, even though the client left.
   */
  function onResponseClose(this: ServerResponse): void {
    const state = states.get(this);
    if (state && !state.execution.settled && state.reply.sent) {
      void state.execution.abandon('client-closed');
    }
  }
  const keyed = (request: FastifyRequest) =>
    guard.appliesTo(request.method) && request.headers['idempotency-key'] !== undefined;
  const refuse = (request: FastifyRequest, reply: FastifyReply, error: BallastError) =>
    sendWebResponse(
      reply,
      problemResponse(error, { locale: guard.locale, instance: request.url.split('?')[0] ?? '' }),
    );

  /** Carries out the guard's decision: on to the route, or answered here. */
  function act(
    request: FastifyRequest,
    reply: FastifyReply,
    decision: IdempotencyDecision,
    done: (error?: Error) => void,
  ): void {
    switch (decision.kind) {
      case 'pass':
        done();
        return;
      case 'refuse':
        refuse(request, reply, decision.error).catch(done);
        return;
      case 'replay':
        sendWebResponse(reply, replayResponse(decision.recorded)).catch(done);
        return;
      case 'execute':
        states.set(reply.raw, { execution: decision.execution, reply, threw: false });
        reply.raw.on('close', onResponseClose);
        done();
        return;
    }
  }

  // Callback-style hooks: an async hook costs a promise per request, on every route.
  fastify.addHook('onRequest', (request, reply, done) => {
    const declared = request.headers['content-length'];
    if (
      declared !== undefined &&
      keyed(request) &&
      /^[0-9]+$/.test(declared) &&
      Number(declared) > guard.maxBodyBytes
    ) {
      // Replying from a callback hook: done is not called, so the chain stops here.
      refuse(request, reply, tooLarge(guard.maxBodyBytes)).catch(done);
      return;
    }
    done();
  });

  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    // A declared length was checked in onRequest, and Fastify refuses a body that does not
    // match it; only a body of unknown length needs counting on the way in.
    if (request.headers['content-length'] !== undefined || !keyed(request)) {
      done(null, payload);
      return;
    }
    done(null, payload.pipe(boundedBody(guard.maxBodyBytes)));
  });

  fastify.addHook('preHandler', (request, reply, done) => {
    if (!guard.appliesTo(request.method)) {
      done();
      return;
    }
    let gone: AbortController | undefined;
    if (guard.waits) {
      const controller = new AbortController();
      reply.raw.once('close', () => controller.abort());
      gone = controller;
    }
    let decision: Awaitable<IdempotencyDecision>;
    try {
      decision = guard.begin(
        new FastifyGuardRequest(
          request,
          typeof required === 'function' ? required(request) : required,
          scope,
          gone?.signal,
        ),
      );
    } catch (error) {
      done(error as Error);
      return;
    }
    // With the memory store the decision is already made: the route runs in this same tick.
    if (isPromiseLike(decision)) decision.then((made) => act(request, reply, made, done), done);
    else act(request, reply, decision, done);
  });

  fastify.addHook('onError', (_request, reply, _error, done) => {
    const state = states.get(reply.raw);
    if (state) state.threw = true;
    done();
  });

  fastify.addHook('onSend', (_request, reply, payload, done) => {
    const state = states.get(reply.raw);
    if (!state || state.execution.settled) {
      done(null, payload);
      return;
    }
    const { execution } = state;
    if (state.threw) {
      // A thrown route releases the key whatever status the error handler chose.
      afterwards(execution.abandon('error'), () => done(null, payload));
      return;
    }
    const status = reply.statusCode;
    if (typeof payload === 'string') {
      // The usual case: the route's answer, already serialised by Fastify. Recorded as it is,
      // before Fastify writes it, so the client's own retry finds the record.
      if (textTooLarge(payload, guard.maxResponseBytes)) {
        releaseWhenClosed(reply, execution, status);
        done(null, payload);
        return;
      }
      afterwards(
        execution.finish({ status, headers: recordedHeaders(reply, recordedNames), body: payload }),
        () => done(null, payload),
      );
      return;
    }
    capturePayload(payload, guard.maxResponseBytes).then((captured) => {
      if ('bytes' in captured) {
        afterwards(
          execution.finish({
            status,
            headers: recordedHeaders(reply, recordedNames),
            body: captured.bytes,
          }),
          () => done(null, payload instanceof Readable ? captured.bytes : payload),
        );
        return;
      }
      releaseWhenClosed(reply, execution, status);
      done(null, 'stream' in captured ? captured.stream : payload);
    }, done);
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
export const fastifyIdempotency = unencapsulatedPlugin(idempotencyPlugin, {
  name: '@ballast/adapters/fastify/idempotency',
  fastify: '>=4.26',
});
