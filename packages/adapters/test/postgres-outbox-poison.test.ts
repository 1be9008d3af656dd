/**
 * Poison rows on a real Postgres outbox: one event the engine always refuses among 100 good
 * ones, parked after `maxAttempts` without opening the breaker, then redriven after a fix and
 * delivered once; and the migration that adds the dead-letter column to a table created by
 * the first release of the outbox, rows kept.
 */
import {
  createPostgresOutbox,
  migrateOutbox,
  type PostgresOutbox,
} from '@ballast/adapters/postgres';
import {
  BallastError,
  createFunctionPublisher,
  createRelay,
  defineEvent,
  ManualClock,
  type Relay,
  type RelayDeadLetterEvent,
} from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { sleep, until } from './support/eventually.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

const Item = defineEvent('item.added', 1, z.object({ n: z.number() }));

describeWith('postgres', 'outbox poison rows on a Postgres server', () => {
  const schema = uniqueSchemaName('outbox_poison');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 10 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const outboxes: PostgresOutbox[] = [];
  const relays: Relay[] = [];

  beforeAll(async () => {
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
  });
  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await Promise.all(outboxes.map((outbox) => outbox.close()));
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  it('delivers the rest promptly, parks the poison event (its key waits), redrives it once', async () => {
    await migrateOutbox(db, { schema, tableName: 'poison' });
    const outbox = createPostgresOutbox(db, {
      schema,
      tableName: 'poison',
      listen: { connectionString: postgresUrl },
    });
    outboxes.push(outbox);
    const delivered = new Map<number, number>();
    let poison = 42;
    const publisher = createFunctionPublisher(async (events) => {
      const ns = events.map((event) => (event.payload as { n: number }).n);
      if (ns.includes(poison)) throw new Error(`serialiser refused event ${poison}`);
      for (const n of ns) delivered.set(n, (delivered.get(n) ?? 0) + 1);
    });
    const deadLetters: RelayDeadLetterEvent[] = [];
    let failedBatches = 0;
    const relay = createRelay({
      store: outbox,
      publisher,
      maxAttempts: 3,
      pollIntervalMs: 100,
      backoff: { initialDelayMs: 50, maxDelayMs: 200 },
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 5_000 },
      on: {
        deadLetter: (event) => deadLetters.push(event),
        publishFailed: () => {
          failedBatches += 1;
        },
      },
    });
    relays.push(relay);
    await db.transaction().execute((trx) =>
      outbox.publishMany(
        trx,
        Array.from({ length: 100 }, (_, n) => Item.create({ n }, { key: `k${n % 10}` })),
      ),
    );
    const started = Date.now();
    relay.start();
    // The 94 events other than 42 and the five later ones of its key (52 … 92) arrive in the
    // first batch; those five wait behind it (per-key order) and stay there once it is parked.
    await until(() => delivered.size === 94);
    const firstWaveMs = Date.now() - started;
    await until(() => deadLetters.length === 1);
    expect(relay.circuit).toBe('closed');
    expect(failedBatches).toBe(0);
    expect(deadLetters[0]).toMatchObject({ attempts: 3, reason: 'max-attempts', blockedKey: 'k2' });
    const dead = await outbox.deadLetters();
    expect(dead.map((row) => (row.event.payload as { n: number }).n)).toEqual([42]);
    expect(dead[0]?.lastError).toContain('serialiser refused event 42');
    expect(await outbox.depth()).toBe(5);
    await sleep(500);
    expect(delivered.size).toBe(94);
    expect([52, 62, 72, 82, 92].some((n) => delivered.has(n))).toBe(false);

    poison = -1;
    expect(await outbox.redrive({ ids: [dead[0]?.event.id ?? ''] })).toBe(1);
    await until(async () => (await outbox.depth()) === 0);
    expect(delivered.size).toBe(100);
    expect([...delivered.values()].every((count) => count === 1)).toBe(true);
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM ${sql.id(schema, 'poison')} WHERE failed_at IS NOT NULL`.execute(
      db,
    );
    expect(Number(rows[0]?.n)).toBe(0);
    // "Promptly": one claim and a bisection, not a back-off schedule.
    expect(firstWaveMs).toBeLessThan(5_000);
    await relay.stop();
  });

  it('releases, then parks, an event whose publish error holds a NUL (text Postgres refuses)', async () => {
    await migrateOutbox(db, { schema, tableName: 'nul_error' });
    const outbox = createPostgresOutbox(db, { schema, tableName: 'nul_error' });
    outboxes.push(outbox);
    // An engine or webhook that echoes a binary body in its error: last_error is text, and a
    // NUL in it failed the release and the park, so the row stayed claimed until its lease
    // lapsed, and was never backed off or parked.
    let calls = 0;
    const publisher = createFunctionPublisher(async () => {
      calls += 1;
      const message = 'webhook answered 400: \u0000\u0001binary';
      throw calls === 1
        ? new Error(message)
        : new BallastError('UPSTREAM_ERROR', { message, retryable: false });
    });
    const clock = new ManualClock(Date.now());
    const relay = createRelay({ store: outbox, publisher, clock });
    await db.transaction().execute((trx) => outbox.publish(trx, Item.create({ n: 1 })));
    await expect(relay.runOnce()).resolves.toMatchObject({ kind: 'failed' });
    const { rows } = await sql<{ last_error: string; lease_expires_at: Date | null }>`
      SELECT last_error, lease_expires_at FROM ${sql.id(schema, 'nul_error')}`.execute(db);
    expect(rows).toEqual([
      { last_error: 'Error: webhook answered 400: \ufffd\u0001binary', lease_expires_at: null },
    ]);
    await clock.advance(60_000);
    await relay.runOnce();
    const [dead] = await outbox.deadLetters();
    expect(dead?.lastError).toBe('UPSTREAM_ERROR: webhook answered 400: \ufffd\u0001binary');
  });

  it('migrates a table of the first release: adds failed_at, keeps its rows', async () => {
    const table = sql.id(schema, 'legacy');
    // The outbox table exactly as the first release created it.
    await sql`CREATE TABLE ${table} (
      position bigserial PRIMARY KEY, id text NOT NULL UNIQUE, type text NOT NULL, key text,
      event jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz, owner_token text, lease_expires_at timestamptz,
      retry_at timestamptz, attempts integer NOT NULL DEFAULT 0, last_error text)`.execute(db);
    const old = Item.create({ n: 7 });
    await sql`INSERT INTO ${table} (id, type, event)
      VALUES (${old.id}, ${old.type}, ${JSON.stringify(old)}::jsonb)`.execute(db);
    await migrateOutbox(db, { schema, tableName: 'legacy' });
    await migrateOutbox(db, { schema, tableName: 'legacy' });
    const outbox = createPostgresOutbox(db, { schema, tableName: 'legacy' });
    outboxes.push(outbox);
    const now = Date.now();
    const [entry] = await outbox.claim({ owner: 'o', limit: 10, now, leaseExpiresAt: now + 1e4 });
    expect(entry?.event.id).toBe(old.id);
    expect(await outbox.park({ owner: 'o', ids: [old.id], now, error: 'bad' })).toBe(1);
    expect((await outbox.deadLetters()).map((row) => row.event.id)).toEqual([old.id]);
  });
});
