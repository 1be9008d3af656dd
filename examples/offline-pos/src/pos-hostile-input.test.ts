/**
 * The till server's own routes (products, customers, notes, uploads, storage) meet malformed
 * and hostile input over HTTP: every refusal is a 4xx in problem+json, never a 5xx, an HTML
 * page or a stack trace.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPGlite } from '../../../packages/adapters/test/support/fresh-pglite.js';
import { openDatabase } from '../../express-sales/src/database.js';
import { createPosApp } from './pos-server.js';

describe('offline POS server with hostile input', () => {
  let server: Server;
  let origin: string;
  let database: Awaited<ReturnType<typeof openDatabase>>;

  beforeAll(async () => {
    database = await openDatabase(freshPGlite());
    const app = createPosApp({ db: database.db, script: '' });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await database?.db.destroy();
  });

  async function send(method: string, path: string, body?: string, headers = {}) {
    const response = await fetch(`${origin}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body }),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type') ?? '',
      text: await response.text(),
    };
  }

  function expectProblem(answer: { status: number; type: string; text: string }, status?: number) {
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    if (status !== undefined) expect(answer.status).toBe(status);
    expect(answer.type).toContain('application/problem+json');
    expect(answer.text).not.toMatch(/at .*\.(ts|js):\d+|<html|<pre>/i);
  }

  it.each([
    ['POST', '/customers', '{"name":'],
    ['POST', '/notes', '{not json'],
    ['POST', '/uploads', '{"name":'],
    ['POST', '/uploads/confirm', '['],
    ['PATCH', '/products/coffee', '{'],
  ])('%s %s with malformed JSON → 400 problem+json', async (method, path, body) => {
    expectProblem(await send(method, path, body, { 'if-match': '"1"' }), 400);
  });

  it.each([
    ['POST', '/customers', JSON.stringify({ name: 'x'.repeat(10_000) })],
    ['POST', '/uploads/confirm', JSON.stringify({ token: 'x'.repeat(40_000) })],
    ['PATCH', '/products/coffee', JSON.stringify({ name: 'x'.repeat(40_000) })],
  ])('%s %s with an oversized body → 413 problem+json', async (method, path, body) => {
    expectProblem(await send(method, path, body, { 'if-match': '"1"' }), 413);
  });

  it.each(['W/"1"', '"7", "8"', '"99999999999999999999999"', '""'])(
    'PATCH /products/coffee with If-Match %s → 412 problem+json',
    async (ifMatch) => {
      expectProblem(
        await send('PATCH', '/products/coffee', '{"name":"Tea"}', { 'if-match': ifMatch }),
        412,
      );
    },
  );

  it('PATCH /products/coffee with an If-Match that is not an entity tag → 400, as the server kit answers', async () => {
    expectProblem(
      await send('PATCH', '/products/coffee', '{"name":"Tea"}', { 'if-match': '1' }),
      400,
    );
  });

  it.each([
    ['*', () => '*'],
    ['a list naming the current version', (version: number) => `"${version + 5}", "${version}"`],
  ])('PATCH /products/coffee with If-Match %s edits it (RFC 9110 §13.1.1)', async (_label, tag) => {
    const before = await (await fetch(`${origin}/products/coffee`)).json();
    const edited = await send('PATCH', '/products/coffee', '{"stock":999}', {
      'if-match': tag(before.version),
    });
    expect(edited.status, edited.text).toBe(200);
    expect(JSON.parse(edited.text)).toMatchObject({ stock: 999, version: before.version + 1 });
  });

  it.each([
    ['a body that is not an object', '["x"]'],
    ['a price that is not a number', '{"priceCents":"free"}'],
    ['an unknown field', '{"version":999}'],
    ['negative stock', '{"stock":-5}'],
  ])('PATCH /products/coffee with %s → 400 and nothing changed', async (_label, body) => {
    const before = await (await fetch(`${origin}/products/coffee`)).json();
    expectProblem(
      await send('PATCH', '/products/coffee', body, { 'if-match': `"${before.version}"` }),
      400,
    );
    expect(await (await fetch(`${origin}/products/coffee`)).json()).toEqual(before);
  });

  it.each([
    ['a traversal', '/products/..%2F..%2Fetc'],
    ['a NUL', '/products/%00'],
    ['5,000 characters', `/products/${'a'.repeat(5_000)}`],
  ])('GET /products/<%s> → 404 problem+json', async (_label, path) => {
    expectProblem(await send('GET', path), 404);
  });

  it.each([
    '/storage/../../etc/passwd',
    '/storage/%2e%2e/%2e%2e/etc/passwd',
    '/storage/receipts/x?X-Expires=1&X-Signature=abc',
    '/storage/receipts/%00',
  ])('PUT %s without a valid signature → 4xx, nothing stored', async (path) => {
    const answer = await send('PUT', path, 'hello', { 'content-type': 'text/plain' });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.text).not.toMatch(/at .*\.(ts|js):\d+|<html/i);
  });

  it('an upload token that is forged, expired or used → 4xx problem+json', async () => {
    expectProblem(
      await send('POST', '/uploads/confirm', JSON.stringify({ token: 'forged.token' })),
    );
    expectProblem(await send('POST', '/uploads/confirm', JSON.stringify({ token: 42 })), 400);
  });
});
