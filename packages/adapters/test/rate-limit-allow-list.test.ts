/**
 * The rate limiters' allowList over real HTTP on a dual-stack socket (what `app.listen(port)`
 * opens): Node reports an IPv4 client there as `::ffff:10.1.2.3`, so an allowList written the
 * way people write addresses must still match it, on Express and on Fastify alike.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expressErrorHandler, expressRateLimitOptions } from '@ballast/adapters/express';
import { fastifyErrorHandler, fastifyRateLimitOptions } from '@ballast/adapters/fastify';
import rateLimitPlugin from '@fastify/rate-limit';
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

interface DualStackServer {
  readonly port: number;
  close(): Promise<void>;
}

type Start = (allowList: string[]) => Promise<DualStackServer>;

const startExpress: Start = async (allowList) => {
  const app = express();
  app.get('/limited', rateLimit(expressRateLimitOptions({ limit: 1, allowList })), (_req, res) => {
    res.json({ ok: true });
  });
  app.use(expressErrorHandler());
  const server = await new Promise<Server>((resolve) => {
    const started = app.listen(0, '::', () => resolve(started));
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
};

const startFastify: Start = async (allowList) => {
  const app = Fastify();
  app.setErrorHandler(fastifyErrorHandler());
  await app.register(rateLimitPlugin, fastifyRateLimitOptions({ limit: 1, allowList }));
  app.get('/limited', async () => ({ ok: true }));
  await app.listen({ port: 0, host: '::' });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
};

const statuses = async (url: string, count: number) => {
  const answers: number[] = [];
  for (let i = 0; i < count; i += 1) answers.push((await fetch(url)).status);
  return answers;
};

describe.each([
  ['Express', startExpress],
  ['Fastify', startFastify],
])('%s allowList on a dual-stack socket', (_name, start) => {
  it.each([
    ['127.0.0.1', 'http://127.0.0.1'],
    ['::ffff:127.0.0.1', 'http://127.0.0.1'],
    ['0:0:0:0:0:0:0:1', 'http://[::1]'],
    ['::1', 'http://[::1]'],
  ])('an allowList naming %s never limits a client at %s', async (listed, base) => {
    const server = await start([listed]);
    try {
      expect(await statuses(`${base}:${server.port}/limited`, 3)).toEqual([200, 200, 200]);
    } finally {
      await server.close();
    }
  });

  it('still limits a client the allowList does not name', async () => {
    const server = await start(['10.1.2.3', '::ffff:10.1.2.4']);
    try {
      expect(await statuses(`http://127.0.0.1:${server.port}/limited`, 2)).toEqual([200, 429]);
    } finally {
      await server.close();
    }
  });
});
