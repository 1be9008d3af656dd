import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPGlite } from '../../../packages/adapters/test/support/fresh-pglite.js';
import { createSalesApp } from './app.js';
import { type Database, openDatabase } from './database.js';

describe('express-sales example', () => {
  let database: Database;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    database = await openDatabase(freshPGlite());
    server = createSalesApp({ db: database.db }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await database.db.destroy();
  });

  const postSale = (key: string | undefined, body: unknown) =>
    fetch(`${base}/sales`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(key === undefined ? {} : { 'idempotency-key': key }),
      },
      body: JSON.stringify(body),
    });
  const coffee = { item: 'coffee', quantity: 2, unitPriceCents: 350 };

  it('records a retried sale once and replays the original answer', async () => {
    const first = await postSale('"sale-0001"', coffee);
    expect(first.status).toBe(201);
    const created = await first.json();
    expect(created).toMatchObject({ item: 'coffee', quantity: 2, totalCents: 700 });
    expect(first.headers.get('location')).toBe(`/sales/${created.id}`);

    const retry = await postSale('"sale-0001"', coffee);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('location')).toBe(`/sales/${created.id}`);
    expect(await retry.json()).toEqual(created);

    const sales = await (await fetch(`${base}/sales`)).json();
    expect(sales.filter((sale: { item: string }) => sale.item === 'coffee')).toHaveLength(1);
  });

  it('refuses the same key with another sale (422) and records nothing', async () => {
    await postSale('sale-0002', { ...coffee, item: 'tea' });
    const reused = await postSale('sale-0002', { ...coffee, item: 'cake' });
    expect(reused.status).toBe(422);
    expect(reused.headers.get('content-type')).toContain('application/problem+json');
    expect(await reused.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    const sales = await (await fetch(`${base}/sales`)).json();
    expect(sales.filter((sale: { item: string }) => sale.item === 'cake')).toHaveLength(0);
    // The original answer is untouched by the refusal.
    const retry = await postSale('sale-0002', { ...coffee, item: 'tea' });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
  });

  it('requires a key on POST /sales (400)', async () => {
    const missing = await postSale(undefined, coffee);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_MISSING' });
  });

  it('answers invalid input with 400 problem+json naming the field, and records nothing', async () => {
    const bad = await postSale('sale-0003', { item: 'coffee', quantity: -1, unitPriceCents: 1 });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(await bad.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'quantity' });
    // The key was never claimed: the corrected sale goes through under the same key.
    const fixed = await postSale('sale-0003', { item: 'coffee', quantity: 1, unitPriceCents: 1 });
    expect(fixed.status).toBe(201);
  });

  it('edits a sale only with the version it was read at: 200, then 412 with the current sale, 428 without If-Match', async () => {
    const created = await postSale('sale-0004', {
      item: 'bagel',
      quantity: 1,
      unitPriceCents: 200,
    });
    const { id } = (await created.json()) as { id: number };
    const read = await fetch(`${base}/sales/${id}`);
    const etag = read.headers.get('etag');
    expect(etag).toBe('"1"');
    const patch = (ifMatch: string | undefined, body: unknown) =>
      fetch(`${base}/sales/${id}`, {
        method: 'PATCH',
        headers: {
          'content-type': 'application/json',
          ...(ifMatch ? { 'if-match': ifMatch } : {}),
        },
        body: JSON.stringify(body),
      });

    const first = await patch('"1"', { quantity: 3 });
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"2"');
    expect(await first.json()).toMatchObject({ quantity: 3, totalCents: 600, version: 2 });

    // A second till still holding version 1 does not overwrite the first till's edit.
    const stale = await patch('"1"', { quantity: 5 });
    expect(stale.status).toBe(412);
    expect(await stale.json()).toMatchObject({
      code: 'PRECONDITION_FAILED',
      currentVersion: 2,
      current: { id, quantity: 3, version: 2 },
    });
    const blind = await patch(undefined, { quantity: 5 });
    expect(blind.status).toBe(428);
    expect(await (await fetch(`${base}/sales/${id}`)).json()).toMatchObject({
      quantity: 3,
      version: 2,
    });
  });

  it('answers an unknown sale and an unknown route with 404 problem+json, never HTML', async () => {
    const missing = await fetch(`${base}/sales/999999`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'NOT_FOUND' });
    const nowhere = await fetch(`${base}/nowhere`);
    expect(nowhere.headers.get('content-type')).toContain('application/problem+json');
  });
});
