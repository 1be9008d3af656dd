/**
 * Hostile and random input over HTTP, on every front end (fetch middleware, Express before and
 * after `express.json()`, Fastify): random bodies (any JSON, deep nesting, numbers a double
 * cannot hold, text, random bytes, over the size limit), content types and charsets, content
 * encodings, `Idempotency-Key` header values and tenant scopes. Two promises hold for every
 * draw: Ballast never answers 5xx (a bad request is the client's error), and no key stays in
 * flight once the response is out (the same request again is never a 409). Bounded: a fixed
 * number of draws per front end; CI replays a fixed seed (vitest.setup.ts).
 */
import { MemoryIdempotencyStore } from '@ballast/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdempotentRouteServer } from './support/idempotent-route-contract.js';
import { startExpress, startFastify, startFetch } from './support/idempotent-route-servers.js';
import { rawHttp } from './support/raw-http.js';

const printable = (maxLength: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    maxLength,
  });

const body = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc
    .integer({ min: 200, max: 450 })
    .map((depth) => Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`)),
  fc
    .integer({ min: 200, max: 450 })
    .map((depth) => Buffer.from(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map((n) => Buffer.from(`{"amount":${n}}`)),
  fc
    .constantFrom('1e400', '-1e400', '1e-400', '0.1000000000000000000001', '[01]', '{"a":1,}')
    .map((text) => Buffer.from(`{"n":${text}}`)),
  fc.string({ maxLength: 200 }).map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 1_200 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(Buffer.alloc(0)),
);

const contentType = fc.option(
  fc.oneof(
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'application/vnd.api+json',
      'text/plain',
      'text/plain; charset=utf-16',
      'application/octet-stream',
      'multipart/form-data; boundary=x',
    ),
    printable(40),
  ),
  { nil: undefined },
);

const key = fc.option(
  fc.oneof(
    fc.uuid(),
    fc.uuid().map((uuid) => `"${uuid}"`),
    printable(300),
    printable(40).map((text) => `"${text.replace(/["\\]/g, '\\$&')}";a=1`),
    fc.constantFrom('"a", "b"', '""', ' ', '"\\x"', `"${'k'.repeat(256)}"`, ' '.repeat(2_000)),
  ),
  { nil: undefined },
);

const scope = fc.oneof(
  fc.constantFrom('tenant-a', 'tenant-b', '', 't'.repeat(256)),
  printable(300),
);

const encoding = fc.option(fc.constantFrom('gzip', 'identity', 'br', 'x-unknown'), {
  nil: undefined,
});

const path = fc.constantFrom('/orders', '/orders?dry=1', '/throws-4xx', '/unauthorized');

const request = fc.record({ body, contentType, key, scope, encoding, path });
type FuzzRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

const frontEnds: Array<[string, () => Promise<IdempotentRouteServer>]> = [
  ['fetch middleware', () => startFetch(new MemoryIdempotencyStore())],
  ['express, middleware first', () => startExpress(new MemoryIdempotencyStore(), false)],
  ['express, express.json() first', () => startExpress(new MemoryIdempotencyStore(), true)],
  ['fastify', () => startFastify(new MemoryIdempotencyStore())],
];

describe.each(frontEnds)('%s under random and hostile input', (_name, start) => {
  let server: IdempotentRouteServer;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(async () => {
    await server.close();
  });

  const send = (draw: FuzzRequest) => {
    const headers: Array<[string, string]> = [['x-tenant', draw.scope]];
    if (draw.key !== undefined) headers.push(['idempotency-key', draw.key]);
    if (draw.contentType !== undefined) headers.push(['content-type', draw.contentType]);
    if (draw.encoding !== undefined) headers.push(['content-encoding', draw.encoding]);
    return rawHttp(`${server.baseUrl}${draw.path}`, { method: 'POST', headers, body: draw.body });
  };

  it('never answers 5xx and never leaves a key in flight after the response', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (draw) => {
        const first = await send(draw);
        expect(first.status, first.text).toBeLessThan(500);
        expect(first.text).not.toMatch(/\bat .*\.(?:ts|js):\d+/);
        const again = await send(draw);
        expect(again.status, again.text).toBeLessThan(500);
        expect(again.status, again.text).not.toBe(409);
      }),
      { numRuns: 60 },
    );
  }, 60_000);
});
