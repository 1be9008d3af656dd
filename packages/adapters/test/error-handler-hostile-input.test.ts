/**
 * Red-team finding: the error handlers hand the request's `Accept-Language` and path to
 * `toResponse()`, whose option schema capped them (1,000 and 2,048 characters). A client that
 * sent a longer header or path turned every error answer into a thrown INVALID_OPTIONS: Express
 * answered its HTML 500 page with the stack, Fastify a JSON 500 quoting the schema. Both are
 * client input and must get the same problem+json as any other request. Likewise a route that
 * throws a value whose fields throw when read (a getter, a Proxy, a half-shaped ZodError): the
 * handler threw while classifying it and the framework's fallback showed the message or stack.
 * A route throwing a value that is not an error (`throw null`, a string) gets the same generic
 * 500 on every front end.
 */
import {
  expressErrorHandler,
  expressNotFoundHandler,
  expressValidate,
} from '@ballast/adapters/express';
import {
  fastifyErrorHandler,
  fastifyNotFoundHandler,
  fastifyValidate,
} from '@ballast/adapters/fastify';
import { BallastError } from '@ballast/core';
import { toResponse } from '@ballast/server';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serveFetch } from './support/fetch-server.js';
import { type ListeningServer, listenExpress, listenFastify } from './support/listen.js';

/** A route whose body takes numbers: a body of 20,000 strings has 20,000 invalid fields. */
const itemsSchema = { body: z.strictObject({ items: z.array(z.number()) }) };

const refusal = () => new BallastError('CASE_CLOSED', { status: 409 });

/** What a buggy route might throw: values whose fields throw when the error handler reads them. */
const hostileThrowables: Record<string, () => unknown> = {
  getter: () =>
    Object.defineProperty(new Error('g'), 'status', {
      get() {
        throw new Error('getter at /srv/app/secret.ts');
      },
    }),
  proxy: () =>
    new Proxy(
      {},
      {
        get() {
          throw new Error('proxy at /srv/app/secret.ts');
        },
      },
    ),
  'half-zod': () => ({ name: 'ZodError', issues: [null] }),
};

/**
 * Values that are not errors at all, which an async route (rejecting) throws. The same generic
 * 500 on every front end. (A *synchronous* `throw null` in an Express route is `next(null)` to
 * Express, "no error, carry on": see the Express-only test below.)
 */
const nonErrors: Record<string, () => unknown> = {
  null: () => null,
  undefined: () => undefined,
  string: () => 'boom at /srv/app/secret.ts',
  number: () => 42,
};

function startExpress(): Promise<ListeningServer> {
  const app = express();
  app.get('/cases/:id', () => {
    throw refusal();
  });
  app.get('/throw/:kind', (req) => {
    throw hostileThrowables[req.params.kind]?.();
  });
  app.get('/reject/:kind', async (req) => {
    throw nonErrors[req.params.kind]?.();
  });
  app.get('/throw-sync/:kind', (req) => {
    throw nonErrors[req.params.kind]?.();
  });
  app.post('/items', express.json({ limit: '1mb' }), expressValidate(itemsSchema), (_req, res) => {
    res.send('ran');
  });
  app.use(expressNotFoundHandler());
  app.use(expressErrorHandler());
  return listenExpress(app);
}

async function startFastify(): Promise<ListeningServer> {
  const app = Fastify({ maxParamLength: 20_000 });
  app.setErrorHandler(fastifyErrorHandler());
  app.setNotFoundHandler(fastifyNotFoundHandler());
  app.get('/cases/:id', async () => {
    throw refusal();
  });
  app.get<{ Params: { kind: string } }>('/throw/:kind', async (request) => {
    throw hostileThrowables[request.params.kind]?.();
  });
  app.get<{ Params: { kind: string } }>('/reject/:kind', async (request) => {
    throw nonErrors[request.params.kind]?.();
  });
  app.post('/items', { preHandler: fastifyValidate(itemsSchema) }, async () => 'ran');
  return listenFastify(app);
}

const longId = 'a'.repeat(5_000);
const cases = [
  ['a 6 KB Accept-Language', '/cases/1', { 'accept-language': 'en,'.repeat(2_000) }, 409],
  ['a 5 KB path to a route', `/cases/${longId}`, {}, 409],
  ['a 5 KB path to no route', `/nowhere/${longId}`, {}, 404],
] as const;

