/**
 * One event's path through the outbox, stage by stage: `pnpm tsx bench/outbox-trace.ts`.
 * Commits `BALLAST_TRACE_EVENTS` events (default 200) one every 25 ms (the latency phase of
 * `outbox.bench.ts`) and prints, for each stage from commit to handler start, the median and
 * p99 of its time since the commit, so a wait that is not a round trip shows up as a gap
 * between two stages. Stages are observed from outside by wrapping the store, the publisher,
 * the catalog and the inbox; Postgres statements are timed through Kysely's log. Not a
 * benchmark by itself (no `.bench.ts` suffix): it writes no result file.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { Queue, Worker } from 'bullmq';
import { Kysely, type LogEvent, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { createBullmqPublisher, createConsumer } from '../packages/adapters/src/bullmq/index.js';
import {
  createPostgresInbox,
  createPostgresOutbox,
  migrateInbox,
  migrateOutbox,
} from '../packages/adapters/src/postgres/index.js';
import type { EventCatalog, OutboxStore, Publisher } from '../packages/core/src/index.js';
import { createRelay, handleEvent } from '../packages/core/src/index.js';
import { catalog, OrderCreated } from './outbox-events.js';

const databaseUrl =
  process.env.BALLAST_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = new URL(process.env.BALLAST_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
const connection = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379) };
const events = Number(process.env.BALLAST_TRACE_EVENTS ?? 200);
const clock = () => performance.timeOrigin + performance.now();

/** Stage name → time, for the event being traced (one in flight at a time when paced). */
let current: Map<string, number> | undefined;
const traces: Map<string, number>[] = [];
function mark(stage: string, at = clock()): void {
  if (current !== undefined && !current.has(stage)) current.set(stage, at);
}

