/**
 * The outbox and relay on a real Postgres server: relays racing over one table, a relay killed
 * mid-batch in its own process, publishes rolled back with their transaction, per-key order
 * under concurrent relays, an engine down for a while, graceful stop, retention, the depth alert
 * and `maxDepth`, a missing table.
 */
import {
  createPostgresOutbox,
  migrateOutbox,
  type PostgresOutbox,
} from '@ballast/adapters/postgres';
import {
  createFunctionPublisher,
  createRelay,
  defineEvent,
  type EventEnvelope,
  isBallastError,
  type Relay,
} from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { startChildServer } from './support/child-server.js';
import { sleep, until } from './support/eventually.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

const Step = defineEvent('step.done', 1, z.object({ n: z.number() }));

describeWith('postgres', 'outbox relay on a Postgres server', () => {
  const schema = uniqueSchemaName('outbox_relay');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 10 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const outboxes: PostgresOutbox[] = [];
  const relays: Relay[] = [];
  let tables = 0;

  async function freshOutbox(options: { maxDepth?: number; depthCheckIntervalMs?: number } = {}) {
    tables += 1;
    const tableName = `outbox_${tables}`;
    await migrateOutbox(db, { schema, tableName });
    const outbox = createPostgresOutbox(db, {
      schema,
      tableName,
      listen: { connectionString: postgresUrl },
      ...options,
    });
    outboxes.push(outbox);
    return { outbox, tableName };
  }

  function publishIn(outbox: PostgresOutbox, events: EventEnvelope[], rollBack = false) {
    return db
      .transaction()
      .execute(async (trx) => {
        // As an application's business write would (docs/outbox.md: order is commit order for
        // transactions that write the same aggregate), lock each key's aggregate first, in one
        // order so writers never deadlock. Without it, a transaction that took a lower position
        // but commits later is relayed after a later one of the same key: that is not the
        // outbox's promise, and the race test failed on it once in CI.
        const keys = [...new Set(events.flatMap((event) => (event.key ? [event.key] : [])))].sort();
        for (const key of keys) {
          await sql`SELECT pg_advisory_xact_lock(hashtext(${`outbox-test:${key}`}))`.execute(trx);
        }
        await outbox.publishMany(trx, events);
        if (rollBack) throw new Error('business write failed');
      })
      .catch((error: unknown) => {
        if (!rollBack) throw error;
      });
  }

  beforeAll(async () => {
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
    await sql`CREATE TABLE ${sql.id(schema, 'attempts')} (event_id text NOT NULL)`.execute(db);
    await sql`CREATE TABLE ${sql.id(schema, 'engine')} (event_id text PRIMARY KEY)`.execute(db);
  });
  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await Promise.all(outboxes.map((outbox) => outbox.close()));
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  it('three racing relays publish every committed event once, each key in order, none rolled back', async () => {
    const { outbox } = await freshOutbox();
    const published: EventEnvelope[] = [];
    const perRelay = new Map<string, number>();
    for (const name of ['r1', 'r2', 'r3']) {
      const publisher = createFunctionPublisher(async (events) => {
        await sleep(Math.random() * 5);
        published.push(...events);
        perRelay.set(name, (perRelay.get(name) ?? 0) + events.length);
      });
      const relay = createRelay({
        store: outbox,
        publisher,
        name,
        batchSize: 25,
        pollIntervalMs: 200,
      });
      relays.push(relay);
      relay.start();
    }
    const committed: string[] = [];
    // Writers commit while the relays run: 40 transactions of 15 events over 8 keys, and
    // every fifth transaction rolls back.
    await Promise.all(
      Array.from({ length: 40 }, async (_, t) => {
        const events = Array.from({ length: 15 }, (_, i) =>
          Step.create({ n: t * 100 + i }, { key: `order-${(t + i) % 8}` }),
        );
        const rollBack = t % 5 === 4;
        await publishIn(outbox, events, rollBack);
        if (!rollBack) committed.push(...events.map((event) => event.id));
      }),
    );
    await until(async () => (await outbox.depth()) === 0 && published.length >= committed.length);
    await Promise.all(relays.splice(0).map((relay) => relay.stop()));
    const ids = published.map((event) => event.id);
    // They did race: more than one relay moved events.
    expect(perRelay.size).toBeGreaterThan(1);
    expect(ids.length).toBe(committed.length);
    expect(new Set(ids)).toEqual(new Set(committed));
    // Per key, the publication order is the insertion order (outbox position).
    const { rows } = await sql<{ id: string; key: string }>`
      SELECT id, key FROM ${sql.id(schema, outbox.table.split('.')[1] ?? '')} ORDER BY position`.execute(
      db,
    );
    const expected = new Map<string, string[]>();
    for (const row of rows) expected.set(row.key, [...(expected.get(row.key) ?? []), row.id]);
    const actual = new Map<string, string[]>();
    for (const event of published) {
      actual.set(event.key ?? '', [...(actual.get(event.key ?? '') ?? []), event.id]);
    }
    expect(actual).toEqual(expected);
  });

  it('a relay SIGKILLed between "published" and "marked sent": after the lease its rows go again, delivered once', async () => {
    const { outbox, tableName } = await freshOutbox();
    const events = Array.from({ length: 30 }, (_, n) => Step.create({ n }));
    await publishIn(outbox, events);
    const env = {
      OUTBOX_SCHEMA: schema,
      OUTBOX_TABLE: tableName,
      OUTBOX_DATABASE_URL: postgresUrl,
      OUTBOX_LEASE_MS: '1500',
      OUTBOX_BATCH: '10',
    };
    const doomed = await startChildServer(
      'packages/adapters/test/fixtures/outbox-relay-process.ts',
      {
        ...env,
        OUTBOX_HANG: '1',
      },
    );
    await doomed.waitForLine(/^hanging$/, 20_000);
    await doomed.kill();
    // The survivor runs here: only the crash needs its own process.
    const survivor = createRelay({
      store: outbox,
      leaseMs: 1_500,
      pollIntervalMs: 100,
      publisher: createFunctionPublisher(async (batch) => {
        const batchIds = batch.map((event) => event.id);
        await sql`INSERT INTO ${sql.id(schema, 'attempts')} (event_id) SELECT unnest(${batchIds}::text[])`.execute(
          db,
        );
        await sql`INSERT INTO ${sql.id(schema, 'engine')} (event_id) SELECT unnest(${batchIds}::text[])
          ON CONFLICT DO NOTHING`.execute(db);
      }),
    });
    relays.push(survivor);
    survivor.start();
    const ids = events.map((event) => event.id);
    await until(async () => (await outbox.depth()) === 0, 20_000);
    await survivor.stop();
    const engine = await sql<{ n: string }>`
      SELECT count(*) AS n FROM ${sql.id(schema, 'engine')} WHERE event_id = ANY(${ids}::text[])`.execute(
      db,
    );
    const attempts = await sql<{ n: string }>`
      SELECT count(*) AS n FROM ${sql.id(schema, 'attempts')} WHERE event_id = ANY(${ids}::text[])`.execute(
      db,
    );
    expect(Number(engine.rows[0]?.n)).toBe(30);
    // The killed relay's batch of 10 was published at least twice (its own publish can time
    // out and retry before the kill lands); the engine's idempotency made every event once.
    expect(Number(attempts.rows[0]?.n)).toBeGreaterThanOrEqual(40);
  });

  it('an engine down for a while: the breaker opens, no hot loop, then everything drains', async () => {
    const { outbox } = await freshOutbox();
    let down = true;
    let calls = 0;
    const delivered = new Set<string>();
    const publisher = createFunctionPublisher(async (events) => {
      calls += 1;
      if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
      for (const event of events) delivered.add(event.id);
    });
    const states: string[] = [];
    const relay = createRelay({
      store: outbox,
      publisher,
      pollIntervalMs: 100,
      backoff: { initialDelayMs: 100, maxDelayMs: 400 },
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 1_000 },
      on: { publishFailed: () => states.push('failed') },
    });
    relays.push(relay);
    const started = Date.now();
    relay.start();
    const events = Array.from({ length: 50 }, (_, n) => Step.create({ n }, { key: `k${n % 5}` }));
    // Commits keep coming while the engine is down (each a NOTIFY that must not wake a retry).
    for (let i = 0; i < 10; i++) {
      await publishIn(outbox, events.slice(i * 5, i * 5 + 5));
      await sleep(300);
    }
    expect(relay.circuit).toBe('open');
    // 3 failures open the breaker, then one probe per second of downtime (a loaded machine
    // stretches the 3 s, so the bound follows the real elapsed time). Each failed batch is 3
    // publish calls: the batch, its first row and one other alone (down engine or poison row?).
    const elapsedSeconds = Math.ceil((Date.now() - started) / 1_000);
    expect(calls).toBeGreaterThanOrEqual(3 * 3);
    expect(calls).toBeLessThanOrEqual((3 + elapsedSeconds + 1) * 3);
    expect(await outbox.depth()).toBe(50);
    down = false;
    await until(async () => (await outbox.depth()) === 0, 10_000);
    expect(delivered.size).toBe(50);
    expect(relay.circuit).toBe('closed');
    await relay.stop();
  });

  it('stop() lets the in-flight batch finish and mark sent', async () => {
    const { outbox } = await freshOutbox();
    let inPublish: () => void = () => {};
    const entered = new Promise<void>((resolve) => {
      inPublish = resolve;
    });
    const publisher = createFunctionPublisher(async () => {
      inPublish();
      await sleep(300);
    });
    const relay = createRelay({ store: outbox, publisher });
    relay.start();
    await publishIn(outbox, [Step.create({ n: 1 }), Step.create({ n: 2 })]);
    await entered;
    await relay.stop();
    expect(await outbox.depth()).toBe(0);
  });

  it('alerts on depth and cleans up sent rows past retention', async () => {
    const { outbox, tableName } = await freshOutbox();
    let down = true;
    const alerts: number[] = [];
    let cleaned = 0;
    const relay = createRelay({
      store: outbox,
      publisher: createFunctionPublisher(async () => {
        if (down) throw new Error('down');
      }),
      depthAlertThreshold: 20,
      depthCheckIntervalMs: 100,
      retentionMs: 0,
      cleanupIntervalMs: 1_000,
      backoff: { initialDelayMs: 50, maxDelayMs: 100 },
      breaker: { consecutiveFailures: 100 },
      on: {
        depthAlert: ({ depth }) => alerts.push(depth),
        cleaned: ({ deleted }) => {
          cleaned += deleted;
        },
      },
    });
    relays.push(relay);
    relay.start();
    await publishIn(
      outbox,
      Array.from({ length: 25 }, (_, n) => Step.create({ n })),
    );
    await until(() => alerts.length > 0);
    expect(alerts[0]).toBe(25);
    down = false;
    await until(() => cleaned === 25);
    const { rows } = await sql<{
      n: string;
    }>`SELECT count(*) AS n FROM ${sql.id(schema, tableName)}`.execute(db);
    expect(Number(rows[0]?.n)).toBe(0);
    await relay.stop();
  });

  it('refuses publish past maxDepth with QUEUE_FULL, counting the table at most once per interval', async () => {
    tables += 1;
    const tableName = `outbox_${tables}`;
    await migrateOutbox(db, { schema, tableName });
    let counts = 0;
    const countingDb = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool }),
      log: (event) => {
        if (event.level === 'query' && event.query.sql.includes('count(*)')) counts += 1;
      },
    });
    const outbox = createPostgresOutbox(countingDb, {
      schema,
      tableName,
      maxDepth: 10,
      depthCheckIntervalMs: 60_000,
    });
    await publishIn(
      outbox,
      Array.from({ length: 8 }, (_, n) => Step.create({ n })),
    );
    await publishIn(outbox, [Step.create({ n: 8 }), Step.create({ n: 9 })]);
    const refused = await db
      .transaction()
      .execute((trx) => outbox.publish(trx, Step.create({ n: 10 })))
      .catch((error: unknown) => error);
    expect(isBallastError(refused, 'QUEUE_FULL')).toBe(true);
    expect((refused as { details: unknown }).details).toEqual({ depth: 10, maxDepth: 10 });
    expect((refused as { status: number }).status).toBe(503);
    expect(counts).toBe(1);
    expect(await outbox.depth()).toBe(10);
  });

  it('reconnects its LISTEN connection after the server drops it, and wakes relays again', async () => {
    const { outbox } = await freshOutbox();
    let woken = 0;
    const unsubscribe = outbox.onCommit?.(() => {
      woken += 1;
    });
    const channel = `LISTEN "${schema}.${outbox.table.split('.')[1]}"`;
    const listening = async () => {
      const { rows } = await sql<{ pid: number }>`
        SELECT pid FROM pg_stat_activity WHERE query = ${channel}`.execute(db);
      return rows;
    };
    await until(async () => (await listening()).length === 1);
    await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = ${channel}`.execute(
      db,
    );
    await until(async () => (await listening()).length === 1, 10_000);
    const before = woken;
    await publishIn(outbox, [Step.create({ n: 1 })]);
    await until(() => woken > before, 5_000);
    unsubscribe?.();
    await until(async () => (await listening()).length === 0, 5_000);
  });

  it('answers OUTBOX_NOT_MIGRATED when the table is missing', async () => {
    const missing = createPostgresOutbox(db, { schema, tableName: 'never_migrated' });
    const write = await db
      .transaction()
      .execute((trx) => missing.publish(trx, Step.create({ n: 1 })))
      .catch((error: unknown) => error);
    expect(isBallastError(write, 'OUTBOX_NOT_MIGRATED')).toBe(true);
    const claim = await missing
      .claim({ owner: 'o', limit: 1, now: Date.now(), leaseExpiresAt: Date.now() + 1 })
      .catch((error: unknown) => error);
    expect(isBallastError(claim, 'OUTBOX_NOT_MIGRATED')).toBe(true);
    expect(String((claim as Error).message)).toContain('migrateOutbox()');
  });
});
