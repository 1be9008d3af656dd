/**
 * The edge side of seed 003 §4 for fetch handlers (Deno, Workers, Bun, Node behind an adapter):
 * "edge functions MUST NOT accept direct requests". A request runs the handler only when its
 * signature verifies; anything else gets a 403 problem+json with a `SIGNATURE_*` code. The body
 * is read once, verified as raw bytes, and handed on in a fresh `Request`, so the handler still
 * calls `request.json()` as usual.
 */
import { requestTargetOf, type VerifiedSignature } from '@ballast/core';
import { problemResponse } from '../errors/problem-response.js';
import type { FetchHandler, WrappedHandler } from '../http/fetch-handler.js';
import { readRequestBody } from '../http/read-request-body.js';
import type { TraceScope } from '../trace/async-trace-storage.js';
import { createSignatureGuard, type SignatureGuardOptions } from './signature-guard.js';

/** What a verified request exposes to its handler. */
export interface SignatureScope {
  /** What the verification proved: timestamp, key id, nonce, format. */
  readonly signature: VerifiedSignature;
  /** The body exactly as received and verified (also readable from the request). */
  readonly rawBody: Uint8Array;
}

/** Options for {@link verifySignature}: see {@link SignatureGuardOptions}. */
export type VerifySignatureOptions = SignatureGuardOptions;

/**
 * Wraps a fetch handler so it runs only for correctly signed requests. The handler receives a
 * `Request` whose body is still unread (same bytes) and `context.signature` / `context.rawBody`.
 * Inside {@link traceContext} (pass its scope type: `verifySignature(options)<TraceScope>(…)`),
 * refusals are logged with the request's trace logger.
 *
 * Answers, without calling the handler: 403 `SIGNATURE_MISSING` / `SIGNATURE_INVALID` /
 * `SIGNATURE_EXPIRED` / `SIGNATURE_REPLAYED` (malformed headers included, never a 500), 413
 * `PAYLOAD_TOO_LARGE` over `maxBodyBytes`, and the store's error when a nonce store fails.
 *
 * @example
 * ```ts
 * const edge = verifySignature({
 *   secret: process.env.INTERNAL_SIGNING_SECRET!,
 *   canonical: 'strict',
 *   nonceStore,
 * })(async (request, { signature }) => {
 *   const body = await request.json();
 *   return Response.json({ ok: true, keyId: signature.keyId });
 * });
 * export default { fetch: (request: Request) => edge(request) };
 * ```
 */
export function verifySignature(
  options: VerifySignatureOptions,
): <Context extends object = object>(
  handler: FetchHandler<Context & SignatureScope>,
) => WrappedHandler<Context> {
  const guard = createSignatureGuard(options);
  const refusalResponse = (error: unknown, path: string) =>
    problemResponse(error, {
      locale: guard.locale,
      instance: path,
      headers: { 'cache-control': 'no-store' },
    });
  return <Context extends object = object>(handler: FetchHandler<Context & SignatureScope>) =>
    async (request: Request, context?: Context): Promise<Response> => {
      const logger = (context as Partial<TraceScope> | undefined)?.logger;
      const path = requestTargetOf(request.url) ?? '/';
      const target = { method: request.method, path };
      let rawBody: Uint8Array<ArrayBuffer>;
      try {
        rawBody = await readRequestBody(request, guard.maxBodyBytes);
      } catch (error) {
        return refusalResponse(guard.refuse(error, target, logger).error, path);
      }
      const outcome = await guard.check(
        { body: rawBody, headers: request.headers, ...target },
        logger,
      );
      if (!outcome.ok) return refusalResponse(outcome.error, path);
      // The original body stream is spent; the handler gets the same bytes in a new Request.
      const forward = request.body === null ? request : new Request(request, { body: rawBody });
      return handler(forward, { ...(context as Context), signature: outcome.signature, rawBody });
    };
}
