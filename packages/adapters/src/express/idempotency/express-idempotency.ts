/**
 * Idempotency for Express: translation only. The decisions (which requests need a key, 400/409/
 * 413/422, what is recorded, when the key is released) are `@ballast/server`'s guard; this file
 * reads the Express request, captures what the route writes through `res.write`/`res.end` (so
 * `res.json`, `res.send`, `res.sendFile` and streams are all seen) and writes replays back.
 *
 * The response is recorded before its last bytes are sent, so the client's own retry always
 * finds the record. A response that cannot be recorded (streamed past `maxResponseBytes`, or cut
 * off by the client mid-stream) releases the key explicitly when it ends: no key stays "in
 * flight" until its lease, let alone its TTL.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { BallastError } from '@ballast/core';
import { isPromiseLike, parseOptions } from '@ballast/core/adapter-kit';
import { problemResponse, replayResponse } from '@ballast/server';
import {
  createIdempotencyGuard,
  fingerprintRequestParts,
  type IdempotencyGuardOptions,
  type IdempotentExecution,
  isJsonContentType,
} from '@ballast/server/adapter-kit';
import type {
  Request as ExpressRequest,
  Response as ExpressResponse,
  RequestHandler,
} from 'express';
import { z } from 'zod';
import { readNodeBody } from '../../node-http/read-node-body.js';

/** Options for {@link expressIdempotency}. */
export interface ExpressIdempotencyOptions extends IdempotencyGuardOptions {
  /**
   * Whether a keyed method must carry an `Idempotency-Key` (missing → 400); a function decides
   * per request. Default `false`.
   */
  required?: boolean | ((req: ExpressRequest) => boolean);
  /** Tenant or user the key belongs to (e.g. `(req) => req.user.tenantId`). Default `'global'`. */
  scope?: (req: ExpressRequest, res: ExpressResponse) => string | Promise<string>;
}

const adapterSchema = z.object({
  required: z
    .union([
      z.boolean(),
      z.custom<(req: ExpressRequest) => boolean>((v) => typeof v === 'function'),
    ])
    .default(false),
  scope: z
    .custom<NonNullable<ExpressIdempotencyOptions['scope']>>((v) => typeof v === 'function')
    .optional(),
});

function tooLarge(maxBytes: number): BallastError {
  return new BallastError('PAYLOAD_TOO_LARGE', {
    message: `The request body is larger than ${maxBytes} bytes`,
    details: { maxBytes },
  });
}

/** Writes a web `Response` (a problem or a replay) through Express. */
async function sendWebResponse(res: ExpressResponse, response: Response): Promise<void> {
  res.status(response.status);
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  res.end(Buffer.from(await response.arrayBuffer()));
}

/**
 * The request's fingerprint from what Express holds: the parsed body when a parser ran
 * (`express.json()`, `express.text()`, `express.raw()`), otherwise the raw stream, read here
 * within `maxBodyBytes` and left on `req.body` (parsed when JSON) for the route.
 */
async function fingerprintOf(req: ExpressRequest, maxBodyBytes: number): Promise<string> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && /^[0-9]+$/.test(declared) && Number(declared) > maxBodyBytes) {
    throw tooLarge(maxBodyBytes);
  }
  let body: unknown = req.body;
  if (body === undefined && !req.readableEnded) {
    const raw = await readNodeBody(req, maxBodyBytes, declared);
    if (raw.length > 0) {
      body = raw;
      req.body = raw;
      if (isJsonContentType(req.headers['content-type'])) {
        try {
          req.body = JSON.parse(raw.toString('utf8'));
        } catch {
          // Not JSON after all: the route gets the raw bytes, as with express.raw().
        }
      }
    }
  }
  if (
    (typeof body === 'string' || Buffer.isBuffer(body)) &&
    Buffer.byteLength(body) > maxBodyBytes
  ) {
    throw tooLarge(maxBodyBytes);
  }
  return fingerprintRequestParts({
    method: req.method,
    // originalUrl keeps the mount path and the query, whatever router the middleware sits in.
    path: req.originalUrl,
    contentType: req.headers['content-type'] ?? null,
    body,
  });
}

// The patched methods pass their arguments on untouched, whichever overload was called.
type Passthrough<Result> = (this: ExpressResponse, ...args: unknown[]) => Result;

/**
 * Captures what the route writes, up to `maxBytes`, and ends the execution: records before the
 * final bytes leave, or releases when the body could not be captured or the client left while
 * the body was streaming.
 */
