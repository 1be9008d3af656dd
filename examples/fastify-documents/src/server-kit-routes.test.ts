import { ManualClock } from '@ballast/core';
import { failOnCall } from '@ballast/core/testing';
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from './app.js';
import { openTestEnvironment, type TestEnvironment } from './test-environment.js';

const start = Date.parse('2026-12-01T09:00:00Z');
const hour = 3_600_000;
let env: TestEnvironment;
let db: Kysely<unknown>;
let storage: TestEnvironment['storage'];
let records: TestEnvironment['records'];
const clock = new ManualClock(start);
let app: FastifyInstance;

beforeAll(async () => {
  env = await openTestEnvironment('fastify-documents-kit');
  ({ db, storage, records } = env);
  app = await buildApp({ db, storage, records, clock, shareTtlMs: hour });
});

afterAll(async () => {
  await app?.close();
  await env?.close();
});

async function upload(name: string): Promise<{ id: string }> {
  const response = await app.inject({
    method: 'POST',
    url: `/documents?name=${encodeURIComponent(name)}`,
    headers: { 'content-type': 'text/plain' },
    payload: `contents of ${name}`,
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

const rename = (id: string, name: unknown, ifMatch?: string) =>
  app.inject({
    method: 'PATCH',
    url: `/documents/${id}`,
    headers: { 'content-type': 'application/json', ...(ifMatch ? { 'if-match': ifMatch } : {}) },
    payload: JSON.stringify({ name }),
  });

describe('fastify-documents: server kit routes', () => {
  it('renames only at the version read: 200 with a new ETag, 412 with the current version, 428 without If-Match', async () => {
    const { id } = await upload('draft.txt');
    const read = await app.inject({ url: `/documents/${id}` });
    expect(read.headers.etag).toBe('"1"');

    const first = await rename(id, 'final.txt', '"1"');
    expect(first.statusCode).toBe(200);
    expect(first.headers.etag).toBe('"2"');
    expect(first.json()).toMatchObject({ id, name: 'final.txt', version: 2 });

    // A second editor still holding version 1 does not overwrite the first one's rename.
    const stale = await rename(id, 'mine.txt', '"1"');
    expect(stale.statusCode).toBe(412);
    expect(stale.headers['content-type']).toBe('application/problem+json');
    expect(stale.json()).toMatchObject({ code: 'PRECONDITION_FAILED', currentVersion: 2 });
    const blind = await rename(id, 'mine.txt');
    expect(blind.statusCode).toBe(428);
    expect(blind.json()).toMatchObject({ code: 'PRECONDITION_REQUIRED' });
    expect((await app.inject({ url: `/documents/${id}` })).json()).toMatchObject({
      name: 'final.txt',
      version: 2,
    });
  });

  it('validates a rename with zod: 400 naming the field, nothing written', async () => {
    const { id } = await upload('kept.txt');
    const empty = await rename(id, '   ', '"1"');
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'name' });
    const badId = await rename('not-a-uuid', 'x', '"1"');
    expect(badId.statusCode).toBe(400);
    expect(badId.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'id' });
    expect((await app.inject({ url: `/documents/${id}` })).json()).toMatchObject({
      name: 'kept.txt',
      version: 1,
    });
  });

  it('a share link works until it expires (410 EXPIRED), and a revoked one is 404 until restored', async () => {
    const { id } = await upload('shared.txt');
    const created = await app.inject({ method: 'POST', url: `/documents/${id}/shares` });
    expect(created.statusCode).toBe(201);
    const share = created.json<{ token: string; expiresAt: string }>();
    expect(share.expiresAt).toBe(new Date(clock.now() + hour).toISOString());
    expect(created.headers.location).toBe(`/shares/${share.token}`);
    expect(await storage.head(`shares/${share.token}.json`)).toBeDefined();

    const follow = () => app.inject({ url: `/shares/${share.token}` });
    expect((await follow()).json()).toMatchObject({ id, name: 'shared.txt' });

    const revoked = await app.inject({ method: 'DELETE', url: `/shares/${share.token}` });
    expect(revoked.statusCode).toBe(204);
    expect((await follow()).statusCode).toBe(404);
    const restored = await app.inject({ method: 'POST', url: `/shares/${share.token}/restore` });
    expect(restored.json()).toEqual({ token: share.token, restored: true });
    expect((await follow()).statusCode).toBe(200);

    // A link to a deleted document leads nowhere.
    const other = await upload('deleted-later.txt');
    const link = (await app.inject({ method: 'POST', url: `/documents/${other.id}/shares` })).json<{
      token: string;
    }>();
    expect((await app.inject({ url: `/shares/${link.token}` })).statusCode).toBe(200);
    await app.inject({ method: 'DELETE', url: `/documents/${other.id}` });
    expect((await app.inject({ url: `/shares/${link.token}` })).statusCode).toBe(404);

    await clock.advance(hour);
    const expired = await follow();
    expect(expired.statusCode).toBe(410);
    expect(expired.json()).toMatchObject({
      code: 'EXPIRED',
      expiredAt: new Date(start + hour).toISOString(),
    });
  });

  it('a share whose manifest cannot be stored is removed again (compensated) and the failure answered', async () => {
    const { id } = await upload('unlucky.txt');
    const shares = async () =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM shares`.execute(db)).rows[0]?.n;
    const before = await shares();
    storage.faults.setFailOn(failOnCall('put', storage.faults.calls('put') + 1));
    const failed = await app.inject({ method: 'POST', url: `/documents/${id}/shares` });
    storage.faults.setFailOn(undefined);
    expect(failed.statusCode).toBe(502);
    expect(failed.headers['content-type']).toBe('application/problem+json');
    expect(await shares()).toBe(before);
    // A share of a document that does not exist: 404, nothing stored.
    const missing = await app.inject({
      method: 'POST',
      url: `/documents/${crypto.randomUUID()}/shares`,
    });
    expect(missing.statusCode).toBe(404);
    expect(await shares()).toBe(before);
  });

  it('reports health: /health with each dependency, /health/live without any', async () => {
    const report = await app.inject({ url: '/health' });
    expect(report.statusCode).toBe(200);
    expect(report.json()).toMatchObject({
      status: 'up',
      checks: { db: { status: 'up' }, storage: { status: 'up' } },
    });
    const live = await app.inject({ url: '/health/live' });
    expect(live.json()).toMatchObject({ status: 'up' });
  });

  it('limits requests per IP: the request over the limit gets 429 problem+json with Retry-After', async () => {
    const limited = await buildApp({
      db,
      storage,
      records,
      rateLimit: { limit: 3, windowMs: 60_000, allowList: [] },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const ok = await limited.inject({ url: '/health/live' });
        expect(ok.statusCode).toBe(200);
        expect(ok.headers['ratelimit-remaining']).toBe(String(2 - i));
      }
      const refused = await limited.inject({ url: '/health/live' });
      expect(refused.statusCode).toBe(429);
      expect(refused.headers['content-type']).toBe('application/problem+json');
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.json()).toMatchObject({ code: 'RATE_LIMITED' });
      // The default app exempts localhost (seed 004), as inject's 127.0.0.1 is.
      for (let i = 0; i < 5; i++) {
        expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
      }
    } finally {
      await limited.close();
    }
  });
});
