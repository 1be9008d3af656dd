/**
 * The Postgres inbox on a real server: concurrent deliveries of one event commit one effect, a
 * failing handler leaves neither effect nor mark, and the whole pipeline (Postgres outbox →
 * relay → in-process engine → processor with the Postgres inbox) has every effect exactly once.
 */
import {
  createPostgresInbox,
  createPostgresOutbox,
  migrateInbox,
  migrateOutbox,
} from '@ballast/adapters/postgres';
import {
  createEventCatalog,
  createEventProcessor,
  createInProcessPublisher,
  createRelay,
  defineEvent,
  handleEvent,
  isBallastError,
} from '@ballast/core';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const OrderCreated = defineEvent('order.created', 1, z.object({ orderId: z.string() }));

describeWith('postgres', 'Postgres inbox', () => {
  const schema = uniqueSchemaName('outbox_inbox');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 10 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const effects = () => sql.id(schema, 'effects');
  const effectCount = async (eventId?: string) => {
    const { rows } = await sql<{ n: string }>`SELECT count(*) AS n FROM ${effects()}
      ${eventId === undefined ? sql`` : sql`WHERE event_id = ${eventId}`}`.execute(db);
    return Number(rows[0]?.n);
  };

  beforeAll(async () => {
    await migrateInbox(db, { schema });
    await sql`CREATE TABLE ${effects()} (event_id text NOT NULL, note text)`.execute(db);
  });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  it('runs one of several concurrent deliveries of an event; the others are duplicates', async () => {
    const inbox = createPostgresInbox(db, { schema });
    const ref = { consumer: 'emails', eventId: 'e-concurrent' };
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () =>
        inbox.runOnce(ref, async (trx) => {
          await sql`INSERT INTO ${effects()} (event_id) VALUES (${ref.eventId})`.execute(trx);
          await sleep(100);
          return 'sent';
        }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome.kind === 'ran')).toEqual([
      { kind: 'ran', value: 'sent' },
    ]);
    expect(outcomes.filter((outcome) => outcome.kind === 'duplicate')).toHaveLength(4);
    expect(await effectCount(ref.eventId)).toBe(1);
    // Another consumer of the same event runs on its own.
    const audit = await inbox.runOnce({ consumer: 'audit', eventId: ref.eventId }, async () => 1);
    expect(audit.kind).toBe('ran');
  });

  it('rolls back the effect and the mark together when the handler fails', async () => {
    const inbox = createPostgresInbox(db, { schema });
    const ref = { consumer: 'emails', eventId: 'e-fails' };
    await expect(
      inbox.runOnce(ref, async (trx) => {
        await sql`INSERT INTO ${effects()} (event_id) VALUES (${ref.eventId})`.execute(trx);
        throw new Error('smtp down');
      }),
    ).rejects.toThrow('smtp down');
    expect(await effectCount(ref.eventId)).toBe(0);
    const retried = await inbox.runOnce(ref, async (trx) => {
      await sql`INSERT INTO ${effects()} (event_id) VALUES (${ref.eventId})`.execute(trx);
    });
    expect(retried.kind).toBe('ran');
    expect(await effectCount(ref.eventId)).toBe(1);
    expect(await inbox.prune({ before: new Date(Date.now() + 60_000), limit: 1 })).toBe(1);
  });

  it('answers OUTBOX_NOT_MIGRATED when its table is missing, and validates its input', async () => {
    const missing = createPostgresInbox(db, { schema, tableName: 'never_migrated' });
    const error = await missing
      .runOnce({ consumer: 'c', eventId: 'e' }, async () => 1)
      .catch((e: unknown) => e);
    expect(isBallastError(error, 'OUTBOX_NOT_MIGRATED')).toBe(true);
    await expect(missing.runOnce({ consumer: '', eventId: 'e' }, async () => 1)).rejects.toThrow(
      /consumer/,
    );
    expect(() => createPostgresInbox(db, { tableName: 'bad name' })).toThrow(/tableName/);
  });

  it('outbox → relay → in-process engine → processor with this inbox: every effect once', async () => {
    await migrateOutbox(db, { schema });
    const outbox = createPostgresOutbox(db, { schema, listen: { connectionString: postgresUrl } });
    const inbox = createPostgresInbox(db, { schema });
    let failOnce = true;
    const processor = createEventProcessor({
      consumer: 'confirmations',
      catalog: createEventCatalog({ events: [OrderCreated] }),
      inbox,
      handlers: [
        handleEvent(OrderCreated, async (event, trx: Transaction<unknown>) => {
          await sql`INSERT INTO ${effects()} (event_id, note) VALUES (${event.id}, 'e2e')`.execute(
            trx,
          );
          // One failure after the effect was written: it must roll back with the mark.
          if (failOnce) {
            failOnce = false;
            throw new Error('worker crashed mid-handler');
          }
        }),
      ],
    });
    const publisher = createInProcessPublisher({ processor, backoffMs: [10] });
    const relay = createRelay({ store: outbox, publisher, pollIntervalMs: 100 });
    relay.start();
    const events = Array.from({ length: 100 }, (_, i) =>
      OrderCreated.create({ orderId: `o-${i}` }),
    );
    for (let i = 0; i < 100; i += 10) {
      await db.transaction().execute((trx) => outbox.publishMany(trx, events.slice(i, i + 10)));
    }
    // Re-publishing the same events (a relay crash before markSent) changes nothing.
    await publisher.publish(events.slice(0, 10));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const { rows } = await sql<{ n: string }>`
        SELECT count(*) AS n FROM ${effects()} WHERE note = 'e2e'`.execute(db);
      if (Number(rows[0]?.n) >= 100 && (await outbox.depth()) === 0) break;
      await sleep(50);
    }
    await publisher.idle();
    await relay.stop();
    await outbox.close();
    const { rows } = await sql<{ n: string; d: string }>`
      SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM ${effects()} WHERE note = 'e2e'`.execute(
      db,
    );
    expect(Number(rows[0]?.n)).toBe(100);
    expect(Number(rows[0]?.d)).toBe(100);
    expect(publisher.deadLetters()).toEqual([]);
  });
});
