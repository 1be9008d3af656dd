/**
 * Idempotency for Fastify: translation only; the decisions are `@ballast/server`'s guard. Hooks:
 * `preParsing` refuses a declared body over `maxBodyBytes` (413) and a `Content-Encoding` other
 * than gzip, deflate or br (415) before anything is read, decodes a compressed body (see
 * fastify-decoded-payload.ts), bounds a body without a declared length and keeps the text of a
 * keyed JSON body (for numbers a double cannot hold), `preHandler` decides (400/409/422, a replay, or run the
 * route) once the body is parsed, and `onSend` records the serialised response before it is
 * written (a 5xx, an auth or rate-limit answer, or a body too large to capture releases the key
 * instead). What the client got decides, whether the route returned it or threw it, as on every
 * adapter. Not encapsulated (as with `fastify-plugin`), so it applies to the context it is
 * registered in and the contexts below it, never to siblings. Options live in `fastify-idempotency-config.ts`.
 */
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { BallastError, FingerprintOptions } from '@ballast/core';
import { type Awaitable, isPromiseLike, parseOptions } from '@ballast/core/adapter-kit';
import { problemResponse, type ResponseHeaderRecord, replayResponse } from '@ballast/server';
import {
  type ContentCoding,
  createIdempotencyGuard,
  fingerprintPartsInSameTick,
  type IdempotencyDecision,
  type IdempotencyGuardRequest,
  type IdempotentExecution,
  isJsonContentType,
  requestContentCoding,
} from '@ballast/server/adapter-kit';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { sendWebResponse } from '../../node-http/send-web-response.js';
import { assertPluginArguments } from '../plugin-arguments.js';
import { unencapsulatedPlugin } from '../unencapsulated-plugin.js';
import { decodedPayload } from './fastify-decoded-payload.js';
import {
  type FastifyIdempotencyOptions,
  fastifyAdapterSchema,
} from './fastify-idempotency-config.js';
import { boundedBody, capturePayload, textTooLarge, tooLarge } from './fastify-payload-capture.js';

/** A request that holds its key, from preHandler to the end of its response. */
interface RequestState {
  readonly execution: IdempotentExecution;
  readonly reply: FastifyReply;
}

/**
 * The chunks of a keyed JSON body as they went by, kept for its exact text: Buffers when the
 * parser reads bytes (the JSON parser of recent Fastify 5 releases, which decodes once at the
 * end), strings when it set the stream's encoding (older releases).
 */
type BodyChunks = Array<Buffer | string>;

/** The text of a body's chunks, copying nothing for the usual single chunk of text. */
function textOf(chunks: BodyChunks): string {
  const first = chunks[0] as Buffer | string;
  if (chunks.length === 1) return typeof first === 'string' ? first : first.toString();
  if (typeof first === 'string') return chunks.join('');
  // Bytes are joined before decoding, so a character split between two chunks stays whole.
  return Buffer.concat(chunks as Buffer[]).toString();
}

/** What the guard needs of a Fastify request; a class, so no closures are made per request. */
class FastifyGuardRequest implements IdempotencyGuardRequest {
  readonly method: string;
  readonly idempotencyKey: string | undefined;
  readonly required: boolean;
  readonly signal: AbortSignal | undefined;
  readonly #request: FastifyRequest;
  readonly #scope: FastifyIdempotencyOptions['scope'];
  readonly #chunks: BodyChunks | undefined;
  readonly #fingerprintOptions: FingerprintOptions;

  constructor(
    request: FastifyRequest,
    required: boolean,
    scope: FastifyIdempotencyOptions['scope'],
    signal: AbortSignal | undefined,
    chunks: BodyChunks | undefined,
    fingerprintOptions: FingerprintOptions,
  ) {
    const header = request.headers['idempotency-key'];
    this.method = request.method;
    this.idempotencyKey = Array.isArray(header) ? header.join(', ') : header;
    this.required = required;
    this.signal = signal;
    this.#request = request;
    this.#scope = scope;
    this.#chunks = chunks;
    this.#fingerprintOptions = fingerprintOptions;
  }

