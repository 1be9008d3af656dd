/**
 * One side of the outbox benchmark in its own process, as deployments run it
 * (`BALLAST_BENCH_OUTBOX_PROCESSES=split pnpm bench outbox`): raw BullMQ's worker, Ballast's
 * relay, or Ballast's consumer with the Postgres inbox. Talks to `outbox.bench.ts` over IPC:
 * `ready` once running; `started`/`ended` per handler (batched every few ms, each with its own
 * timestamp, so batching delays only the report, not the figure); `usage` (CPU and Postgres
 * statements so far) when asked; exits after `stop`. Timestamps are
 * `performance.timeOrigin + performance.now()`, comparable across processes on one machine.
 * Not a benchmark by itself (no `.bench.ts` suffix).
 */
import { Worker } from 'bullmq';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { createBullmqPublisher, createConsumer } from '../packages/adapters/src/bullmq/index.js';
import {
  createPostgresInbox,
  createPostgresOutbox,
} from '../packages/adapters/src/postgres/index.js';
import { createRelay, handleEvent } from '../packages/core/src/index.js';
import { catalog, OrderCreated } from './outbox-events.js';

export type ChildRole = 'raw-worker' | 'ballast-relay' | 'ballast-consumer';

export interface ChildSetup {
  readonly role: ChildRole;
  readonly databaseUrl: string;
  readonly connection: { host: string; port: number };
  readonly schema: string;
  readonly queue: string;
  readonly concurrency: number;
}

export type ChildMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'handled'; readonly started: [string, number][]; readonly ended: number }
  | { readonly type: 'usage'; readonly cpuUs: number; readonly statements: number };

export type ParentMessage = { readonly type: 'usage' } | { readonly type: 'stop' };

const now = () => performance.timeOrigin + performance.now();
const send = (message: ChildMessage) => process.send?.(message);

const setup = JSON.parse(process.argv[2] ?? '{}') as ChildSetup;
let statements = 0;
// biome-ignore lint/suspicious/noExplicitAny: the bench's tables are created at run time.
const db = new Kysely<any>({
  dialect: new PostgresDialect({
    pool: new pg.Pool({ connectionString: setup.databaseUrl, max: setup.concurrency + 4 }),
  }),
  log: () => {
    statements += 1;
  },
});
const effects = sql.id(setup.schema, 'effects');

// Handler starts and ends, sent in batches so the report costs little per event.
let started: [string, number][] = [];
let ended = 0;
let flushing = false;
function report(orderId: string | undefined): void {
  if (orderId === undefined) ended += 1;
  else started.push([orderId, now()]);
  if (flushing) return;
  flushing = true;
  setTimeout(() => {
    flushing = false;
    send({ type: 'handled', started, ended });
    started = [];
    ended = 0;
  }, 5);
}

let stop: () => Promise<void>;
if (setup.role === 'raw-worker') {
  const worker = new Worker(
    setup.queue,
    async (job) => {
      const orderId = (job.data as { payload: { orderId: string } }).payload.orderId;
      report(orderId);
      await sql`INSERT INTO ${effects} (order_id) VALUES (${orderId})`.execute(db);
      report(undefined);
    },
    { connection: setup.connection, concurrency: setup.concurrency },
  );
  await worker.waitUntilReady();
  stop = () => worker.close();
} else if (setup.role === 'ballast-relay') {
  const outbox = createPostgresOutbox(db, {
    schema: setup.schema,
    listen: { connectionString: setup.databaseUrl },
  });
  const publisher = createBullmqPublisher({
    queue: setup.queue,
    connection: setup.connection,
    jobOptions: { removeOnComplete: true },
  });
  const relay = createRelay({ store: outbox, publisher, batchSize: 100 });
  relay.start();
  stop = async () => {
    await relay.stop();
    await publisher.close();
    await outbox.close();
  };
} else {
  const consumer = createConsumer({
    queue: setup.queue,
    connection: setup.connection,
    consumer: 'bench',
    catalog,
    handlers: [
      // biome-ignore lint/suspicious/noExplicitAny: as above.
      handleEvent(OrderCreated, async (event, trx: Transaction<any>) => {
        report(event.payload.orderId);
        await sql`INSERT INTO ${effects} (order_id) VALUES (${event.payload.orderId})`.execute(trx);
        report(undefined);
      }),
    ],
    inbox: createPostgresInbox(db, { schema: setup.schema }),
    concurrency: setup.concurrency,
  });
  await consumer.waitUntilReady();
  stop = () => consumer.close();
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'usage') {
    const cpu = process.cpuUsage();
    send({ type: 'usage', cpuUs: cpu.user + cpu.system, statements });
    return;
  }
  void (async () => {
    await stop();
    await db.destroy();
    // Anything still open (a reconnecting client) must not keep the bench waiting.
    process.exit(0);
  })();
});
send({ type: 'ready' });
