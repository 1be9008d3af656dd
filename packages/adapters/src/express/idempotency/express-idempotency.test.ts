// The behaviour every adapter shares (bodies, thrown 4xx/5xx, 401, streams, disconnects, scopes)
// is pinned once in test/idempotent-route-contract.test.ts; this file keeps what is particular
// to this adapter.
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { ManualClock, MemoryIdempotencyStore } from '@ballast/core';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { keyedSender, routeGates } from '../../../test/support/idempotent-routes.js';
import { type ExpressIdempotencyOptions, expressIdempotency } from './express-idempotency.js';

const servers: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function listen(app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  servers.push({
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function salesServer(options: Partial<ExpressIdempotencyOptions> = {}, parser = true) {
  const clock = new ManualClock(1_700_000_000_000);
  const store = new MemoryIdempotencyStore();
  const calls: Record<string, number> = {};
  const sales: unknown[] = [];
  const { hold, holdRoute } = routeGates();
  const app = express();
  if (parser) app.use(express.json());
  app.use(expressIdempotency({ store, clock, scope: 'global', ...options }));
  app.use((req, _res, next) => {
    calls[req.path] = (calls[req.path] ?? 0) + 1;
    next();
  });
  app.post('/sales', async (req, res) => {
    await hold('sales');
    sales.push(req.body);
    res
      .status(201)
      .location(`/sales/${sales.length}`)
      .set('etag', `"${sales.length}"`)
      .cookie('session', 'first-client')
      .json({ id: sales.length, body: req.body });
  });
  app.patch('/sales/:id', (req, res) => {
    res.json({ patched: req.params.id, body: req.body });
  });
  app.post('/rejected', (_req, res) => {
    res.status(409).json({ error: 'stock insuficiente' });
  });
  app.post('/unavailable', (_req, res) => {
    res.status(503).send('try later');
  });
  app.post('/throws', async () => {
    throw new Error('db down');
  });
  app.post('/stream', async (_req, res) => {
    res.type('text/plain');
    res.write('part 1;');
    await hold('stream');
    res.write('part 2;');
    res.end('end');
  });
  app.post('/write-head', (_req, res) => {
    res.writeHead(202, { 'content-type': 'text/plain', location: '/queued/1' });
    res.end('queued');
  });
  app.post('/raw', (req, res) => {
    res.json({ bodyType: Buffer.isBuffer(req.body) ? 'buffer' : typeof req.body, body: req.body });
  });
  const url = await listen(app);
  const send = keyedSender(url);
  return { url, clock, store, calls, sales, send, holdRoute };
}

describe('expressIdempotency', () => {
  it('mounted with no parser, decodes a compressed body: a 10 MB zip bomb is 413, br text reaches the route inflated', async () => {
    const app = await salesServer({ maxBodyBytes: 64 * 1024 }, false);
    const post = (path: string, key: string, type: string, coding: string, body: Buffer) =>
      fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'idempotency-key': key, 'content-type': type, 'content-encoding': coding },
        body: new Uint8Array(body),
      });
    // 10 MB of zeros in about 10 kB: within maxBodyBytes as sent, far over it inflated.
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, '0'), { level: 9 });
    expect(bomb.length).toBeLessThan(64 * 1024);
    const refused = await post('/raw', 'bomb', 'text/plain', 'gzip', bomb);
    expect(refused.status).toBe(413);
    expect(await refused.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(app.calls['/raw']).toBeUndefined();
    const text = await post('/raw', 'text', 'text/plain', 'br', brotliCompressSync('hola'));
    expect(await text.json()).toEqual({
      bodyType: 'buffer',
      body: { type: 'Buffer', data: [...Buffer.from('hola')] },
    });
    const json = await post('/sales', 'json', 'application/json', 'gzip', gzipSync('{"total":3}'));
    expect(await json.json()).toEqual({ id: 1, body: { total: 3 } });
  });

  it('runs once, records, and replays status, allow-listed headers and body', async () => {
    const app = await salesServer();
    const first = await app.send('/sales', { total: 10 }, '"key-1"');
    expect(first.status).toBe(201);
    expect(first.headers.get('set-cookie')).toContain('session=first-client');
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
    const statuses = responses.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
    expect(
      responses.filter((r) => r.status === 201 && !r.headers.has('idempotent-replayed')),
    ).toHaveLength(1);
    expect(app.sales).toHaveLength(1);
    expect((await app.send('/sales', { total: 10 })).headers.get('idempotent-replayed')).toBe(
      'true',
    );
  });

  it('409 with Retry-After while the first is in flight; 422 for another body; neither recorded', async () => {
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
    expect(await reused.json()).toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
      instance: '/sales',
    });
    held.release();
    expect((await first).status).toBe(201);
    const retry = await app.send('/sales', { total: 10 });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(app.calls['/sales']).toBe(1);
  });

  it('400 for a missing key on a required route and for malformed keys; handler not run', async () => {
    const app = await salesServer({ required: (req) => req.path === '/sales' });
    const missing = await app.send('/sales', { total: 1 }, null);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_MISSING' });
    for (const key of ['"a", "b"', '"open', 'x'.repeat(256)]) {
      const malformed = await app.send('/sales', { total: 1 }, key);
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID' });
    }
    expect(app.calls['/sales']).toBeUndefined();
    // Not required elsewhere: a keyless write passes.
    expect((await app.send('/rejected', {}, null)).status).toBe(409);
  });

  it('413 before the handler runs when the body exceeds maxBodyBytes', async () => {
    const app = await salesServer({ maxBodyBytes: 50 });
    const response = await app.send('/sales', { note: 'x'.repeat(100) });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(app.calls['/sales']).toBeUndefined();
  });

  it('reads the body itself when no parser ran, and agrees with the parsed fingerprint', async () => {
    const app = await salesServer({}, false);
    const first = await app.send('/raw', '{"b":2,"a":1}');
    expect(await first.json()).toEqual({ bodyType: 'object', body: { a: 1, b: 2 } });
    const replay = await app.send('/raw', '{ "a": 1, "b": 2 }');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const text = await app.send('/raw', 'plain', 'key-2', { 'content-type': 'text/plain' });
    expect(await text.json()).toEqual({
      bodyType: 'buffer',
      body: { type: 'Buffer', data: [112, 108, 97, 105, 110] },
    });
  });

  it('parses a JSON body sent with a byte order mark when no parser ran, as express.json() does', async () => {
    const app = await salesServer({}, false);
    const first = await app.send('/raw', '\uFEFF{"a":1}');
    expect(await first.json()).toEqual({ bodyType: 'object', body: { a: 1 } });
  });

  it('answers a JSON body that is not JSON 400 before claiming, as express.json() after it would have', async () => {
    // Mounted before express.json() as documented, the middleware spends the stream, so the
    // parser skips the request: a route must never receive the raw bytes of broken JSON.
    const app = await salesServer({}, false);
    const broken = await app.send('/raw', '{"total":', 'broken-1');
    expect(broken.status).toBe(400);
    expect(broken.headers.get('content-type')).toBe('application/problem+json');
    expect(await broken.json()).toMatchObject({ code: 'VALIDATION_FAILED', reason: 'not-json' });
    expect(app.calls['/raw']).toBeUndefined();
    // Nothing was claimed: the corrected request with the same key runs.
    const fixed = await app.send('/raw', '{"total":1}', 'broken-1');
    expect(fixed.status).toBe(200);
    expect(await fixed.json()).toEqual({ bodyType: 'object', body: { total: 1 } });
  });

  it('keeps headers given to writeHead()', async () => {
    const app = await salesServer();
    await app.send('/write-head', {});
    const replay = await app.send('/write-head', {});
    expect(replay.status).toBe(202);
    expect(replay.headers.get('location')).toBe('/queued/1');
    expect(await replay.text()).toBe('queued');
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

  it('covers PATCH by default and includes the path in the fingerprint', async () => {
    const app = await salesServer();
    await app.send('/sales/1', { name: 'a' }, 'k-patch', {}, 'PATCH');
    const replay = await app.send('/sales/1', { name: 'a' }, 'k-patch', {}, 'PATCH');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await app.send('/sales/2', { name: 'a' }, 'k-patch', {}, 'PATCH')).status).toBe(422);
  });

  it('refuses a missing or null options argument with INVALID_OPTIONS, never a TypeError', () => {
    for (const options of [undefined, null]) {
      expect(() => expressIdempotency(options as unknown as ExpressIdempotencyOptions)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS' }),
      );
    }
  });

  it('refuses bad adapter options with INVALID_OPTIONS', () => {
    expect(() =>
      expressIdempotency({
        store: new MemoryIdempotencyStore(),
        scope: 'global',
        required: 'yes' as unknown as boolean,
      }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('refuses construction without scope (INVALID_OPTIONS naming scope); takes a function or global', () => {
    const store = new MemoryIdempotencyStore();
    expect(() => expressIdempotency({ store } as unknown as ExpressIdempotencyOptions)).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        details: expect.objectContaining({ field: 'scope' }),
      }),
    );
    expect(() => expressIdempotency({ store, scope: 'global' })).not.toThrow();
    expect(() => expressIdempotency({ store, scope: (req) => req.ip ?? '' })).not.toThrow();
  });
});
