/**
 * A LISTEN connection that stops answering (a network path that drops packets without a reset:
 * nothing errors, a query just never returns) must cost the relay its wake-ups, never its slow
 * poll: before the wake-up protocol the relay only lost NOTIFYs; now it asks that connection for
 * the sleeping lock before it sleeps, and must not wait on the answer longer than it would poll.
 * Nor may `outbox.close()` wait on it for ever.
 */
import {
  createPostgresOutbox,
  type ListenConnection,
  migrateOutbox,
} from '@ballast/adapters/postgres';
import {
  createFunctionPublisher,
  createRelay,
  defineEvent,
  type EventEnvelope,
} from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { z } from 'zod';
import { until } from './support/eventually.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

const Step = defineEvent('step.unanswered', 1, z.object({ n: z.number() }));
const pollIntervalMs = 200;

describeWith('postgres', 'outbox relay with a LISTEN connection that stops answering', () => {
  const schema = uniqueSchemaName('outbox_unanswered');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 5 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const clients: pg.Client[] = [];

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end().catch(() => undefined)));
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  it('still delivers within a few slow polls when the LISTEN connection never answers again', async () => {
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
    await migrateOutbox(db, { schema, tableName: 'outbox' });
    let answering = true;
    // A real connection until `answering` is false; from then on its queries never settle.
    const connect = async (): Promise<ListenConnection> => {
      const client = new pg.Client({ connectionString: postgresUrl });
      clients.push(client);
      await client.connect();
      return {
        query: (text: string) => (answering ? client.query(text) : new Promise(() => {})),
        on: (event: string, listener: (...args: never[]) => void) =>
          client.on(event as 'end', listener as () => void),
        end: () => client.end(),
      } as ListenConnection;
    };
    const outbox = createPostgresOutbox(db, { schema, tableName: 'outbox', listen: { connect } });
    const delivered: EventEnvelope[] = [];
    const relay = createRelay({
      store: outbox,
      publisher: createFunctionPublisher(async (events) => {
        delivered.push(...events);
      }),
      name: 'unanswered',
      pollIntervalMs,
    });
    relay.start();
    try {
      await db.transaction().execute((trx) => outbox.publish(trx, Step.create({ n: 1 })));
      await until(() => delivered.length === 1, 5_000);
      answering = false;
      // Two in one claim: the relay wakes (writers stop notifying on its account), claims again,
      // finds nothing and asks the connection for the sleeping lock before it sleeps.
      await db.transaction().execute(async (trx) => {
        await outbox.publish(trx, Step.create({ n: 2 }));
        await outbox.publish(trx, Step.create({ n: 3 }));
      });
      await until(() => delivered.length === 3, 5_000);
      await db.transaction().execute((trx) => outbox.publish(trx, Step.create({ n: 4 })));
      // Ten slow polls: the relay claims at least every poll interval whatever the connection does.
      await until(() => delivered.length === 4, 10 * pollIntervalMs + 1_000);
      expect(delivered.map((event) => (event.payload as { n: number }).n)).toEqual([1, 2, 3, 4]);
      // And a shutdown still ends, though the connection's lock statements never will.
      const settlesWithin = (work: Promise<unknown>, ms: number) =>
        Promise.race([
          work.then(() => true),
          new Promise<boolean>((resolve) => setTimeout(resolve, ms, false)),
        ]);
      expect(await settlesWithin(relay.stop(), 3_000)).toBe(true);
      expect(await settlesWithin(outbox.close(), 5_000)).toBe(true);
    } finally {
      answering = true;
      await Promise.race([relay.stop(), new Promise((resolve) => setTimeout(resolve, 2_000))]);
      await Promise.race([outbox.close(), new Promise((resolve) => setTimeout(resolve, 2_000))]);
    }
  }, 20_000);
});