// biome-ignore lint/suspicious/noExplicitAny: the tables are created at run time.
const db = new Kysely<any>({
  dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 40 }) }),
  log: (event: LogEvent) => {
    // Only what happens after the commit: the producer's own statements come before it.
    if (current?.has('committed') !== true) return;
    const end = clock();
    const text = event.query.sql.trim().replace(/\s+/g, ' ').slice(0, 28);
    mark(`pg ${text} start`, end - event.queryDurationMillis);
    mark(`pg ${text} end`, end);
  },
});
const schema = `trace_outbox_${process.pid}`;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function report(title: string): void {
  const stages = new Map<string, number[]>();
  for (const trace of traces.splice(0)) {
    const committed = trace.get('committed');
    if (committed === undefined) continue;
    for (const [stage, at] of trace) {
      const list = stages.get(stage) ?? [];
      list.push(at - committed);
      stages.set(stage, list);
    }
  }
  console.log(
    `\n${title} (load ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')})`,
  );
  const rows = [...stages].map(([stage, values]) => {
    const sorted = values.sort((a, b) => a - b);
    return { stage, n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  });
  rows.sort((a, b) => a.p50 - b.p50);
  for (const row of rows) {
    console.log(
      `${row.stage.padEnd(48)} n=${String(row.n).padStart(4)}  p50 ${row.p50.toFixed(2).padStart(7)} ms  p99 ${row.p99.toFixed(2).padStart(7)} ms`,
    );
  }
}

async function paced(commit: () => Promise<void>, started: () => number): Promise<void> {
  for (let i = 0; i < events + 20; i += 1) {
    current = new Map();
    const trace = current;
    const before = started();
    await commit();
    // Wait for the handler, but never longer than the pacing interval.
    const deadline = clock() + 500;
    while (started() === before && clock() < deadline) await new Promise((r) => setImmediate(r));
    if (i >= 20) traces.push(trace);
    current = undefined;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function traceRaw(): Promise<void> {
  const queueName = `trace-raw-${process.pid}`;
  const queue = new Queue(queueName, { connection });
  let handled = 0;
  const worker = new Worker(
    queueName,
    async (job) => {
      mark('handler start');
      handled += 1;
      const orderId = (job.data as { payload: { orderId: string } }).payload.orderId;
      await sql`INSERT INTO ${sql.id(schema, 'effects')} (order_id) VALUES (${orderId})`.execute(
        db,
      );
    },
    { connection, concurrency: 16 },
  );
  await worker.waitUntilReady();
  await paced(
    async () => {
      const orderId = randomUUID();
      const event = OrderCreated.create({ orderId });
      await db.transaction().execute(async (trx) => {
        await sql`INSERT INTO ${sql.id(schema, 'orders')} (id) VALUES (${orderId})`.execute(trx);
      });
      mark('committed');
      await queue.add(event.type, event, { jobId: event.id, removeOnComplete: true });
      mark('queue.add done');
    },
    () => handled,
  );
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  report('raw BullMQ');
}

async function traceBallast(): Promise<void> {
  const queueName = `trace-ballast-${process.pid}`;
  const outbox = createPostgresOutbox(db, { schema, listen: { connectionString: databaseUrl } });
  const store: OutboxStore = {
    ...outbox,
    onCommit: (wake) =>
      outbox.onCommit!(() => {
        mark('notify received');
        wake();
      }),
    // What relays use: writers notify only while the relay sleeps.
    watchCommits: (wake) =>
      outbox.watchCommits!(() => {
        mark('notify received');
        wake();
      }),
    claim: async (request) => {
      mark('claim call');
      const rows = await outbox.claim(request);
      mark('claim returned');
      return rows;
    },
    markSent: async (request) => {
      mark('markSent call');
      const marked = await outbox.markSent(request);
      mark('markSent returned');
      return marked;
    },
  };
  const bullmq = createBullmqPublisher({
    queue: queueName,
    connection,
    jobOptions: { removeOnComplete: true },
  });
  const publisher: Publisher = {
    publish: async (batch, options) => {
      mark('addBulk call');
      await bullmq.publish(batch, options);
      mark('addBulk returned');
    },
  };
  const tracedCatalog: EventCatalog = {
    ...catalog,
    decode: ((raw: unknown, options?: object) => {
      mark('job picked (decode)');
      return catalog.decode(raw, options as never);
    }) as EventCatalog['decode'],
  };
  const inbox = createPostgresInbox(db, { schema });
  let handled = 0;
  const consumer = createConsumer({
    queue: queueName,
    connection,
    consumer: 'trace',
    catalog: tracedCatalog,
    handlers: [
      // biome-ignore lint/suspicious/noExplicitAny: as above.
      handleEvent(OrderCreated, async (event, trx: Transaction<any>) => {
        mark('handler start');
        handled += 1;
        await sql`INSERT INTO ${sql.id(schema, 'effects')} (order_id) VALUES (${event.payload.orderId})`.execute(
          trx,
        );
      }),
    ],
    inbox: {
      runOnce: (ref, handle) => {
        mark('inbox.runOnce call');
        return inbox.runOnce(ref, handle);
      },
    },
    concurrency: 16,
  });
  await consumer.waitUntilReady();
  const relay = createRelay({ store, publisher, batchSize: 100 });
  relay.start();
  await paced(
    async () => {
      const orderId = randomUUID();
      await db.transaction().execute(async (trx) => {
        await sql`INSERT INTO ${sql.id(schema, 'orders')} (id) VALUES (${orderId})`.execute(trx);
        await outbox.publish(trx, OrderCreated.create({ orderId }));
      });
      mark('committed');
    },
    () => handled,
  );
  await relay.stop();
  await consumer.close();
  await bullmq.close();
  await outbox.close();
  const queue = new Queue(queueName, { connection });
  await queue.obliterate({ force: true });
  await queue.close();
  report('ballast outbox');
}

await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
try {
  await migrateOutbox(db, { schema });
  await migrateInbox(db, { schema });
  await sql`CREATE TABLE ${sql.id(schema, 'orders')} (id text PRIMARY KEY)`.execute(db);
  await sql`CREATE TABLE ${sql.id(schema, 'effects')} (order_id text NOT NULL)`.execute(db);
  await traceRaw();
  await traceBallast();
} finally {
  await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(db);
  await db.destroy();
}
