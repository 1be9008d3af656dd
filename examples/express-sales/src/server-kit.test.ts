/**
 * The server kit's routes of the sales API over HTTP, on PGlite: voiding and restoring a sale
 * (soft delete), enrolling a till with a code that expires, a failed second step undone
 * (compensate), health, and the rate limits' 429.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '@ballast/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPGlite } from '../../../packages/adapters/test/support/fresh-pglite.js';
import { createSalesApp, type SalesAppOptions } from './app.js';
import { type Database, openDatabase } from './database.js';

const hour = 3_600_000;
const start = Date.parse('2026-12-01T09:00:00Z');

async function listen(options: SalesAppOptions): Promise<{ base: string; server: Server }> {
  const server = createSalesApp(options).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('express-sales: server kit routes', () => {
  let database: Database;
  let server: Server;
  let base: string;
  const clock = new ManualClock(start);

  beforeAll(async () => {
    database = await openDatabase(freshPGlite());
    ({ base, server } = await listen({ db: database.db, clock, enrolmentTtlMs: hour }));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await database.db.destroy();
  });

  const json = { 'content-type': 'application/json' };
  const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { ...json, ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const newCode = async () => {
    const response = await post('/enrolment-codes');
    expect(response.status).toBe(201);
    return (await response.json()) as { code: string; expiresAt: string };
  };

  it('voids a sale (soft delete) and restores it', async () => {
    const created = await post(
      '/sales',
      { item: 'scone', quantity: 1, unitPriceCents: 300 },
      { 'idempotency-key': '"kit-void-1"' },
    );
    const { id } = (await created.json()) as { id: number };
    const voided = await fetch(`${base}/sales/${id}`, { method: 'DELETE' });
    expect(voided.status).toBe(204);
    expect((await fetch(`${base}/sales/${id}`)).status).toBe(404);
    const listed = (await (await fetch(`${base}/sales`)).json()) as Array<{ id: number }>;
    expect(listed.map((sale) => sale.id)).not.toContain(id);
    // A voided sale cannot be edited, even at its current version.
    const edit = await fetch(`${base}/sales/${id}`, {
      method: 'PATCH',
      headers: { ...json, 'if-match': '"1"' },
      body: JSON.stringify({ quantity: 2 }),
    });
    expect(edit.status).toBe(404);
    // The row is kept, stamped with the clock's time.
    const row = await sql<{
      deleted_at: Date;
    }>`SELECT deleted_at FROM sales WHERE id = ${id}`.execute(database.db);
    expect(new Date(row.rows[0]?.deleted_at as Date).getTime()).toBe(clock.now());
    expect((await fetch(`${base}/sales/${id}`, { method: 'DELETE' })).status).toBe(204);

    const restored = await post(`/sales/${id}/restore`);
    expect(restored.status).toBe(200);
    expect(await restored.json()).toMatchObject({ id, item: 'scone', version: 1 });
    expect((await fetch(`${base}/sales/${id}`)).status).toBe(200);
    expect((await fetch(`${base}/sales/999999`, { method: 'DELETE' })).status).toBe(404);
  });

  it('enrols a till with a code once; an expired code answers 410 EXPIRED', async () => {
    const { code, expiresAt } = await newCode();
    expect(expiresAt).toBe(new Date(clock.now() + hour).toISOString());
    const enrolled = await post('/tills', {
      enrolmentCode: code,
      name: 'till-1',
      floatCents: 5_000,
    });
    expect(enrolled.status).toBe(201);
    expect(await enrolled.json()).toMatchObject({ name: 'till-1', floatCents: 5_000 });
    const again = await post('/tills', { enrolmentCode: code, name: 'till-1b', floatCents: 0 });
    expect(again.status).toBe(404);

    const late = await newCode();
    await clock.advance(hour);
    const expired = await post('/tills', {
      enrolmentCode: late.code,
      name: 'till-2',
      floatCents: 0,
    });
    expect(expired.status).toBe(410);
    expect(expired.headers.get('content-type')).toContain('application/problem+json');
    expect(await expired.json()).toMatchObject({ code: 'EXPIRED', expiredAt: late.expiresAt });
    const tills = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM tills WHERE name = 'till-2'`.execute(database.db);
    expect(tills.rows[0]?.n).toBe(0);
  });

  it('undoes the till when its drawer cannot be created (compensate), so the same code works on retry', async () => {
    const { code } = await newCode();
    const tills = async () =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM tills`.execute(database.db)).rows[0]
        ?.n;
    const before = await tills();
    // The second step fails after the first committed.
    await sql`ALTER TABLE till_drawers RENAME TO till_drawers_away`.execute(database.db);
    try {
      const failed = await post('/tills', { enrolmentCode: code, name: 'till-3', floatCents: 100 });
      expect(failed.status).toBe(500);
      const body = await failed.text();
      expect(body).not.toContain('till_drawers');
    } finally {
      await sql`ALTER TABLE till_drawers_away RENAME TO till_drawers`.execute(database.db);
    }
    expect(await tills()).toBe(before);
    const retried = await post('/tills', { enrolmentCode: code, name: 'till-3', floatCents: 100 });
    expect(retried.status).toBe(201);
    expect(await tills()).toBe((before ?? 0) + 1);
  });

  it('validates an enrolment: 400 naming the field', async () => {
    const bad = await post('/tills', { enrolmentCode: 'x', name: 'till-4', floatCents: -1 });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'floatCents' });
  });

  it('reports health: /health with the database, /health/live without it', async () => {
    const report = await fetch(`${base}/health`);
    expect(report.status).toBe(200);
    expect(await report.json()).toMatchObject({ status: 'up', checks: { db: { status: 'up' } } });
    expect(await (await fetch(`${base}/health/live`)).json()).toMatchObject({ status: 'up' });
  });

  it('limits enrolments to 5 per 15 minutes per IP: the 6th gets 429 with Retry-After', async () => {
    const limited = await listen({ db: database.db, clock, rateLimitAllowList: [] });
    try {
      for (let i = 0; i < 5; i++) {
        const attempt = await fetch(`${limited.base}/tills`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ enrolmentCode: 'wrong', name: `guess-${i}`, floatCents: 0 }),
        });
        expect(attempt.status).toBe(404);
        expect(attempt.headers.get('ratelimit-remaining')).toBe(String(4 - i));
      }
      const refused = await fetch(`${limited.base}/tills`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ enrolmentCode: 'wrong', name: 'guess-5', floatCents: 0 }),
      });
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await refused.json()).toMatchObject({ code: 'RATE_LIMITED', limit: 5 });
      // Other routes have their own, larger budget.
      expect((await fetch(`${limited.base}/sales`)).status).toBe(200);
    } finally {
      await new Promise((resolve) => limited.server.close(resolve));
    }
  });
});
