/**
 * The Postgres outbox's wake-up protocol (`outbox-wake-up.ts`) on a real server: a publish
 * notifies only while a relay sleeps; a relay going to sleep waits for the writers that did not
 * notify (the lost wake-up race); a writer that commits while a relay waits notifies; a writer
 * that stays open keeps relays claiming at most about ten times a second, never busily; two
 * relays on two LISTEN connections take over from each other. Relays here poll every 60 s, so
 * any lost wake-up shows as a delivery that does not come within seconds.
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
  type Relay,
} from '@ballast/core';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { wakeUpStatements } from '../src/postgres/outbox/outbox-wake-up.js';
import { sleep, until } from './support/eventually.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

const Step = defineEvent('step.done', 1, z.object({ n: z.number() }));
const slowPollMs = 60_000;

describeWith('postgres', 'outbox wake-up: NOTIFY only while a relay sleeps', () => {
  const schema = uniqueSchemaName('outbox_wake');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 10 });
  let claims = 0;
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (event.level === 'query' && event.query.sql.includes('_claim"(')) claims += 1;
    },
  });
  const outboxes: PostgresOutbox[] = [];
  const relays: Relay[] = [];
  const listeners: pg.Client[] = [];
  let tables = 0;

  async function freshOutbox() {
    tables += 1;
    const tableName = `outbox_${tables}`;
    await migrateOutbox(db, { schema, tableName });
    const open = () =>
      createPostgresOutbox(db, { schema, tableName, listen: { connectionString: postgresUrl } });
    const outbox = open();
    outboxes.push(outbox);
    return { outbox, tableName, another: () => outboxes[outboxes.push(open()) - 1]! };
  }

  /** Counts the NOTIFYs on the table's channel, from a connection of the test's own. */
  async function countNotifications(tableName: string) {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    listeners.push(client);
    const seen = { count: 0 };
    client.on('notification', () => {
      seen.count += 1;
    });
    await client.query(`LISTEN "${schema}.${tableName}"`);
    return seen;
  }

  function relayOn(outbox: PostgresOutbox, name: string, delivered: EventEnvelope[]) {
    const relay = createRelay({
      store: outbox,
      publisher: createFunctionPublisher(async (events) => {
        delivered.push(...events);
      }),
      name,
      pollIntervalMs: slowPollMs,
    });
    relays.push(relay);
    relay.start();
    return relay;
  }

  const publishIn = (outbox: PostgresOutbox, trx: Transaction<unknown>, n: number) =>
    outbox.publish(trx, Step.create({ n }));
  const publish = (outbox: PostgresOutbox, n: number) =>
    db.transaction().execute((trx) => publishIn(outbox, trx, n));

  /** A transaction that published and stays open until `commit()`. */
  async function openWriter(outbox: PostgresOutbox, n: number) {
    let commit = () => {};
    let didPublish = () => {};
    const commitNow = new Promise<void>((resolve) => {
      commit = resolve;
    });
    const published = new Promise<void>((resolve) => {
      didPublish = resolve;
    });
    const done = db.transaction().execute(async (trx) => {
      await publishIn(outbox, trx, n);
      didPublish();
      await commitNow;
    });
    await published;
    return {
      commit: async () => {
        commit();
        await done;
        return performance.now();
      },
    };
  }

  /** Requests for the table's sleeping lock that are granted (`true`) or wait (`false`). */
  async function sleepingLockRequests(tableName: string, granted: boolean): Promise<number> {
    const lockName = `ballast:outbox:${schema}.${tableName}:sleeping`;
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM pg_locks
      WHERE locktype = 'advisory' AND granted = ${granted}
        AND objid = hashtext(${lockName})::oid`.execute(db);
    return Number(rows[0]?.n);
  }

  /** Requests for the table's sleeping lock that wait (a relay going to sleep). */
  const waitingForSleepingLock = (tableName: string) => sleepingLockRequests(tableName, false);

  /**
   * Until the relay's `awake()` has reached Postgres: it is sent without waiting, so a writer
   * right after it could still find the relay asleep, and notify instead of holding the lock.
   */
  const untilAwake = (tableName: string) =>
    until(async () => (await sleepingLockRequests(tableName, true)) === 0);

  beforeAll(async () => {
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
  });
  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.stop()));
    await Promise.all(outboxes.map((outbox) => outbox.close()));
    await Promise.all(listeners.map((client) => client.end()));
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  it('notifies while a watching relay sleeps, and not while it is awake', async () => {
    const { outbox, tableName } = await freshOutbox();
    const seen = await countNotifications(tableName);
    let woken = 0;
    const watch = outbox.watchCommits!(() => {
      woken += 1;
    });
    await until(async () => (await watch.sleeping()) === true);
    await publish(outbox, 1);
    await until(() => seen.count === 1 && woken >= 1);
    watch.awake();
    await untilAwake(tableName);
    await publish(outbox, 2);
    await publish(outbox, 3);
    await sleep(200);
    expect(seen.count).toBe(1);
    expect(await watch.sleeping()).toBe(true);
    await publish(outbox, 4);
    await until(() => seen.count === 2);
    watch.close();
  });

  it('a relay going to sleep waits for the writer that found it awake (the lost wake-up race)', async () => {
    const { outbox, tableName } = await freshOutbox();
    const watch = outbox.watchCommits!(() => {});
    // Connected, then awake again: writers do not notify.
    await until(async () => (await watch.sleeping()) === true);
    watch.awake();
    await untilAwake(tableName);
    // The relay waits 10 ms at most; on a loaded machine the writer below may take longer to
    // commit, and the relay is then unsure (false), which is allowed: try again.
    let waitedForCommit = false;
    for (let attempt = 1; attempt <= 20 && !waitedForCommit; attempt += 1) {
      const writer = await openWriter(outbox, attempt);
      let sleptAt = 0;
      const sleeping = watch.sleeping().then((sure) => {
        sleptAt = performance.now();
        return sure;
      });
      // Commit once the relay's request waits behind the writer (or it already gave up).
      while (sleptAt === 0 && (await waitingForSleepingLock(tableName)) === 0);
      const early = sleptAt !== 0 && (await sleeping);
      // The lock is granted as the writer's commit ends, which the writer's own client may
      // learn a moment after the relay's does: what matters is that it waited for the commit.
      const committing = performance.now();
      await writer.commit();
      const sure = await sleeping;
      expect(early).toBe(false);
      if (sure) {
        expect(sleptAt).toBeGreaterThanOrEqual(committing);
        waitedForCommit = true;
      } else {
        await until(async () => (await watch.sleeping()) === true);
      }
      watch.awake();
      await untilAwake(tableName);
    }
    expect(waitedForCommit).toBe(true);
    // So the claim a relay makes next sees every row that never notified.
    const claimed = await outbox.claim({
      owner: 'o',
      limit: 100,
      now: Date.now(),
      leaseExpiresAt: Date.now() + 30_000,
    });
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM ${sql.id(schema, tableName)}`.execute(db);
    expect(claimed).toHaveLength(Number(rows[0]?.n));
    watch.close();
  });

  it('a sleeping lock that Postgres grants as its lock timeout fires is given back', async () => {
    const { outbox, tableName } = await freshOutbox();
    const table = { schema, tableName };
    const statements = wakeUpStatements(table, 'unused');
    // The state the race leaves (the statement failed, the lock was granted): reproduced here
    // by taking both locks the way `sleep` does, then resigning as after a timeout.
    const relayLike = new pg.Client({ connectionString: postgresUrl });
    await relayLike.connect();
    listeners.push(relayLike);
    const notices: string[] = [];
    relayLike.on('notice', (notice) => notices.push(notice.message ?? ''));
    await relayLike.query(statements.setUp);
    await relayLike.query(statements.sleep);
    expect(await sleepingLockRequests(tableName, true)).toBe(1);
    await relayLike.query(statements.resign);
    expect(await sleepingLockRequests(tableName, true)).toBe(0);
    // The usual timeout (a writer holds its transaction open): the lock was not granted, and
    // resigning unlocks nothing blindly, so the server logs no warning.
    const writer = await openWriter(outbox, 0);
    await expect(relayLike.query(statements.sleep)).rejects.toMatchObject({ code: '55P03' });
    await relayLike.query(statements.resign);
    await writer.commit();
    expect(await sleepingLockRequests(tableName, true)).toBe(0);
    expect(notices).toEqual([]);

    // And through a relay's watch: commits landing around its 10 ms timeout, where Postgres
    // sometimes grants the lock and fails the statement (before the fix, about one in 50
    // timeouts left the lock held, and writers notified for ever).
    const watch = outbox.watchCommits!(() => {});
    await until(async () => (await watch.sleeping()) === true);
    watch.awake();
    await untilAwake(tableName);
    for (let attempt = 1; attempt <= 60; attempt += 1) {
      const writer = await openWriter(outbox, attempt);
      const sleeping = watch.sleeping();
      await sleep(6 + Math.random() * 8);
      await writer.commit();
      await sleeping;
      watch.awake();
      await until(async () => (await sleepingLockRequests(tableName, true)) === 0, 2_000);
    }
    watch.close();
  });

  it('a writer that commits while a relay waits for the lock notifies; one open too long makes the relay unsure', async () => {
    const { outbox, tableName } = await freshOutbox();
    const seen = await countNotifications(tableName);
    const watch = outbox.watchCommits!(() => {});
    await until(async () => (await watch.sleeping()) === true);
    watch.awake();
    await untilAwake(tableName);
    const slow = await openWriter(outbox, 1);
    // A relay's request for the sleeping lock, queued behind the open writer's shared hold
    // (here from a connection of the test's own, which waits as long as it takes).
    const relayLike = new pg.Client({ connectionString: postgresUrl });
    await relayLike.connect();
    listeners.push(relayLike);
    const lockName = `ballast:outbox:${schema}.${tableName}:sleeping`;
    const requested = relayLike.query('SELECT pg_advisory_lock(hashtext($1))', [lockName]);
    await until(async () => (await waitingForSleepingLock(tableName)) === 1);
    await publish(outbox, 2);
    await until(() => seen.count === 1);
    // The relay's own attempt gives up after its lock timeout (10 ms): unsure.
    expect(await watch.sleeping()).toBe(false);
    await slow.commit();
    await requested;
    await relayLike.query('SELECT pg_advisory_unlock(hashtext($1))', [lockName]);
    expect(await watch.sleeping()).toBe(true);
    watch.close();
  });

  it('relays never lose a wake-up: racing writers, each event delivered once within seconds, not at the 60 s poll', async () => {
    const { outbox } = await freshOutbox();
    const delivered: EventEnvelope[] = [];
    relayOn(outbox, 'racing', delivered);
    const total = 150;
    await Promise.all(
      Array.from({ length: 6 }, async (_, writer) => {
        for (let i = writer; i < total; i += 6) {
          await db.transaction().execute(async (trx) => {
            await publishIn(outbox, trx, i);
            // Open for a while after the insert: the relay may go to sleep meanwhile.
            await sleep(Math.random() * 8);
          });
          await sleep(Math.random() * 12);
        }
      }),
    );
    await until(() => delivered.length >= total, 5_000);
    const ns = delivered.map((event) => (event.payload as { n: number }).n).sort((a, b) => a - b);
    expect(ns).toEqual(Array.from({ length: total }, (_, n) => n));
    // Then idle: no claims but the one before it slept.
    await sleep(300);
    const before = claims;
    await sleep(1_000);
    expect(claims - before).toBe(0);
  });

  it('a writer left open keeps the relay claiming at most about ten times a second, never busily, and its event goes out soon after it commits', async () => {
    const { outbox } = await freshOutbox();
    const delivered: EventEnvelope[] = [];
    let busy: Promise<void> | undefined;
    let publishing = false;
    const relay = createRelay({
      store: outbox,
      // The first batch keeps the relay awake while the writer below opens.
      publisher: createFunctionPublisher(async (events) => {
        publishing = true;
        await busy;
        delivered.push(...events);
      }),
      name: 'patient',
      pollIntervalMs: slowPollMs,
    });
    relays.push(relay);
    relay.start();
    await sleep(300);
    busy = sleep(200).then(() => undefined);
    // Two events at once: the relay is awake for them (one alone would let it sleep on).
    await db
      .transaction()
      .execute((trx) => outbox.publishMany(trx, [Step.create({ n: -1 }), Step.create({ n: 0 })]));
    await until(() => publishing);
    const writer = await openWriter(outbox, 1);
    try {
      await until(() => delivered.length === 2, 2_000);
      const before = claims;
      await sleep(1_500);
      const during = claims - before;
      expect(during).toBeGreaterThan(0);
      expect(during).toBeLessThan(25);
    } finally {
      const committedAt = await writer.commit();
      await until(() => delivered.length === 3, 2_000);
      expect(performance.now() - committedAt).toBeLessThan(1_000);
    }
  });

  it('two relays on two LISTEN connections: either one stopping, the other is woken and takes over', async () => {
    const { another } = await freshOutbox();
    const delivered: EventEnvelope[] = [];
    const first = relayOn(another(), 'first', delivered);
    const second = relayOn(another(), 'second', delivered);
    const writer = another();
    await sleep(300);
    await publish(writer, 1);
    await until(() => delivered.length === 1, 5_000);
    await first.stop();
    await sleep(100);
    await publish(writer, 2);
    await until(() => delivered.length === 2, 5_000);
    const third = relayOn(another(), 'third', delivered);
    await sleep(300);
    await second.stop();
    await sleep(100);
    await publish(writer, 3);
    await until(() => delivered.length === 3, 5_000);
    await third.stop();
    expect(delivered.map((event) => (event.payload as { n: number }).n)).toEqual([1, 2, 3]);
  });
});