function captureResponse(
  res: ExpressResponse,
  execution: IdempotentExecution,
  maxBytes: number,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let capturable = true;
  let ending = false;
  // Headers given straight to writeHead() never appear in getHeaders(); keep them too.
  let headHeaders: OutgoingHttpHeaders = {};
  const originalWrite = res.write as Passthrough<boolean>;
  const originalEnd = res.end as Passthrough<ExpressResponse>;
  const originalWriteHead = res.writeHead as Passthrough<ExpressResponse>;

  const collect = (chunk: unknown, encoding: unknown) => {
    if (!capturable || chunk === undefined || chunk === null || typeof chunk === 'function') return;
    let bytes: Buffer;
    if (typeof chunk === 'string') {
      bytes = Buffer.from(
        chunk,
        typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
      );
    } else if (chunk instanceof Uint8Array) {
      bytes = Buffer.from(chunk);
    } else {
      return;
    }
    size += bytes.length;
    if (size > maxBytes) {
      // Too large to record: stop buffering (the response itself is not affected).
      capturable = false;
      chunks.length = 0;
      return;
    }
    chunks.push(bytes);
  };

  res.writeHead = function writeHead(this: ExpressResponse, ...args: unknown[]) {
    const headers = typeof args[1] === 'object' && args[1] !== null ? args[1] : args[2];
    if (typeof headers === 'object' && headers !== null && !Array.isArray(headers)) {
      headHeaders = { ...headHeaders, ...(headers as OutgoingHttpHeaders) };
    }
    return originalWriteHead.apply(this, args);
  } as ExpressResponse['writeHead'];

  res.write = function write(this: ExpressResponse, ...args: unknown[]) {
    if (!ending) collect(args[0], args[1]);
    return originalWrite.apply(this, args);
  } as ExpressResponse['write'];

  res.end = function end(this: ExpressResponse, ...args: unknown[]) {
    if (ending) return originalEnd.apply(this, args);
    ending = true;
    collect(args[0], args[1]);
    const body = capturable ? Buffer.concat(chunks, size) : null;
    // The plain header record: the guard reads it as `Headers` would, without building one.
    const headers = { ...headHeaders, ...this.getHeaders() };
    // Record first, then let the last bytes go: finish() never rejects, and with a store that
    // answers synchronously the response ends in this same call.
    const finished = execution.finish({ status: this.statusCode, headers, body });
    if (isPromiseLike(finished)) void finished.then(() => originalEnd.apply(this, args));
    else originalEnd.apply(this, args);
    return this;
  } as ExpressResponse['end'];

  res.once('close', () => {
    if (ending || execution.settled) return;
    // The client left. If the route had started streaming, its answer is lost: release. If it
    // had not, it is still working, and its answer is recorded when it ends (res.end still
    // runs on a closed socket), so a retry gets the replay instead of a second execution.
    if (res.headersSent) void execution.abandon('client-closed');
  });
}

/**
 * Express middleware giving keyed writes exactly-once semantics (see `idempotency()` in
 * `@ballast/server` for the status table). Mount it after your body parser (`express.json()`);
 * without one, it reads the body itself and leaves it on `req.body`.
 *
 * @example
 * ```ts
 * app.use(express.json());
 * app.use(expressIdempotency({ store, required: true, scope: (req) => req.get('x-tenant-id') ?? 'anonymous' }));
 * app.post('/sales', async (req, res) => res.status(201).json(await createSale(req.body)));
 * ```
 */
export function expressIdempotency(options: ExpressIdempotencyOptions): RequestHandler {
  const { required: requiredOption, scope: scopeOption, ...guardOptions } = options;
  const adapter = parseOptions(
    adapterSchema,
    { required: requiredOption, scope: scopeOption },
    'expressIdempotency()',
  );
  const guard = createIdempotencyGuard(guardOptions);
  const { required, scope } = adapter;

  return (req, res, next) => {
    if (!guard.appliesTo(req.method)) {
      next();
      return;
    }
    const handle = async () => {
      let gone: AbortController | undefined;
      if (guard.waits) {
        const controller = new AbortController();
        res.once('close', () => controller.abort());
        gone = controller;
      }
      const header = req.headers['idempotency-key'];
      const decision = await guard.begin({
        method: req.method,
        idempotencyKey: Array.isArray(header) ? header.join(', ') : header,
        required: typeof required === 'function' ? required(req) : required,
        scope: () => (scope ? scope(req, res) : 'global'),
        fingerprint: () => fingerprintOf(req, guard.maxBodyBytes),
        ...(gone ? { signal: gone.signal } : {}),
      });
      switch (decision.kind) {
        case 'pass':
          next();
          return;
        case 'refuse':
          await sendWebResponse(
            res,
            problemResponse(decision.error, {
              locale: guard.locale,
              instance: req.originalUrl.split('?')[0] ?? '',
            }),
          );
          return;
        case 'replay':
          await sendWebResponse(res, replayResponse(decision.recorded));
          return;
        case 'execute':
          captureResponse(res, decision.execution, guard.maxResponseBytes);
          next();
      }
    };
    handle().catch(next);
  };
}