/** The fetch front end: a web-standard handler whose catch answers with `toResponse()`. */
function startFetch(): Promise<ListeningServer> {
  return serveFetch(async (request) => {
    try {
      const path = new URL(request.url).pathname;
      const [, route, id] = path.split('/');
      if (route === 'cases' && id !== undefined) throw refusal();
      if (route === 'throw' && id !== undefined) throw hostileThrowables[id]?.();
      if (route === 'reject' && id !== undefined) throw nonErrors[id]?.();
      if (route === 'items') {
        const body = itemsSchema.body.parse(await request.json());
        return new Response(`ran ${body.items.length}`);
      }
      throw new BallastError('NOT_FOUND');
    } catch (error) {
      return toResponse(error, {
        acceptLanguage: request.headers.get('accept-language'),
        instance: new URL(request.url).pathname,
      });
    }
  }).then(({ baseUrl, close }) => ({ url: baseUrl, close }));
}

describe.each([
  ['express', startExpress],
  ['fastify', startFastify],
  ['fetch (toResponse)', startFetch],
])('%s error handler, hostile request', (_name, start) => {
  let server: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server.close());

  it.each(cases)('%s: the route’s own problem+json', async (_case, path, headers, status) => {
    const response = await fetch(`${server.url}${path}`, { headers });
    const text = await response.text();
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(text).not.toMatch(/INVALID_OPTIONS|toResponse|at .*\.ts|<html/i);
  });

  it.each(Object.keys(hostileThrowables))(
    'a route throwing %s: a generic 500 problem+json, no internals',
    async (kind) => {
      const response = await fetch(`${server.url}/throw/${kind}`);
      const text = await response.text();
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.parse(text)).toMatchObject({ code: 'INTERNAL' });
      expect(text).not.toMatch(/secret\.ts|Cannot read|<html/);
    },
  );

  it.each(Object.keys(nonErrors))(
    'a route rejecting with %s (not an Error): the same generic 500 problem+json',
    async (kind) => {
      const response = await fetch(`${server.url}/reject/${kind}`);
      const text = await response.text();
      expect(response.status).toBe(500);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const problem = JSON.parse(text) as Record<string, unknown>;
      expect(problem).toMatchObject({ code: 'INTERNAL', status: 500 });
      expect(Object.keys(problem).sort()).toEqual(
        ['code', 'detail', 'status', 'title', 'traceId', 'type', 'instance', 'retryable', 'action']
          .filter((key) => key in problem)
          .sort(),
      );
      expect(text).not.toMatch(/secret\.ts|boom|<html/);
      // (Not the whole text: the random trace id may hold "42".)
      expect(String(problem.detail)).not.toContain('42');
    },
  );

  it('a body with 20,000 invalid items: 400 listing the first 100, not a problem larger than the body', async () => {
    const body = JSON.stringify({ items: Array.from({ length: 20_000 }, () => 'x') });
    const response = await fetch(`${server.url}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect((JSON.parse(text) as { errors: unknown[] }).errors).toHaveLength(100);
    expect(text.length).toBeLessThan(body.length);
  });
});

describe('express: a synchronous throw of null or undefined', () => {
  let server: ListeningServer;
  beforeAll(async () => {
    server = await startExpress();
  });
  afterAll(() => server.close());

  // Express's router hands a synchronous throw to `next(thrown)`, and `next(null)` or
  // `next(undefined)` means "no error, carry on": the request goes on to the next matching route
  // and then to the not-found handler. No error handler can tell it from a route that calls
  // `next()` on purpose, so it stays Express's answer (a 404 problem, still no internals);
  // an async route (or `next(new Error())`) gets the 500 above. Pinned so a change is seen.
  it.each(['null', 'undefined'])(
    'throw %s: Express carries on to the 404 problem',
    async (kind) => {
      const response = await fetch(`${server.url}/throw-sync/${kind}`);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    },
  );

  it.each(['string', 'number'])('throw a %s: the generic 500 problem', async (kind) => {
    const response = await fetch(`${server.url}/throw-sync/${kind}`);
    expect(response.status).toBe(500);
    expect(await response.text()).not.toMatch(/secret\.ts|boom/);
  });
});
