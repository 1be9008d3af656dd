/**
 * A route whose database or Redis is down answers 503 `SERVICE_UNAVAILABLE` with `Retry-After`,
 * not 500 `INTERNAL`: an outage a retry may outlive, which load balancers and Ballast's client
 * treat differently from a bug. Real drivers (pg, ioredis) against a port nothing listens on, so
 * the errors have exactly the shapes an application meets; the same on Express and Fastify.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expressErrorHandler } from '@ballast/adapters/express';
import { fastifyErrorHandler } from '@ballast/adapters/fastify';
import express from 'express';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ListeningServer, listenExpress, listenFastify } from './support/listen.js';

/** A local port that refuses connections: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let pool: pg.Pool;
let redis: Redis;
let redisWithoutQueue: Redis;

/**
 * Each route uses one unreachable dependency, as an application's handler would: Postgres,
 * ioredis with its offline queue (the default: the command fails when its retries run out) and
 * ioredis without it (fails at once).
 */
const outages: Record<string, () => Promise<unknown>> = {
  postgres: () => pool.query('SELECT 1'),
  redis: () => redis.get('k'),
  'redis-no-queue': () => redisWithoutQueue.get('k'),
};

beforeAll(async () => {
  const port = await closedPort();
  pool = new pg.Pool({ host: '127.0.0.1', port, user: 'app', connectionTimeoutMillis: 2_000 });
  const redisOptions = { host: '127.0.0.1', port, retryStrategy: () => 50 };
  redis = new Redis({ ...redisOptions, maxRetriesPerRequest: 1 });
  redisWithoutQueue = new Redis({ ...redisOptions, enableOfflineQueue: false });
  for (const client of [redis, redisWithoutQueue]) client.on('error', () => {});
});

afterAll(async () => {
  redis.disconnect();
  redisWithoutQueue.disconnect();
  await pool.end();
});

function startExpress(): Promise<ListeningServer> {
  const app = express();
  app.get('/outage/:which', async (req, res, next) => {
    try {
      res.json(await outages[req.params.which]?.());
    } catch (error) {
      next(error);
    }
  });
  app.use(expressErrorHandler());
  return listenExpress(app);
}

async function startFastify(): Promise<ListeningServer> {
  const app = Fastify();
  app.setErrorHandler(fastifyErrorHandler());
  app.get<{ Params: { which: string } }>('/outage/:which', (request) =>
    outages[request.params.which]?.(),
  );
  return listenFastify(app);
}

describe.each([
  ['express', startExpress],
  ['fastify', startFastify],
])('%s error handler, a dependency down', (_name, start) => {
  let server: Awaited<ReturnType<typeof start>>;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server.close());

  it.each(Object.keys(outages))('%s: 503 SERVICE_UNAVAILABLE with Retry-After', async (which) => {
    const response = await fetch(`${server.url}/outage/${which}`);
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.headers.get('retry-after')).toBe('5');
    expect(JSON.parse(text)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|Connection|Stream|retries/);
  });
});
