/**
 * Idempotency for Express: translation only. The decisions (which requests need a key, 400/409/
 * 413/422, what is recorded, when the key is released) are `@ballast/server`'s guard; this file
 * reads the Express request, captures what the route writes through `res.write`/`res.end` (so
 * `res.json`, `res.send`, `res.sendFile` and streams are all seen) and writes replays back.
 *
 * Mount it before `express.json()`: it then reads the body itself through the one bounded Node
 * reader (a chunked body is held to `maxBodyBytes` like a declared one), decodes a gzip,
 * deflate or br `Content-Encoding` (the inflated size held to `maxBodyBytes` too), fingerprints
 * the exact decoded text (numbers a double cannot hold included) and leaves the parsed body on
 * `req.body`, which the parser then skips. What the parser would have refused is refused here,
 * before any claim: a JSON content type whose body is not JSON or a corrupt compressed body
 * (400), another coding (415). Mounted after a parser it fingerprints what the parser left.
 *
 * The response is recorded before its last bytes are sent, so the client's own retry always
 * finds the record. A response that cannot be recorded (streamed past `maxResponseBytes`, or cut
 * off by the client mid-stream) releases the key explicitly when it ends: no key stays "in
 * flight" until its lease, let alone its TTL.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { isPromiseLike, parseOptions, payloadTooLarge } from '@ballast/core/adapter-kit';
import { problemResponse, replayResponse } from '@ballast/server';
import {
  createIdempotencyGuard,
  fingerprintRequestParts,
  type IdempotencyGuard,
  type IdempotencyGuardOptions,
  type IdempotentExecution,
  idempotencyScopeOptionSchema,
  isJsonContentType,
  requestContentCoding,
} from '@ballast/server/adapter-kit';
import type {
  Request as ExpressRequest,
  Response as ExpressResponse,
  RequestHandler,
} from 'express';
import { z } from 'zod';
import { decodeNodeBody } from '../../node-http/decode-node-body.js';
import { readNodeBody } from '../../node-http/read-node-body.js';
import { parseJsonBody } from '../parse-json-body.js';
import { sendExpressResponse } from '../send-express-response.js';

/** Options for {@link expressIdempotency}. */
export interface ExpressIdempotencyOptions extends IdempotencyGuardOptions {
  /**
   * Whether a keyed method must carry an `Idempotency-Key` (missing → 400); a function decides
   * per request. Default `false`.
   */
  required?: boolean | ((req: ExpressRequest) => boolean);
  /**
   * Tenant or user the key belongs to (e.g. `(req) => req.user.tenantId`). Required: pass
   * `'global'` explicitly to share every key between all callers. A value that is not a string
   * of 1–255 characters answers 400 `VALIDATION_FAILED`.
   */
  scope: 'global' | ((req: ExpressRequest, res: ExpressResponse) => string | Promise<string>);
}

const adapterSchema = z.object({
  required: z
    .union([
      z.boolean(),
      z.custom<(req: ExpressRequest) => boolean>((v) => typeof v === 'function'),
    ])
    .default(false),
  scope: idempotencyScopeOptionSchema,
});

/** True for `{}` exactly: what `express.json()` makes of an empty body. */
function isEmptyObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.getPrototypeOf(value) === Object.prototype && Object.keys(value).length === 0;
}

/** The bytes a body a parser already consumed took at least (its serialised form). */
function parsedBodyBytes(body: unknown): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return Buffer.byteLength(JSON.stringify(body) ?? '');
}

/**
 * The request's fingerprint. When nothing consumed the body yet (this middleware mounted before
 * any parser), it is read here through the one bounded Node reader, decoded from its content
 * coding, fingerprinted from its exact decoded text and left on `req.body` (parsed when JSON). When a parser ran first, its result is
 * fingerprinted: `{}` from an empty body counts as no body, as on the wire, and its serialised
 * size is held to `maxBodyBytes`, since the raw bytes are gone.
 */
async function fingerprintOf(req: ExpressRequest, guard: IdempotencyGuard): Promise<string> {
  const maxBodyBytes = guard.maxBodyBytes;
  const options = { maxDepth: guard.maxJsonDepth };
  const declared = req.headers['content-length'];
  const contentType = req.headers['content-type'] ?? null;
  // originalUrl keeps the mount path and the query, whatever router the middleware sits in.
  const parts = { method: req.method, path: req.originalUrl, contentType };
  if (req.body === undefined && !req.readableEnded) {
    // An unsupported coding is refused before its body is read.
    const coding = requestContentCoding(req.headers['content-encoding']);
    const sent = await readNodeBody(req, maxBodyBytes, declared);
    if (sent.length === 0) return fingerprintRequestParts(parts, options);
    // Decoded first: the same JSON sent compressed or plain is one request.
    const raw = await decodeNodeBody(sent, coding, maxBodyBytes);
    req.body = raw;
    // Fingerprinted first: a body nested too deep is refused before anything parses it.
    const fingerprint = await fingerprintRequestParts({ ...parts, body: raw }, options);
    // Refused before any claim, so the corrected request with the same key runs.
    if (isJsonContentType(contentType)) {
      req.body = parseJsonBody(raw, 'The request body is not valid JSON.');
    }
    return fingerprint;
  }
  const body = declared === '0' && isEmptyObject(req.body) ? undefined : req.body;
  const fingerprint = await fingerprintRequestParts({ ...parts, body }, options);
  if (body !== undefined && parsedBodyBytes(body) > maxBodyBytes) {
    throw payloadTooLarge(maxBodyBytes);
  }
  return fingerprint;
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
 * `@ballast/server` for the status table). Mount it before your body parser (`express.json()`):
 * it reads keyed bodies itself, within `maxBodyBytes` whatever their framing, and leaves them
 * on `req.body`. After a parser it still works, on what the parser left.
 *
 * @example
 * ```ts
 * app.use(expressIdempotency({ store, required: true, scope: (req) => req.get('x-tenant-id') ?? '' }));
 * app.use(express.json()); // after: the middleware reads and parses keyed bodies itself
 * app.post('/sales', async (req, res) => res.status(201).json(await createSale(req.body)));
 * ```
 */
export function expressIdempotency(options: ExpressIdempotencyOptions): RequestHandler {
  // A missing argument is then refused by the option schemas (INVALID_OPTIONS), not a TypeError.
  const {
    required: requiredOption,
    scope: scopeOption,
    ...guardOptions
  } = options ?? ({} as ExpressIdempotencyOptions);
  const adapter = parseOptions(
    adapterSchema,
    { required: requiredOption, scope: scopeOption },
    'expressIdempotency()',
  );
  const guard = createIdempotencyGuard(guardOptions);
  const required = adapter.required;
  const scope = adapter.scope as ExpressIdempotencyOptions['scope'];

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
        scope: () => (scope === 'global' ? 'global' : scope(req, res)),
        fingerprint: () => fingerprintOf(req, guard),
        ...(gone ? { signal: gone.signal } : {}),
      });
      switch (decision.kind) {
        case 'pass':
          next();
          return;
        case 'refuse':
          await sendExpressResponse(
            res,
            problemResponse(decision.error, {
              locale: guard.locale,
              instance: req.originalUrl.split('?')[0] ?? '',
            }),
          );
          return;
        case 'replay':
          await sendExpressResponse(res, replayResponse(decision.recorded));
          return;
        case 'execute': {
          const { execution } = decision;
          // Whatever throws between the claim and the route releases the key (the guard's rule).
          execution.run(() => {
            captureResponse(res, execution, guard.maxResponseBytes);
            next();
          });
        }
      }
    };
    handle().catch(next);
  };
}
