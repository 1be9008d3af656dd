/**
 * Signature verification for Express. The signature covers the body as sent, but Express apps
 * usually parse JSON before any route sees it; this adapter gets the raw bytes either from
 * `express.json({ verify: captureRawBody })` (recommended: parsing stays Express's), from
 * `express.raw()`, or by reading the stream itself when no parser ran yet (it then parses JSON
 * into `req.body`, so routes see what `express.json()` would have given them). Read here, a
 * compressed body is verified as sent (the signature covers the bytes on the wire), and only
 * then decoded for the route: nothing unauthenticated is inflated. A parser that ran first hands
 * over the bytes it inflated, not the bytes the signature covers, so a compressed body behind
 * one is refused (415, fail closed) rather than checked over bytes that were never sent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BallastError, type VerifiedSignature } from '@ballast/core';
import { invalidArgument, payloadTooLarge } from '@ballast/core/adapter-kit';
import type { TraceScope, VerifySignatureOptions } from '@ballast/server';
import {
  createSignatureGuard,
  isJsonContentType,
  requestContentCoding,
  type SignatureRefusal,
} from '@ballast/server/adapter-kit';
import type { RequestHandler, Response } from 'express';
import { decodeNodeBody } from '../../node-http/decode-node-body.js';
import { readNodeBody } from '../../node-http/read-node-body.js';
import { isObject } from '../../options/is-object.js';
import { parseJsonBody } from '../parse-json-body.js';

const rawBodies = new WeakMap<IncomingMessage, Uint8Array>();
const signatureKey = 'ballastSignature';
const traceKey = 'ballastTrace';

/**
 * A body-parser `verify` callback that keeps the raw bytes for {@link expressVerifySignature}.
 * Pass it to every parser that may run before verification.
 *
 * @example
 * ```ts
 * app.use(express.json({ verify: captureRawBody }));
 * app.use('/internal', expressVerifySignature({ secret }));
 * ```
 */
export function captureRawBody(req: IncomingMessage, _res: ServerResponse, buffer: Buffer): void {
  if (!isObject(req)) throw invalidArgument('captureRawBody()', 'req', 'a request');
  if (!(buffer instanceof Uint8Array))
    throw invalidArgument('captureRawBody()', 'buffer', 'a Buffer');
  rawBodies.set(req, buffer);
}

/** Options for the middleware: `VerifySignatureOptions` of `@ballast/server`, re-exported. */
export type { VerifySignatureOptions };

function sendRefusal(res: Response, refusal: SignatureRefusal): void {
  res
    .status(refusal.status)
    .set('cache-control', 'no-store')
    .type('application/problem+json')
    .send(JSON.stringify(refusal.problem));
}

/**
 * Express middleware: passes only correctly signed requests on (see `verifySignature()` in
 * `@ballast/server` for the codes). The proof is available to routes through
 * {@link expressSignature}. A refusal is logged with the request's trace logger when
 * `expressTraceContext()` runs before it. Routes see the parsed JSON in `req.body` as usual.
 *
 * If a body parser already consumed the body without {@link captureRawBody}, the raw bytes are
 * gone: the request is answered 500 `INVALID_OPTIONS` and the misconfiguration is logged. If a
 * parser ran first on a compressed body (`Content-Encoding` other than identity), it inflated
 * the bytes the signature covers: the request is refused with 415 `UNSUPPORTED_MEDIA_TYPE`
 * (`reason: 'decoded-before-verification'`); mount the middleware before the parser to accept
 * compressed signed bodies.
 *
 * @example
 * ```ts
 * app.use(expressTraceContext({ logger }));
 * app.use(express.json({ verify: captureRawBody }));
 * app.post('/contracts', expressVerifySignature({ secret, canonical: 'strict', nonceStore }), (req, res) => {
 *   res.json({ created: req.body, keyId: expressSignature(res).keyId });
 * });
 * ```
 */
export function expressVerifySignature(options: VerifySignatureOptions): RequestHandler {
  const guard = createSignatureGuard(options);
  return (req, res, next) => {
    const logger = (res.locals[traceKey] as TraceScope | undefined)?.logger;
    // originalUrl is the target as received, even under a mounted router (where req.url is cut).
    const target = { method: req.method, path: req.originalUrl };

    async function rawBodyOf(): Promise<{ body: Uint8Array; readHere: boolean }> {
      const parsed = rawBodies.get(req) ?? (Buffer.isBuffer(req.body) ? req.body : undefined);
      if (parsed) {
        if (requestContentCoding(req.headers['content-encoding']) !== 'identity') {
          // body-parser inflates before `verify` sees the bytes: the wire bytes are gone.
          throw new BallastError('UNSUPPORTED_MEDIA_TYPE', {
            message:
              'A compressed signed body was decoded by a body parser before its signature could be checked; send it uncompressed, or verify before parsing',
            details: { reason: 'decoded-before-verification' },
          });
        }
        // The parser's own limit let it through; the signature's bound still applies.
        if (parsed.length > guard.maxBodyBytes) throw payloadTooLarge(guard.maxBodyBytes);
        return { body: parsed, readHere: false };
      }
      if (!req.readableEnded) {
        const body = await readNodeBody(req, guard.maxBodyBytes, req.headers['content-length']);
        return { body, readHere: true };
      }
      throw new BallastError('INVALID_OPTIONS', {
        message:
          'expressVerifySignature(): a body parser consumed the body before verification; add `verify: captureRawBody` to it',
      });
    }

    async function handle(): Promise<void> {
      let raw: { body: Uint8Array; readHere: boolean };
      try {
        raw = await rawBodyOf();
      } catch (error) {
        sendRefusal(res, guard.refuse(error, target, logger));
        return;
      }
      const outcome = await guard.check(
        { body: raw.body, headers: req.headers, ...target },
        logger,
      );
      if (!outcome.ok) {
        sendRefusal(res, outcome);
        return;
      }
      res.locals[signatureKey] = outcome.signature;
      if (raw.readHere && raw.body.length > 0) {
        // No parser ran, and the stream is spent: give routes what express.json() would have,
        // decoded from its content coding (415, 400 or 413 as the parser would answer).
        try {
          const coding = requestContentCoding(req.headers['content-encoding']);
          const sent = Buffer.from(raw.body.buffer, raw.body.byteOffset, raw.body.byteLength);
          const body = await decodeNodeBody(sent, coding, guard.maxBodyBytes);
          req.body = isJsonContentType(req.headers['content-type'])
            ? parseJsonBody(body, 'The signed body is not valid JSON')
            : Buffer.from(body);
        } catch (error) {
          sendRefusal(res, guard.refuse(error, target, logger));
          return;
        }
      }
      next();
    }

    handle().catch(next);
  };
}

/**
 * What {@link expressVerifySignature} proved for this request. Throws `INVALID_OPTIONS` when the
 * middleware did not run for the route (so a route can never mistake "unchecked" for "signed").
 */
export function expressSignature(res: Response): VerifiedSignature {
  if (!isObject(res) || !isObject(res.locals)) {
    throw invalidArgument('expressSignature()', 'res', 'an Express response');
  }
  const signature = res.locals[signatureKey] as VerifiedSignature | undefined;
  if (!signature) {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'expressSignature(): expressVerifySignature() did not run for this route',
    });
  }
  return signature;
}
