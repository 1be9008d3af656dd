/**
 * POST /orders from a careless or hostile client: every malformed request is a 4xx
 * problem+json without internals, and a storm of retries with one Idempotency-Key makes one
 * order and one event.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPostgresOutbox } from '@ballast/adapters/postgres';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  describeWith,
  postgresUrl,
  redisUrl,
  uniqueSchemaName,
} from '../../../packages/adapters/test/support/services.js';
import { createOrdersApp } from './app.js';
import { migrate, openDatabase } from './database.js';

describeWith('postgres', 'outbox-orders example under hostile requests', () => {
  describeWith('redis', 'on Postgres and Redis', () => {
    const schema = uniqueSchemaName('outbox_orders_hostile');
    const url = new URL(postgresUrl);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const db = openDatabase(url.toString());
    const outbox = createPostgresOutbox(db);
    const redis = new URL(redisUrl);
    const queue = new Queue(uniqueSchemaName('order_events_hostile'), {
      connection: { host: redis.hostname, port: Number(redis.port || 6379) },
    });
    let server: Server;
    let base: string;

    beforeAll(async () => {
      await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
      await migrate(db);
      server = createOrdersApp({ db, outbox, queue }).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
      await outbox.close();
      await queue.close();
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
      await db.destroy();
    });

    let keys = 0;
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/orders`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': `"hostile-${++keys}"`,
          ...headers,
        },
        body,
      });

    async function expectProblem(response: Response, name: string) {
      const text = await response.text();
      const label = `${name}: ${text.slice(0, 300)}`;
      expect(response.status, label).toBeGreaterThanOrEqual(400);
      expect(response.status, label).toBeLessThan(500);
      expect(response.headers.get('content-type'), label).toMatch(/^application\/problem\+json/);
      expect(text, label).not.toMatch(/stack|\n\s+at |node_modules|syntaxerror|sql|postgres/i);
      return JSON.parse(text) as { status: number; code?: string };
    }

    const valid = { email: 'ana@example.test', totalCents: 1_250 };
    const hostileBodies: Array<[string, string]> = [
      ['truncated JSON', '{"email":'],
      ['not JSON', 'email=ana@example.test'],
      ['null', 'null'],
      ['array', JSON.stringify([valid])],
      ['string', '"order"'],
      ['number', '42'],
      ['empty', ''],
      ['__proto__', `{"__proto__": ${JSON.stringify(valid)}}`],
      [
        'constructor',
        `{"constructor": {"prototype": {"x": 1}}, "email": "a@b.test", "totalCents": 1}`,
      ],
      ['unknown key', JSON.stringify({ ...valid, admin: true })],
      ['total past int4', JSON.stringify({ ...valid, totalCents: 2 ** 31 })],
      ['total past safe integer', JSON.stringify({ ...valid, totalCents: 2 ** 53 })],
      ['total 1e308', '{"email":"a@b.test","totalCents":1e308}'],
      ['negative total', JSON.stringify({ ...valid, totalCents: -1 })],
      ['fractional total', JSON.stringify({ ...valid, totalCents: 1.5 })],
      ['total as string', JSON.stringify({ ...valid, totalCents: '12' })],
      ['email as object', JSON.stringify({ ...valid, email: { $ne: '' } })],
      ['email with NUL', JSON.stringify({ ...valid, email: 'a\u0000b@example.test' })],
      ['email too long', JSON.stringify({ ...valid, email: `${'a'.repeat(5_000)}@example.test` })],
      ['deep nesting', `{"email":${'['.repeat(3_000)}${']'.repeat(3_000)},"totalCents":1}`],
      ['too large', JSON.stringify({ ...valid, pad: 'x'.repeat(20_000) })],
    ];

    it('every malformed or hostile body is a 4xx problem+json and writes nothing', async () => {
      for (const [label, body] of hostileBodies) {
        await expectProblem(await post(body), label);
      }
      await expectProblem(
        await post(JSON.stringify(valid), { 'content-type': 'text/plain' }),
        'text/plain',
      );
      await expectProblem(
        await post(JSON.stringify(valid), {
          'content-type': 'application/json; charset=x-unknown',
        }),
        'charset',
      );
      expect(await db.selectFrom('orders').selectAll().execute()).toEqual([]);
      expect(await outbox.depth()).toBe(0);
    });

    it('a missing, malformed or huge Idempotency-Key is a 4xx problem+json', async () => {
      const body = JSON.stringify(valid);
      const depthBefore = await outbox.depth();
      const noKey = await fetch(`${base}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await expectProblem(noKey, 'no key');
      for (const key of ['""', `"${'k'.repeat(10_000)}"`, '"a", "b"']) {
        await expectProblem(
          await post(body, { 'idempotency-key': key }),
          `key ${key.slice(0, 20)}`,
        );
      }
      expect(await outbox.depth()).toBe(depthBefore);
    });

    it('GET confirmation with a hostile id is a 4xx problem+json', async () => {
      for (const id of [
        'not-a-uuid',
        "'; DROP TABLE orders; --",
        '%00',
        globalThis.crypto.randomUUID(),
      ]) {
        const response = await fetch(`${base}/orders/${encodeURIComponent(id)}/confirmation`);
        await expectProblem(response, `id ${id}`);
      }
    });

    it('a storm of one request with one Idempotency-Key makes one order and one event', async () => {
      const body = JSON.stringify({ email: 'storm@example.test', totalCents: 99 });
      const depthBefore = await outbox.depth();
      const responses = await Promise.all(
        Array.from({ length: 30 }, () => post(body, { 'idempotency-key': '"storm-1"' })),
      );
      const statuses = responses.map((response) => response.status);
      for (const response of responses) {
        if (response.status !== 201) await expectProblem(response, 'storm');
        else await response.body?.cancel();
      }
      // The first wins; the others replay it (201) or are told it is still running (409).
      expect(statuses.filter((status) => status === 201).length).toBeGreaterThanOrEqual(1);
      expect(
        statuses.every((status) => status === 201 || status === 409),
        String(statuses),
      ).toBe(true);
      const orders = await db
        .selectFrom('orders')
        .selectAll()
        .where('email', '=', 'storm@example.test')
        .execute();
      expect(orders).toHaveLength(1);
      expect(await outbox.depth()).toBe(depthBefore + 1);
      // The same key with another body is refused, not a second order.
      const reused = await post(JSON.stringify({ email: 'storm@example.test', totalCents: 100 }), {
        'idempotency-key': '"storm-1"',
      });
      expect((await expectProblem(reused, 'reused key')).status).toBe(422);
      expect(await outbox.depth()).toBe(depthBefore + 1);
    });
  });
});
