// The behaviour every adapter shares (bodies, thrown 4xx/5xx, 401, streams, disconnects, scopes)
// is pinned once in test/idempotent-route-contract.test.ts; this file keeps what is particular
// to this adapter.
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { ManualClock, MemoryIdempotencyStore } from '@ballast/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { keyedSender, routeGates } from '../../../test/support/idempotent-routes.js';
import { fastifyIdempotency } from './fastify-idempotency.js';
import type { FastifyIdempotencyOptions } from './fastify-idempotency-config.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function salesServer(options: Partial<FastifyIdempotencyOptions> = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const store = new MemoryIdempotencyStore();
  const calls: Record<string, number> = {};
  const sales: unknown[] = [];
  const { hold, holdRoute } = routeGates();
  const app = Fastify();
  apps.push(app);
  // Counts route executions (replays and refusals never reach a route).
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function counted(this: FastifyInstance, request, reply) {
      calls[route.url] = (calls[route.url] ?? 0) + 1;
      return handler.call(this, request, reply);
    };
  });
  await app.register(async (api) => {
    await api.register(fastifyIdempotency, { store, clock, scope: 'global', ...options });
    api.post('/sales', async (request, reply) => {
      await hold('sales');
      sales.push(request.body);
      return reply
        .code(201)
        .header('location', `/sales/${sales.length}`)
        .header('etag', `"${sales.length}"`)
        .header('set-cookie', 'session=first-client')
        .send({ id: sales.length, body: request.body });
    });
    api.patch('/sales/:id', async (request) => ({ patched: request.params, body: request.body }));
    api.post('/rejected', async (_request, reply) =>
      reply.code(409).send({ error: 'stock insuficiente' }),
    );
    api.post('/unavailable', async (_request, reply) => reply.code(503).send('try later'));
    api.post('/throws', async () => {
      throw new Error('db down');
    });
    api.post('/throws-4xx', async () => {
      throw Object.assign(new Error('bad'), { statusCode: 400 });
    });
    api.post('/stream', async (_request, reply) => {
      reply.type('text/plain');
      async function* parts() {
        yield 'part 1;';
        await hold('stream');
        yield 'part 2;';
        yield 'end';
      }
      return reply.send(Readable.from(parts()));
    });
    api.post('/text', async (request) => ({ got: request.body }));
    api.post('/hijacked', async (_request, reply) => {
      reply.hijack();
      reply.raw.writeHead(200, { 'content-type': 'text/plain' });
      reply.raw.end('written raw');
    });
  });
  // A sibling context without the plugin: keyed requests there are not guarded.
  await app.register(async (open) => {
    open.post('/open', async () => ({ n: calls['/open'] }));
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const send = keyedSender(url);
  return { url, clock, store, calls, sales, send, holdRoute };
}

describe('fastifyIdempotency', () => {
  it('runs once, records, and replays status, allow-listed headers and body', async () => {
    const app = await salesServer();
    const first = await app.send('/sales', { total: 10 }, '"key-1"');
    expect(first.status).toBe(201);
    expect(first.headers.get('set-cookie')).toBe('session=first-client');
    const firstBody = await first.text();
    const replay = await app.send('/sales', { total: 10 });
    expect(replay.status).toBe(201);
    expect(await replay.text()).toBe(firstBody);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('location')).toBe('/sales/1');
    expect(replay.headers.get('etag')).toBe('"1"');
    expect(replay.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(replay.headers.has('set-cookie')).toBe(false);
    expect(app.sales).toHaveLength(1);
  });

  it('lets one of 50 concurrent duplicates run; the rest get 409 or the replay', async () => {
    const app = await salesServer();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => app.send('/sales', { total: 10 })),
    );
    expect(responses.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    expect(
      responses.filter((r) => r.status === 201 && !r.headers.has('idempotent-replayed')),
    ).toHaveLength(1);
    expect(app.sales).toHaveLength(1);
  });

  it('409 with Retry-After while in flight; 422 for another body; neither recorded', async () => {
    const app = await salesServer();
    const held = app.holdRoute('sales');
    const first = app.send('/sales', { total: 10 });
    await held.entered;
    await app.clock.advance(5_000);
    const conflict = await app.send('/sales', { total: 10 });
    expect(conflict.status).toBe(409);
    expect(conflict.headers.get('retry-after')).toBe('25');
    expect(conflict.headers.get('content-type')).toBe('application/problem+json');
    expect(await conflict.json()).toMatchObject({ code: 'IDEMPOTENCY_IN_FLIGHT' });
    const reused = await app.send('/sales', { total: 11 });
    expect(reused.status).toBe(422);
    expect(await reused.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    held.release();
    expect((await first).status).toBe(201);
    const retry = await app.send('/sales', { total: 10 });
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(app.sales).toHaveLength(1);
  });

  it('400 for a missing key where required and for malformed keys; the route does not run', async () => {
    const app = await salesServer({ required: (request) => request.url === '/sales' });
    const missing = await app.send('/sales', { total: 1 }, null);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_MISSING' });
    const malformed = await app.send('/sales', { total: 1 }, '"a", "b"');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID' });
    expect(app.sales).toHaveLength(0);
    expect((await app.send('/rejected', {}, null)).status).toBe(409);
  });

  it('413 before the route runs, declared length or chunked', async () => {
    const app = await salesServer({ maxBodyBytes: 50 });
    const declared = await app.send('/sales', { note: 'x'.repeat(100) });
    expect(declared.status).toBe(413);
    expect(declared.headers.get('content-type')).toBe('application/problem+json');
    expect(await declared.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${app.url}/sales`, {
        method: 'POST',
        headers: {
          'idempotency-key': 'k-chunked',
          'content-type': 'application/json',
          'transfer-encoding': 'chunked',
        },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(`{"note":"${'x'.repeat(40)}`);
      req.write(`${'y'.repeat(40)}"}`);
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(app.sales).toHaveLength(0);
  });

  it('fingerprints a JSON body that arrives in several chunks from its exact text', async () => {
    const app = await salesServer();
    // A character split between two chunks, and a number a double cannot hold.
    const send = (amount: string) =>
      new Promise<number>((resolve, reject) => {
        const bytes = Buffer.from(`{"amount":${amount},"note":"caf\u00e9 ${'x'.repeat(30)}"}`);
        const splitAt = bytes.indexOf(0xc3) + 1;
        const req = httpRequest(`${app.url}/sales`, {
          method: 'POST',
          headers: {
            'idempotency-key': '"k-chunks"',
            'content-type': 'application/json',
            'transfer-encoding': 'chunked',
          },
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.write(bytes.subarray(0, 5));
        setTimeout(() => req.write(bytes.subarray(5, splitAt)), 10);
        setTimeout(() => req.end(bytes.subarray(splitAt)), 20);
      });
    expect(await send('9007199254740993')).toBe(201);
    expect(await send('9007199254740992')).toBe(422);
    expect(await send('9007199254740993')).toBe(201);
    expect(app.sales).toHaveLength(1);
    expect(app.sales[0]).toMatchObject({ note: `caf\u00e9 ${'x'.repeat(30)}` });
  });

  it('records an answer finished after the client left before it started, so the retry replays', async () => {
    const app = await salesServer();
    const held = app.holdRoute('sales');
    const req = httpRequest(`${app.url}/sales`, {
      method: 'POST',
      headers: { 'idempotency-key': 'key-1', 'content-type': 'application/json' },
    });
    req.on('error', () => undefined);
    req.end('{"total":10}');
    await held.entered;
    req.destroy();
    await new Promise((resolve) => setTimeout(resolve, 20));
    held.release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const retry = await app.send('/sales', { total: 10 });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(app.sales).toHaveLength(1);
  });

  it('releases the key of a hijacked reply, which Fastify sends without onSend', async () => {
    const app = await salesServer();
    expect(await (await app.send('/hijacked', {})).text()).toBe('written raw');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const retry = await app.send('/hijacked', {});
    expect(retry.status).toBe(200);
    expect(retry.headers.has('idempotent-replayed')).toBe(false);
    expect(app.calls['/hijacked']).toBe(2);
  });

  it('replays the headers listed in recordHeaders, Set-Cookie included when listed', async () => {
    const app = await salesServer({ recordHeaders: ['Content-Type', 'Location', 'set-cookie'] });
    const first = await app.send('/sales', { total: 10 });
    expect(first.status).toBe(201);
    const replay = await app.send('/sales', { total: 10 });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('location')).toBe('/sales/1');
    expect(replay.headers.get('set-cookie')).toBe('session=first-client');
    expect(replay.headers.has('etag')).toBe(false);
    expect(replay.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await replay.json()).toEqual(await first.json());
  });

  it('respects encapsulation: a sibling context is not guarded', async () => {
    const app = await salesServer({ required: true });
    const a = await app.send('/open', {}, 'same');
    const b = await app.send('/open', {}, 'same');
    expect([await a.json(), await b.json()]).toEqual([{ n: 1 }, { n: 2 }]);
    expect((await app.send('/open', {}, null)).status).toBe(200);
  });

  it('covers PATCH and includes path and query in the fingerprint', async () => {
    const app = await salesServer();
    await app.send('/sales/1', { name: 'a' }, 'k-patch', {}, 'PATCH');
    expect(
      (await app.send('/sales/1', { name: 'a' }, 'k-patch', {}, 'PATCH')).headers.get(
        'idempotent-replayed',
      ),
    ).toBe('true');
    expect((await app.send('/sales/1?x=1', { name: 'a' }, 'k-patch', {}, 'PATCH')).status).toBe(
      422,
    );
  });

  it('fingerprints text bodies as their bytes', async () => {
    const app = await salesServer();
    const first = await app.send('/text', 'hello', 'k-text', { 'content-type': 'text/plain' });
    expect(await first.json()).toEqual({ got: 'hello' });
    const replay = await app.send('/text', 'hello', 'k-text', { 'content-type': 'text/plain' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(
      (await app.send('/text', 'hellO', 'k-text', { 'content-type': 'text/plain' })).status,
    ).toBe(422);
  });

  it('refuses registration without scope with INVALID_OPTIONS naming scope', async () => {
    const app = Fastify();
    apps.push(app);
    await expect(
      app.register(fastifyIdempotency, {
        store: new MemoryIdempotencyStore(),
      } as unknown as FastifyIdempotencyOptions),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'scope' } });
  });
});