  scope(): string | Promise<string> {
    const scope = this.#scope;
    return scope === 'global' ? 'global' : scope(this.#request);
  }

  fingerprint(): Awaitable<string> {
    const request = this.#request;
    const chunks = this.#chunks;
    return fingerprintPartsInSameTick(
      {
        method: request.method,
        // request.url is the target as received: path and query, prefix included.
        path: request.url,
        contentType: request.headers['content-type'] ?? null,
        body: request.body,
        // The text the parser read, for the numbers it could not keep exactly.
        jsonText: chunks && chunks.length > 0 ? textOf(chunks) : undefined,
      },
      this.#fingerprintOptions,
    );
  }
}

/** Fastify's reply as a web response sink. */
function sinkOf(reply: FastifyReply) {
  return {
    status: (code: number) => reply.code(code),
    header: (name: string, value: string | string[]) => reply.header(name, value),
    end: (body: Buffer) => reply.send(body),
  };
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
  // Content-Type is read above whether it is recorded or not (it decides how the body is kept).
  // Absent headers are left out, so the record usually has one shape and one member to read.
  for (const name of names) {
    if (name === 'content-type') continue;
    const value = reply.getHeader(name);
    if (value !== undefined) headers[name] = value;
  }
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

const idempotencyPlugin: FastifyPluginAsync<FastifyIdempotencyOptions> = async (
  fastify,
  options,
) => {
  assertPluginArguments('fastifyIdempotency()', fastify, options);
  const { required: requiredOption, scope: scopeOption, ...guardOptions } = options;
  const adapter = parseOptions(
    fastifyAdapterSchema,
    { required: requiredOption, scope: scopeOption },
    'fastifyIdempotency()',
  );
  const guard = createIdempotencyGuard(guardOptions);
  const recordedNames = guard.recordedHeaderNames;
  // One options object for every request's fingerprint, as the Express adapter does.
  const fingerprintOptions: FingerprintOptions = { maxDepth: guard.maxJsonDepth };
  const required = adapter.required;
  const scope = adapter.scope as FastifyIdempotencyOptions['scope'];
  // The chunks of each keyed JSON body, by request, while it is being parsed.
  const chunksKey = Symbol('@ballast/adapters/fastify/idempotency/body');
  type WithChunks = FastifyRequest & { [chunksKey]?: BodyChunks };
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
      sinkOf(reply),
      problemResponse(error, { locale: guard.locale, instance: request.url.split('?')[0] ?? '' }),
    );

  /** The request's content coding; undefined once an unsupported one is answered 415. */
  function contentCodingOf(
    request: FastifyRequest,
    reply: FastifyReply,
    done: (error: Error) => void,
  ): ContentCoding | undefined {
    try {
      return requestContentCoding(request.headers['content-encoding']);
    } catch (error) {
      refuse(request, reply, error as BallastError).catch(done);
      return undefined;
    }
  }

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
        sendWebResponse(sinkOf(reply), replayResponse(decision.recorded)).catch(done);
        return;
      case 'execute': {
        const { execution } = decision;
        // Whatever throws between the claim and the route releases the key (the guard's rule).
        execution.run(() => {
          states.set(reply.raw, { execution, reply });
          done();
          // A route that answered in this same tick was recorded by onSend already: nothing is
          // left to watch for. Otherwise the response's close tells a reply sent around onSend
          // (hijacked, written raw) apart from a route still at work. ('close' is emitted on a
          // later tick, so it cannot have been missed.)
          if (!execution.settled) reply.raw.on('close', onResponseClose);
        });
        return;
      }
    }
  }

  // Callback-style hooks: an async hook costs a promise per request, on every route. Three
  // hooks, not four: the declared-length check needs nothing onRequest has that preParsing
  // lacks (the body is not read yet), and every hook costs Fastify a runner per request.
  fastify.addHook('preParsing', (request, reply, payload, done) => {
    if (!keyed(request)) {
      done(null, payload);
      return;
    }
    const declared = request.headers['content-length'];
    if (
      declared !== undefined &&
      /^[0-9]+$/.test(declared) &&
      Number(declared) > guard.maxBodyBytes
    ) {
      // Replying from a callback hook: done is not called, so the chain stops here.
      refuse(request, reply, tooLarge(guard.maxBodyBytes)).catch(done);
      return;
    }
    const coding = contentCodingOf(request, reply, done);
    if (coding === undefined) return;
    if (coding !== 'identity') {
      // Read and decoded here, bounded as sent and as inflated; refused before any claim.
      decodedPayload(payload, coding, guard.maxBodyBytes, declared).then(
        ({ bytes, stream }) => {
          if (isJsonContentType(request.headers['content-type'])) {
            (request as WithChunks)[chunksKey] = [bytes];
          }
          done(null, stream);
        },
        (error: BallastError) => refuse(request, reply, error).catch(done),
      );
      return;
    }
    if (isJsonContentType(request.headers['content-type'])) {
      // Keep the text the JSON parser reads: paused first, so this listener does not start
      // the flow before Fastify's own reader listens (it resumes the stream itself).
      const chunks: BodyChunks = [];
      (request as WithChunks)[chunksKey] = chunks;
      payload.pause();
      payload.on('data', (chunk: Buffer | string) => {
        chunks.push(chunk);
      });
    }
    // A declared length was checked above, and Fastify refuses a body that does not match it;
    // only a body of unknown length needs counting on the way in.
    if (declared !== undefined) done(null, payload);
    else done(null, payload.pipe(boundedBody(guard.maxBodyBytes)));
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
          (request as WithChunks)[chunksKey],
          fingerprintOptions,
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

  fastify.addHook('onSend', (_request, reply, payload, done) => {
    const state = states.get(reply.raw);
    if (!state || state.execution.settled) {
      done(null, payload);
      return;
    }
    const { execution } = state;
    // A thrown route is recorded or released by the status its error handler answered, as a
    // returned one is: the client's view decides, the same on every adapter.
    const status = reply.statusCode;
    if (typeof payload === 'string') {
      // The usual case: the route's answer, already serialised by Fastify. Recorded as it is,
      // before Fastify writes it, so the client's own retry finds the record.
      if (textTooLarge(payload, guard.maxResponseBytes)) {
        releaseWhenClosed(reply, execution, status);
        done(null, payload);
        return;
      }
      const ended = execution.finish({
        status,
        headers: recordedHeaders(reply, recordedNames),
        body: payload,
      });
      // With the memory store the record is already written: the response goes out now.
      if (isPromiseLike(ended)) void ended.then(() => done(null, payload));
      else done(null, payload);
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
