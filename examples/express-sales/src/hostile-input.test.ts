/**
 * The sales API's routes meet malformed and hostile input over HTTP: bad If-Match values, path
 * ids that are not ids (or out of the column's range), numbers the database cannot hold, used
 * or unknown enrolment codes, oversized and malformed bodies. Every answer is a 4xx in
 * problem+json, never a 5xx, and never a stack trace or SQL.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '@ballast/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPGlite } from '../../../packages/adapters/test/support/fresh-pglite.js';
import { createSalesApp } from './app.js';
import { type Database, openDatabase } from './database.js';

const hour = 3_600_000;
let database: Database;
let server: Server;
let base: string;
let saleId: number;
const clock = new ManualClock(Date.parse('2026-12-01T09:00:00Z'));

async function send(method: string, path: string, body?: string, headers = {}) {
  const response = await fetch(`${base}${path}`, {
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
  expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
  expect(answer.status, answer.text).toBeLessThan(500);
  if (status !== undefined) expect(answer.status, answer.text).toBe(status);
  expect(answer.type).toContain('application/problem+json');
  expect(answer.text).not.toMatch(/at .*\.(ts|js):\d+|<html|SELECT|UPDATE|INSERT|out of range/i);
}

beforeAll(async () => {
  database = await openDatabase(freshPGlite());
  server = createSalesApp({ db: database.db, clock, enrolmentTtlMs: hour }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const created = await send(
    'POST',
    '/sales',
    JSON.stringify({ item: 'coffee', quantity: 1, unitPriceCents: 300 }),
    { 'idempotency-key': `"${crypto.randomUUID()}"` },
  );
  expect(created.status, created.text).toBe(201);
  saleId = JSON.parse(created.text).id;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await database?.db.destroy();
});

describe('express-sales with hostile input', () => {
  it.each([
    ['a weak tag', 'W/"1"'],
    ['a list', '"1", "2"'],
    ['a huge number', '"99999999999999999999999"'],
    ['a number past the integer column', '"2147483648"'],
    ['a negative number', '"-1"'],
    ['no quotes', '1'],
    ['an empty tag', '""'],
  ])('PATCH with If-Match %s → 4xx problem+json, nothing changed', async (_label, ifMatch) => {
    const before = await send('GET', `/sales/${saleId}`);
    expectProblem(
      await send('PATCH', `/sales/${saleId}`, '{"quantity":2}', { 'if-match': ifMatch }),
    );
    expect((await send('GET', `/sales/${saleId}`)).text).toBe(before.text);
  });

  it.each([
    ['not a number', '/sales/abc'],
    ['zero', '/sales/0'],
    ['a fraction', '/sales/1.5'],
    ['past the integer column', '/sales/2147483648'],
    ['huge', '/sales/99999999999999999999'],
    ['a traversal', '/sales/..%2F..%2Fetc'],
  ])(
    'GET, PATCH, DELETE and restore with an id that is %s → 4xx problem+json',
    async (_label, path) => {
      expectProblem(await send('GET', path));
      expectProblem(await send('PATCH', path, '{"quantity":2}', { 'if-match': '"1"' }));
      expectProblem(await send('DELETE', path));
      expectProblem(await send('POST', `${path}/restore`));
    },
  );

  it.each([
    ['a quantity past the integer column', { item: 'x', quantity: 2 ** 31, unitPriceCents: 1 }],
    ['a price past the integer column', { item: 'x', quantity: 1, unitPriceCents: 2 ** 40 }],
  ])('POST /sales with %s → 400 problem+json', async (_label, body) => {
    expectProblem(
      await send('POST', '/sales', JSON.stringify(body), {
        'idempotency-key': `"${crypto.randomUUID()}"`,
      }),
      400,
    );
  });

  it('PATCH with a quantity past the integer column → 400, nothing changed', async () => {
    const before = await send('GET', `/sales/${saleId}`);
    const etag = JSON.parse(before.text).version;
    expectProblem(
      await send('PATCH', `/sales/${saleId}`, JSON.stringify({ quantity: 2 ** 31 }), {
        'if-match': `"${etag}"`,
      }),
      400,
    );
    expect((await send('GET', `/sales/${saleId}`)).text).toBe(before.text);
  });

  it.each([
    ['malformed JSON', '{"item":'],
    ['an oversized body', JSON.stringify({ item: 'x'.repeat(2_000_000) })],
  ])('POST /sales with %s → 4xx problem+json', async (_label, body) => {
    expectProblem(
      await send('POST', '/sales', body, { 'idempotency-key': `"${crypto.randomUUID()}"` }),
    );
  });

  it('enrolment with an unknown, used or expired code, or a float past the column → 4xx', async () => {
    const enrol = (enrolmentCode: string, floatCents = 0) =>
      send('POST', '/tills', JSON.stringify({ enrolmentCode, name: 'Till', floatCents }));
    expectProblem(await enrol('no-such-code'), 404);
    expectProblem(await enrol("x' OR '1'='1"), 404);
    const code = JSON.parse((await send('POST', '/enrolment-codes')).text).code;
    expectProblem(await enrol(code, 2 ** 31), 400);
    expect((await enrol(code)).status).toBe(201);
    expectProblem(await enrol(code), 404);
    const late = JSON.parse((await send('POST', '/enrolment-codes')).text).code;
    await clock.advance(hour + 1);
    expectProblem(await enrol(late), 410);
  });
});
