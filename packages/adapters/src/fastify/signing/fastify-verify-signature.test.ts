import { gzipSync } from 'node:zlib';
import { createSigner } from '@ballast/core';
import Fastify, { type FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { rawHttp } from '../../../test/support/raw-http.js';
import {
  signedRouteContract,
  signedRouteOptions,
} from '../../../test/support/signed-route-contract.js';
import { fastifyErrorHandler } from '../errors/fastify-error-handler.js';
import { fastifyTraceContext } from '../trace/fastify-trace-context.js';
import { fastifyVerifySignature } from './fastify-verify-signature.js';

signedRouteContract('fastify, verified in preParsing', async () => {
  const app = Fastify({ bodyLimit: 1024 * 1024 });
  await app.register(
    async (internal) => {
      await internal.register(fastifyVerifySignature, signedRouteOptions());
      const contracts = async (request: FastifyRequest) => ({
        body: request.body,
        tenant: request.headers['x-tenant-id'],
        keyId: request.signature?.keyId ?? null,
      });
      internal.post('/contracts', contracts);
      internal.put('/contracts', contracts);
      internal.get('/contracts/1', async () => ({ ok: true }));
    },
    { prefix: '/internal' },
  );
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  return { baseUrl, close: () => app.close() };
});

describe('fastifyVerifySignature, Fastify specifics', () => {
  const secret = 'fastify-specific-secret-0123456789-abcdef';
  const signer = createSigner({ secret });

  it('a compressed signed body: verified as sent, then a 4xx from the parser, never a 5xx or the route', async () => {
    // Fastify does not decode a Content-Encoding itself. Whatever the client signed (the wire
    // bytes or the inflated text), the route never sees a body it cannot trust.
    const seen: unknown[] = [];
    const app = Fastify();
    app.setErrorHandler(fastifyErrorHandler());
    await app.register(async (internal) => {
      await internal.register(fastifyVerifySignature, { secret });
      internal.post('/hook', async (request) => {
        seen.push(request.body);
        return { ran: true };
      });
    });
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const compressed = gzipSync('{"amount":7}');
      for (const signedBody of [compressed, Buffer.from('{"amount":7}')]) {
        const signature = await signer.sign({ method: 'POST', path: '/hook', body: signedBody });
        const response = await rawHttp(`${baseUrl}/hook`, {
          method: 'POST',
          headers: [
            ['content-type', 'application/json'],
            ['content-encoding', 'gzip'],
            ...Object.entries(signature),
          ],
          body: compressed,
        });
        expect(response.status, response.text).toBeGreaterThanOrEqual(400);
        expect(response.status, response.text).toBeLessThan(500);
      }
      expect(seen).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('leaves routes outside its context alone and keeps rawBody for guarded ones', async () => {
    const app = Fastify();
    app.post('/public', async (request) => ({ public: request.body }));
    await app.register(async (internal) => {
      await internal.register(fastifyVerifySignature, { secret });
      internal.post('/hook', async (request) => ({ raw: request.rawBody?.toString('utf8') }));
    });
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const open = await rawHttp(`${baseUrl}/public`, {
        method: 'POST',
        headers: [['content-type', 'application/json']],
        body: '{"a":1}',
      });
      expect(open.json()).toEqual({ public: { a: 1 } });
      const body = '{ "spaced" :  true }';
      const guarded = await rawHttp(`${baseUrl}/hook`, {
        method: 'POST',
        headers: [
          ['content-type', 'application/json'],
          ...Object.entries(await signer.sign({ method: 'POST', path: '/hook', body })),
        ],
        body,
      });
      expect(guarded.json()).toEqual({ raw: body });
    } finally {
      await app.close();
    }
  });

  it('keeps the trace headers on a refusal and logs it through request.log', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const app = Fastify({
      logger: {
        level: 'warn',
        stream: {
          write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>),
        },
      },
    });
    await app.register(fastifyTraceContext);
    await app.register(async (internal) => {
      await internal.register(fastifyVerifySignature, { secret });
      internal.post('/hook', async () => ({ ran: true }));
    });
    const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      const response = await rawHttp(`${baseUrl}/hook`, {
        method: 'POST',
        headers: [['traceparent', `00-${traceId}-00f067aa0ba902b7-01`]],
        body: 'x',
      });
      expect(response.status).toBe(403);
      expect(response.headers['x-request-id']).toBe(traceId);
      expect(response.json()).toMatchObject({ code: 'SIGNATURE_MISSING' });
      expect(lines).toEqual([
        expect.objectContaining({ traceId, code: 'SIGNATURE_MISSING', msg: 'request refused' }),
      ]);
    } finally {
      await app.close();
    }
  });
});

describe('fastifyVerifySignature, options', () => {
  it('reports bad options through app.register() and app.ready(), where they can be caught', async () => {
    const app = Fastify();
    await expect(
      app.register(fastifyVerifySignature, { secret: 'too-short' }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'secret' } });
    await app.close();
    const other = Fastify();
    other.register(fastifyVerifySignature, { secret: 'too-short' });
    await expect(other.ready()).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await other.close();
  });
});
