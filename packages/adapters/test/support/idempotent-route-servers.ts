/**
 * The servers the idempotent route contract and the HTTP fuzz drive: the fetch middleware (over
 * Node's HTTP server), Express with the middleware before or after `express.json()`, and Fastify,
 * each mounting the routes `idempotent-route-contract.ts` describes on a given store.
 */
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { expressIdempotency } from '@ballast/adapters/express';
import { fastifyIdempotency } from '@ballast/adapters/fastify';
import { BallastError, type IdempotencyStore } from '@ballast/core';
import { idempotency } from '@ballast/server';
import express, { type ErrorRequestHandler } from 'express';
import Fastify from 'fastify';
import { serveFetch } from './fetch-server.js';
import {
  countExecution,
  type IdempotentRouteServer,
  idempotentRouteOptions,
  largeChunk,
} from './idempotent-route-contract.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tenantOf = (value: string | string[] | null | undefined) =>
  Array.isArray(value) ? value.join(',') : (value ?? '');

async function* slowChunks(): AsyncGenerator<string> {
  for (let index = 0; index < 25; index++) {
    // 20 bytes a chunk: 500 in all, over maxResponseBytes, so it streams as it is made.
    yield `chunk ${String(index).padStart(13, '0')}\n`;
    await sleep(10);
  }
}

function webStream(chunks: AsyncIterable<string> | Iterable<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = (async function* () {
    for await (const chunk of chunks) yield encoder.encode(chunk);
  })();
  return new ReadableStream({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return(undefined);
    },
  });
}

export async function startFetch(store: IdempotencyStore): Promise<IdempotentRouteServer> {
  const executions = new Map<string, number>();
  const guarded = idempotency({
    ...idempotentRouteOptions(store),
    scope: (request) => tenantOf(request.headers.get('x-tenant')),
  })(async (request) => {
    const path = new URL(request.url).pathname;
    const n = countExecution(executions, request.headers.get('idempotency-key'));
    switch (path) {
      case '/orders':
        return Response.json({ order: n }, { status: 201, headers: { 'x-extra': '1' } });
      case '/throws-4xx':
        throw new BallastError('VALIDATION_FAILED');
      case '/throws-5xx':
        throw new Error('boom');
      case '/unauthorized':
        return Response.json({ error: 'login' }, { status: 401 });
      case '/stream-small':
        return new Response(webStream(['a;', 'b;', 'c']));
      case '/stream-large':
        return new Response(webStream(Array.from({ length: 10 }, () => largeChunk)));
      default:
        return new Response(webStream(slowChunks()));
    }
  });
  const { baseUrl, close } = await serveFetch(guarded);
  return { baseUrl, executions, close };
}

export async function startExpress(
  store: IdempotencyStore,
  parserFirst: boolean,
): Promise<IdempotentRouteServer> {
  const executions = new Map<string, number>();
  const app = express();
  if (parserFirst) app.use(express.json());
  app.use(
    expressIdempotency({
      ...idempotentRouteOptions(store),
      scope: (req) => tenantOf(req.headers['x-tenant']),
    }),
  );
  if (!parserFirst) app.use(express.json());
  const count = (req: express.Request) =>
    countExecution(executions, req.headers['idempotency-key']);
  app.post('/orders', (req, res) => {
    res
      .status(201)
      .set('x-extra', '1')
      .json({ order: count(req) });
  });
  app.post('/throws-4xx', (req) => {
    count(req);
    throw new BallastError('VALIDATION_FAILED');
  });
  app.post('/throws-5xx', (req) => {
    count(req);
    throw new Error('boom');
  });
  app.post('/unauthorized', (req, res) => {
    count(req);
    res.status(401).json({ error: 'login' });
  });
  const stream = async (
    req: express.Request,
    res: express.Response,
    chunks: AsyncIterable<string> | Iterable<string>,
  ) => {
    count(req);
    res.status(200).type('text/plain');
    for await (const chunk of chunks) {
      if (res.destroyed) return;
      res.write(chunk);
    }
    res.end();
  };
  app.post('/stream-small', (req, res) => stream(req, res, ['a;', 'b;', 'c']));
  app.post('/stream-large', (req, res) =>
    stream(
      req,
      res,
      Array.from({ length: 10 }, () => largeChunk),
    ),
  );
  app.post('/stream-slow', (req, res) => stream(req, res, slowChunks()));
  // The app's error handler, as users write one: the error's status, no stack.
  const errors: ErrorRequestHandler = (error, _req, res, _next) => {
    const status = typeof error?.status === 'number' ? error.status : 500;
    res.status(status).json({ code: error?.code ?? 'INTERNAL' });
  };
  app.use(errors);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    executions,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function startFastify(store: IdempotencyStore): Promise<IdempotentRouteServer> {
  const executions = new Map<string, number>();
  const app = Fastify();
  await app.register(fastifyIdempotency, {
    ...idempotentRouteOptions(store),
    scope: (request) => tenantOf(request.headers['x-tenant']),
  });
  // Fastify refuses an empty JSON body by default; accept it as no body, as the others do.
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );
  const count = (request: { headers: Record<string, unknown> }) =>
    countExecution(executions, request.headers['idempotency-key']);
  app.post('/orders', async (request, reply) =>
    reply
      .code(201)
      .header('x-extra', '1')
      .send({ order: count(request) }),
  );
  app.post('/throws-4xx', async (request) => {
    count(request);
    throw new BallastError('VALIDATION_FAILED');
  });
  app.post('/throws-5xx', async (request) => {
    count(request);
    throw new Error('boom');
  });
  app.post('/unauthorized', async (request, reply) => {
    count(request);
    return reply.code(401).send({ error: 'login' });
  });
  const stream = (chunks: AsyncIterable<string> | Iterable<string>) =>
    Readable.from(chunks, { objectMode: false });
  app.post('/stream-small', async (request, reply) => {
    count(request);
    return reply.type('text/plain').send(stream(['a;', 'b;', 'c']));
  });
  app.post('/stream-large', async (request, reply) => {
    count(request);
    return reply.type('text/plain').send(stream(Array.from({ length: 10 }, () => largeChunk)));
  });
  app.post('/stream-slow', async (request, reply) => {
    count(request);
    return reply.type('text/plain').send(stream(slowChunks()));
  });
  const baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
  return { baseUrl, executions, close: () => app.close() };
}
