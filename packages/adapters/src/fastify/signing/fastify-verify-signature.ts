/**
 * Signature verification for Fastify. A `preParsing` hook reads the raw body once, verifies it
 * before any content-type parser runs (so an unsigned request gets a 403, not a JSON parse
 * error), and hands Fastify an identical stream to parse as usual: routes see `request.body`
 * parsed, plus `request.signature` and `request.rawBody`.
 */
import { Readable } from 'node:stream';
import type { VerifiedSignature } from '@ballast/core';
import type { VerifySignatureOptions } from '@ballast/server';
import { createSignatureGuard, type SignatureRefusal } from '@ballast/server/adapter-kit';
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import { readNodeBody } from '../../node-http/read-node-body.js';
import { assertCallbackPluginArguments } from '../plugin-arguments.js';
import { unencapsulatedPlugin } from '../unencapsulated-plugin.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the signature proved; set by `fastifyVerifySignature` on routes it guards. */
    signature: VerifiedSignature | null;
    /** The body exactly as received and verified; set by `fastifyVerifySignature`. */
    rawBody: Buffer | null;
  }
}

/** Options for the middleware: `VerifySignatureOptions` of `@ballast/server`, re-exported. */
export type { VerifySignatureOptions };

/**
 * Answers from inside `preParsing`. The reply is hijacked and written directly, because a
 * regular `reply.send()` may still be in its `onSend` hooks when the hook chain resumes, and
 * the body would then be parsed and the route run for a refused request.
 */
function sendRefusal(reply: FastifyReply, refusal: SignatureRefusal): void {
  const body = JSON.stringify(refusal.problem);
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) headers[name] = value;
  }
  reply.hijack();
  reply.raw.writeHead(refusal.status, {
    ...headers,
    'content-type': 'application/problem+json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  reply.raw.end(body);
}

const verifySignaturePlugin: FastifyPluginCallback<VerifySignatureOptions> = (
  fastify,
  options,
  done,
) => {
  assertCallbackPluginArguments('fastifyVerifySignature()', fastify, options, done);
  // Fastify adds no keys of its own to plugin options, so they go to the guard as given. Bad
  // options go to done(): thrown here, inside Fastify's callback-style loader, they would escape
  // app.register()'s promise and app.ready() and crash the process uncatchably.
  let guard: ReturnType<typeof createSignatureGuard>;
  try {
    guard = createSignatureGuard(options);
  } catch (error) {
    done(error as Error);
    return;
  }
  fastify.decorateRequest('signature', null);
  fastify.decorateRequest('rawBody', null);
  fastify.addHook('preParsing', async (request, reply, payload) => {
    // request.url is the target as received (path and query), what the strict form signs.
    const target = { method: request.method, path: request.url };
    let body: Buffer;
    try {
      body = await readNodeBody(payload, guard.maxBodyBytes, request.headers['content-length']);
    } catch (error) {
      sendRefusal(reply, guard.refuse(error, target, request.log));
      return payload;
    }
    const outcome = await guard.check({ body, headers: request.headers, ...target }, request.log);
    if (!outcome.ok) {
      sendRefusal(reply, outcome);
      return payload;
    }
    request.signature = outcome.signature;
    request.rawBody = body;
    const replay = Readable.from([body]) as Readable & { receivedEncodedLength: number };
    // Fastify checks its bodyLimit against this; the bytes were already counted once.
    replay.receivedEncodedLength = body.length;
    return replay;
  });
  done();
};

/**
 * Fastify plugin: routes of the context it is registered in run only for correctly signed
 * requests (see `verifySignature()` in `@ballast/server` for the codes). It is not encapsulated (as
 * with `fastify-plugin`), so its hook lands in the registering context: register it inside the
 * plugin that holds your internal routes, and public routes elsewhere stay unaffected. Refusals
 * are logged through `request.log`, which carries the trace when `fastifyTraceContext` is
 * registered.
 *
 * @example
 * ```ts
 * await app.register(async (internal) => {
 *   await internal.register(fastifyVerifySignature, { secret, canonical: 'strict', nonceStore });
 *   internal.post('/contracts', async (request) => ({ created: request.body, keyId: request.signature?.keyId }));
 * }, { prefix: '/internal' });
 * ```
 */
export const fastifyVerifySignature = unencapsulatedPlugin(verifySignaturePlugin, {
  name: '@ballast/adapters/fastify/verify-signature',
  fastify: '>=4.26',
});
