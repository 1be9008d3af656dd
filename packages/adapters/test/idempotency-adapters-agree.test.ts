/**
 * The fetch middleware, Express and Fastify must agree on "the same request", or a retry that
 * lands on another server of a mixed fleet would run twice (or be refused with 422). One store,
 * three front ends: the first request executes on one, its retries replay on the others.
 */
import type { AddressInfo } from 'node:net';
import { expressIdempotency } from '@ballast/adapters/express';
import { fastifyIdempotency } from '@ballast/adapters/fastify';
import { MemoryIdempotencyStore } from '@ballast/core';
import { idempotency } from '@ballast/server';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const store = new MemoryIdempotencyStore();
let executions = 0;
const closers: Array<() => Promise<void>> = [];
let expressUrl = '';
let rawExpressUrl = '';
let fastifyUrl = '';
const fetchHandler = idempotency({ store, scope: 'global' })(async (request) => {
  executions++;
  return Response.json({ via: 'fetch', body: await request.json() }, { status: 201 });
});

beforeAll(async () => {
  for (const withParser of [true, false]) {
    const app = express();
    if (withParser) app.use(express.json());
    app.use(expressIdempotency({ store, scope: 'global' }));
    app.post('/sales', (req, res) => {
      executions++;
      res.status(201).json({ via: 'express', body: req.body });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (withParser) expressUrl = url;
    else rawExpressUrl = url;
    closers.push(
      () =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );
  }
  const fastify = Fastify();
  await fastify.register(fastifyIdempotency, { store, scope: 'global' });
  fastify.post('/sales', async (request, reply) => {
    executions++;
    return reply.code(201).send({ via: 'fastify', body: request.body });
  });
  fastifyUrl = await fastify.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => fastify.close());
});

afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

const post = (base: string, key: string, body: string) =>
  fetch(`${base}/sales`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body,
  });
const viaFetch = (key: string, body: string) =>
  fetchHandler(
    new Request('http://api.test/sales', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body,
    }),
  );

describe('one store, three front ends', () => {
  it.each([
    ['express', () => expressUrl],
    ['fastify', () => fastifyUrl],
    ['raw express', () => rawExpressUrl],
  ])(
    'executes on %s once and replays everywhere, whatever the JSON member order',
    async (name, first) => {
      const key = `agree-${name.replace(' ', '-')}`;
      const before = executions;
      const original = await post(first(), key, '{"total":10,"items":[{"sku":"a","qty":2}]}');
      expect(original.status).toBe(201);
      const originalBody = await original.text();
      const reordered = '{ "items": [ { "qty": 2, "sku": "a" } ], "total": 10 }';
      for (const replay of [
        await post(expressUrl, key, reordered),
        await post(fastifyUrl, key, reordered),
        await post(rawExpressUrl, key, reordered),
        await viaFetch(key, reordered),
      ]) {
        expect(replay.status).toBe(201);
        expect(replay.headers.get('idempotent-replayed')).toBe('true');
        expect(await replay.text()).toBe(originalBody);
      }
      expect(executions - before).toBe(1);
      // And all of them refuse the key for another payload.
      for (const reused of [
        await post(expressUrl, key, '{"total":11}'),
        await post(fastifyUrl, key, '{"total":11}'),
        await viaFetch(key, '{"total":11}'),
      ]) {
        expect(reused.status).toBe(422);
      }
    },
  );

  // A byte order mark is not part of the JSON: Fastify's parser, the raw Express reader and the
  // fetch middleware drop it, so a body sent with one is the same request as without.
  it.each([
    ['express', () => expressUrl],
    ['fastify', () => fastifyUrl],
    ['raw express', () => rawExpressUrl],
  ])(
    'replays a body sent with a byte order mark on %s as the same body without',
    async (name, first) => {
      const key = `agree-bom-${name.replace(' ', '-')}`;
      const before = executions;
      const body = '{"items":[{"qty":2,"sku":"a"}],"total":10}';
      const original = await post(first(), key, `\uFEFF${body}`);
      expect(original.status).toBe(201);
      const originalBody = await original.text();
      for (const replay of [
        await post(expressUrl, key, body),
        await post(fastifyUrl, key, body),
        await post(rawExpressUrl, key, body),
        await viaFetch(key, body),
        await post(fastifyUrl, key, `\uFEFF${body}`),
      ]) {
        expect(replay.status).toBe(201);
        expect(replay.headers.get('idempotent-replayed')).toBe('true');
        expect(await replay.text()).toBe(originalBody);
      }
      expect(executions - before).toBe(1);
    },
  );
});
