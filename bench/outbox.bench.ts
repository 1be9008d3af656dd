/**
 * The outbox end to end against raw BullMQ, on the same Postgres and Redis. By default in one
 * process; with `BALLAST_BENCH_OUTBOX_PROCESSES=split`, as deployed: this process commits (the
 * application), and raw BullMQ's worker, Ballast's relay and Ballast's consumer each run in a
 * process of their own (`outbox-child.ts`), both contenders alike; CPU per event and
 * statements per event are then summed over the processes.
 *
 * - **ballast**: a transaction writes an order row and `order.created.v1` into the Postgres
 *   outbox → a relay (awake, or woken by the NOTIFY writers send only while it sleeps) claims
 *   it and adds it to BullMQ → a consumer runs the handler through the Postgres inbox, writing
 *   its effect in the inbox's transaction.
 * - **raw BullMQ**: the same transaction writes the order row; after the commit, `queue.add`
 *   (no outbox: a crash between commit and add loses the job) → a worker runs the same effect
 *   write, with no inbox (a redelivery doubles it).
 * - **raw BullMQ, same statements** (single-process mode): raw BullMQ doing by hand the Postgres
 *   writes Ballast's guarantees need: the event row inserted in the producer's transaction (but
 *   added to the queue after the commit, with no relay) and the worker's effect written in a
 *   transaction with an inbox mark. Ballast against it shows Ballast's own cost; it against raw
 *   shows what the guarantee's statements cost on this machine, whoever sends them.
 *
 * Figures per contender: events/s from the first commit to the last handler end with 8
 * producers committing back to back (saturated), and commit→handler-start latency p50/p99 at
 * a paced 40 commits/s after 20 warm-up commits (timestamps `performance.timeOrigin +
 * performance.now()`, comparable across processes). Also CPU µs
 * per event (`process.cpuUsage`, which survives a loaded machine better than wall time) and the
 * relay alone: rows/s moved from a full outbox to BullMQ in batches of 100, and how many events
 * the relay moved per batch in the saturated phase.
 *
 * Postgres statements per event (the figure that moves CPU per event), counted as messages sent
 * through Kysely (round trips), also by stage in single-process mode: raw BullMQ 4 (BEGIN, order
 * insert, COMMIT; the worker's effect insert); Ballast 7 plus 2 per relay batch (BEGIN, order
 * insert, outbox insert (with a NOTIFY only while the relay sleeps), COMMIT; the consumer's
 * BEGIN and inbox mark in one message, effect insert, COMMIT; per batch one claim through the
 * table's claim function and one markSent); raw BullMQ with the same writes 8 (its worker sends
 * BEGIN and the mark apart, as `db.transaction()` does). The relay's LISTEN connection (its sleep
 * locks) is not counted: it sends statements only when the relay goes to sleep or wakes, not per
 * event; its sleeping-lock waits in the paced phase are reported instead.
 *
 * Rounds alternate raw, ballast, raw, ballast…; each figure is the median over the rounds.
 * Targets (issue 16): throughput ≥ 0.7× raw, p99 ≤ 2× raw.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { Queue, Worker } from 'bullmq';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { createBullmqPublisher, createConsumer } from '../packages/adapters/src/bullmq/index.js';
import {
  createPostgresInbox,
  createPostgresOutbox,
  type ListenConnection,
  migrateInbox,
  migrateOutbox,
} from '../packages/adapters/src/postgres/index.js';
import { createRelay, handleEvent } from '../packages/core/src/index.js';
import type { Benchmark } from './bench-result.js';
import type { ChildRole } from './outbox-child.js';
import { type BenchChild, startChild, type Usage, usageOf } from './outbox-children.js';
import { catalog, OrderCreated } from './outbox-events.js';

const databaseUrl =
  process.env.BALLAST_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = new URL(process.env.BALLAST_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379');
const connection = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379) };
const eventsPerRound = Number(process.env.BALLAST_BENCH_OUTBOX_EVENTS ?? 1_500);
const rounds = Number(process.env.BALLAST_BENCH_OUTBOX_ROUNDS ?? 3);
const producers = 8;
const pacedEvents = 200;
const pacedPerSecond = 40;
const concurrency = 16;
const relayAloneRows = 5_000;

// `split`: raw BullMQ's worker, Ballast's relay and Ballast's consumer each in a process of
// their own, as deployed; CPU and statements are then summed over the processes.
const processes = process.env.BALLAST_BENCH_OUTBOX_PROCESSES === 'split' ? 'split' : 'single';
/** Epoch ms with sub-ms precision, comparable across this machine's processes. */
const clock = () => performance.timeOrigin + performance.now();

// biome-ignore lint/suspicious/noExplicitAny: the bench's tables are created at run time.
type Db = Kysely<any>;
// biome-ignore lint/suspicious/noExplicitAny: as above.
type Trx = Transaction<any>;

interface RoundResult {
  readonly eventsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerEvent: number;
  /** Postgres statements sent per event (load-independent: what CPU per event follows). */
  readonly statementsPerEvent: number;
  /**
   * Single-process mode: the same, by pipeline stage (BEGIN and COMMIT of every transaction,
   * the producer's row, the outbox row, the relay's claims and settles, the inbox mark, the
   * effect).
   */
  readonly statementsPerEventByStage?: Readonly<Record<string, number>>;
  /**
   * Ballast, single-process mode: the relay's sleeping-lock statements in the paced phase, how
   * many timed out, and how long they blocked its LISTEN connection.
   */
  readonly pacedSleepLock?: {
    readonly count: number;
    readonly timeouts: number;
    readonly p50Ms: number;
    readonly maxMs: number;
  };
  /** Ballast only: events per relay batch in the saturated phase. */
  readonly eventsPerBatch?: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Statements sent through the bench's Kysely instance so far, in all and by stage. */
const statements = { count: 0, byStage: new Map<StatementStage, number>() };

/** Which stage of the pipeline a statement belongs to, read from its text. */
type StatementStage =
  | 'begin'
  | 'commit'
  | 'producer row'
  | 'outbox insert'
  | 'relay claim'
  | 'relay settle'
  | 'inbox mark'
  | 'effect'
  | 'other';

function stageOf(text: string): StatementStage {
  const statement = text.trim().toLowerCase();
  if (statement === 'begin') return 'begin';
  if (statement === 'commit' || statement === 'rollback') return 'commit';
  if (/insert into "[^"]+"\."orders"/.test(statement)) return 'producer row';
  if (/insert into "[^"]+"\."(ballast|raw)_outbox"/.test(statement)) return 'outbox insert';
  if (statement.includes('_claim"(')) return 'relay claim';
  if (statement.includes("set_config('synchronous_commit'")) return 'relay settle';
  if (/insert into "[^"]+"\."(ballast|raw)_inbox"/.test(statement)) return 'inbox mark';
  if (/insert into "[^"]+"\."effects"/.test(statement)) return 'effect';
  return 'other';
}

function countStatement(text: string): void {
  statements.count += 1;
  const stage = stageOf(text);
  statements.byStage.set(stage, (statements.byStage.get(stage) ?? 0) + 1);
}

interface Tracker {
  /** Processes of this round besides this one (split mode). */
  children: BenchChild[];
  started: Map<string, number>;
  finished: number;
  expected: number;
  resolve?: () => void;
}

/**
 * Commits `count` events and waits until every handler ran. Saturated (`perSecond` absent):
 * `producers` loops commit back to back, for throughput. Paced: one commit every
 * `1000 / perSecond` ms, below both contenders' capacity, so latency is the pipeline's own
 * and not a backlog's.
 */
async function drive(
  commit: (orderId: string) => Promise<number>,
  done: Tracker,
  count: number,
  perSecond?: number,
): Promise<RoundResult> {
  done.started = new Map();
  done.finished = 0;
  done.expected = count;
  const committedAt = new Map<string, number>();
  const allDone = new Promise<void>((resolve) => {
    done.resolve = resolve;
  });
  const childrenBefore = await usageOf(done.children);
  const statementsBefore = statements.count;
  const byStageBefore = new Map(statements.byStage);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const one = async () => {
    const orderId = randomUUID();
    committedAt.set(orderId, await commit(orderId));
  };
  if (perSecond === undefined) {
    let next = 0;
    await Promise.all(
      Array.from({ length: producers }, async () => {
        while (next < count) {
          next += 1;
          await one();
        }
      }),
    );
  } else {
    const commits: Promise<void>[] = [];
    for (let i = 0; i < count; i += 1) {
      commits.push(one());
      await new Promise((resolve) => setTimeout(resolve, 1_000 / perSecond));
    }
    await Promise.all(commits);
  }
  await allDone;
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  const ownStatements = statements.count - statementsBefore;
  const byStage = Object.fromEntries(
    [...statements.byStage].map(([stage, total]) => [
      stage,
      Math.round(((total - (byStageBefore.get(stage) ?? 0)) / count) * 100) / 100,
    ]),
  );
  const childrenAfter = await usageOf(done.children);
  const children: Usage = {
    cpuUs: childrenAfter.cpuUs - childrenBefore.cpuUs,
    statements: childrenAfter.statements - childrenBefore.statements,
  };
  // A handler may start before its producer saw the commit return: count that as 0 ms.
  const latencies = [...done.started.entries()]
    .map(([orderId, at]) => Math.max(0, at - (committedAt.get(orderId) ?? at)))
    .sort((a, b) => a - b);
  return {
    eventsPerSecond: (count / elapsedMs) * 1_000,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuUsPerEvent: (cpu.user + cpu.system + children.cpuUs) / count,
    statementsPerEvent: (ownStatements + children.statements) / count,
    // The children count statements only in all.
    ...(processes === 'single' ? { statementsPerEventByStage: byStage } : {}),
  };
}

function tracker() {
  const done: Tracker = { children: [], started: new Map(), finished: 0, expected: 0 };
  const onStart = (orderId: string, at = clock()) => {
    if (!done.started.has(orderId)) done.started.set(orderId, at);
  };
  const onEnd = () => {
    done.finished += 1;
    if (done.finished === done.expected) done.resolve?.();
  };
  return { done, onStart, onEnd };
}

/** One round of a contender: a paced phase for latency, then a saturated one for throughput. */
async function measure(
  commit: (orderId: string) => Promise<number>,
  done: Tracker,
  phases: { beforePaced?: () => void; beforeSaturated?: () => void } = {},
): Promise<RoundResult> {
  // Warm-up, not counted: connections opened, the relay's LISTEN in place.
  await drive(commit, done, 20, pacedPerSecond);
  phases.beforePaced?.();
  const paced = await drive(commit, done, pacedEvents, pacedPerSecond);
  phases.beforeSaturated?.();
  const saturated = await drive(commit, done, eventsPerRound);
  return { ...saturated, p50Ms: paced.p50Ms, p99Ms: paced.p99Ms };
}

/**
 * Raw BullMQ. With `sameStatements`, raw BullMQ doing by hand the Postgres writes Ballast's
 * guarantees need, and nothing else: the producer also inserts the event row into an outbox-shaped
 * table in its transaction (still adding the job after the commit, with no relay), and the worker
 * marks the event in an inbox-shaped table in the effect's transaction. What is left between it
 * and Ballast is Ballast's own cost (the relay's claim and mark, the checks, the wake-up).
 */
async function rawRound(
  db: Db,
  schema: string,
  round: number,
  sameStatements = false,
): Promise<RoundResult> {
  const queueName = `bench-raw-${process.pid}-${round}-${sameStatements ? 'same' : 'plain'}`;
  const queue = new Queue(queueName, { connection });
  const { done, onStart, onEnd } = tracker();
  let worker: Worker | undefined;
  if (processes === 'split') {
    done.children.push(await child('raw-worker', schema, queueName, onStart, onEnd));
  } else {
    worker = new Worker(
      queueName,
      async (job) => {
        const orderId = (job.data as { payload: { orderId: string } }).payload.orderId;
        onStart(orderId);
        if (sameStatements) {
          await db.transaction().execute(async (trx) => {
            const { rows } = await sql`
              INSERT INTO ${sql.id(schema, 'raw_inbox')} (consumer, event_id) VALUES ('raw', ${job.id})
              ON CONFLICT DO NOTHING RETURNING 1 AS inserted`.execute(trx);
            if (rows.length === 0) return;
            await sql`INSERT INTO ${sql.id(schema, 'effects')} (order_id) VALUES (${orderId})`.execute(
              trx,
            );
          });
        } else {
          await sql`INSERT INTO ${sql.id(schema, 'effects')} (order_id) VALUES (${orderId})`.execute(
            db,
          );
        }
        onEnd();
      },
      { connection, concurrency },
    );
    await worker.waitUntilReady();
  }
  try {
    return await measure(async (orderId) => {
      const event = OrderCreated.create({ orderId });
      await db.transaction().execute(async (trx) => {
        await sql`INSERT INTO ${sql.id(schema, 'orders')} (id) VALUES (${orderId})`.execute(trx);
        if (sameStatements) {
          await sql`
            INSERT INTO ${sql.id(schema, 'raw_outbox')} (id, type, key, event)
            VALUES (${event.id}, ${event.type}, NULL, ${JSON.stringify(event)}::jsonb)`.execute(
            trx,
          );
        }
      });
      const committed = clock();
      // Add-after-commit: what the outbox replaces.
      await queue.add(event.type, event, { jobId: event.id, removeOnComplete: true });
      return committed;
    }, done);
  } finally {
    await worker?.close();
    for (const running of done.children) await running.stop();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/**
 * The relay's waits for the sleeping lock on its LISTEN connection (`outbox-wake-up.ts`): while
 * one lasts, a notification on that connection is seen only when it ends. Single-process mode.
 */
const sleepLockWaits = { count: 0, timeouts: 0, waitedMs: [] as number[] };

/** A `pg.Client` for the relay's LISTEN connection that times its sleeping-lock statements. */
async function timedListenConnection(): Promise<ListenConnection> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const query = client.query.bind(client) as (text: string) => Promise<unknown>;
  return Object.assign(client, {
    query: async (text: string) => {
      if (!text.includes('AS slept')) return query(text);
      const started = performance.now();
      sleepLockWaits.count += 1;
      try {
        return await query(text);
      } catch (error) {
        sleepLockWaits.timeouts += 1;
        throw error;
      } finally {
        sleepLockWaits.waitedMs.push(performance.now() - started);
      }
    },
  }) as unknown as ListenConnection;
}

async function ballastRound(db: Db, schema: string, round: number): Promise<RoundResult> {
  if (processes === 'split') return ballastSplitRound(db, schema, round);
  const queueName = `bench-ballast-${process.pid}-${round}`;
  const outbox = createPostgresOutbox(db, { schema, listen: { connect: timedListenConnection } });
  const publisher = createBullmqPublisher({
    queue: queueName,
    connection,
    jobOptions: { removeOnComplete: true },
  });
  const batches = { count: 0, events: 0 };
  let pacedSleepLock: RoundResult['pacedSleepLock'];
  const relay = createRelay({
    store: outbox,
    publisher,
    batchSize: 100,
    on: {
      published: ({ count }) => {
        batches.count += 1;
        batches.events += count;
      },
    },
  });
  const { done, onStart, onEnd } = tracker();
  const consumer = createConsumer({
    queue: queueName,
    connection,
    consumer: `bench-${round}`,
    catalog,
    handlers: [
      handleEvent(OrderCreated, async (event, trx: Trx) => {
        onStart(event.payload.orderId);
        await sql`INSERT INTO ${sql.id(schema, 'effects')} (order_id) VALUES (${event.payload.orderId})`.execute(
          trx,
        );
        // As for the raw worker, the end is the handler's end (here the inbox commit follows).
        onEnd();
      }),
    ],
    inbox: createPostgresInbox(db, { schema }),
    concurrency,
  });
  await consumer.waitUntilReady();
  relay.start();
  try {
    const result = await measure(
      async (orderId) => {
        await db.transaction().execute(async (trx) => {
          await sql`INSERT INTO ${sql.id(schema, 'orders')} (id) VALUES (${orderId})`.execute(trx);
          await outbox.publish(trx, OrderCreated.create({ orderId }));
        });
        return clock();
      },
      done,
      {
        beforePaced: () => {
          sleepLockWaits.count = 0;
          sleepLockWaits.timeouts = 0;
          sleepLockWaits.waitedMs = [];
        },
        beforeSaturated: () => {
          const waited = [...sleepLockWaits.waitedMs].sort((a, b) => a - b);
          pacedSleepLock = {
            count: sleepLockWaits.count,
            timeouts: sleepLockWaits.timeouts,
            p50Ms: waited.length === 0 ? 0 : percentile(waited, 50),
            maxMs: waited.at(-1) ?? 0,
          };
          batches.count = 0;
          batches.events = 0;
        },
      },
    );
    return {
      ...result,
      eventsPerBatch: batches.events / Math.max(1, batches.count),
      pacedSleepLock,
    };
  } finally {
    await relay.stop();
    await consumer.close();
    await publisher.close();
    await outbox.close();
    const queue = new Queue(queueName, { connection });
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/** Ballast with the relay and the consumer in processes of their own; this one only commits. */
async function ballastSplitRound(db: Db, schema: string, round: number): Promise<RoundResult> {
  const queueName = `bench-ballast-${process.pid}-${round}`;
  // The application's side: it only writes, so it needs no LISTEN connection.
  const outbox = createPostgresOutbox(db, { schema });
  const { done, onStart, onEnd } = tracker();
  try {
    done.children.push(await child('ballast-consumer', schema, queueName, onStart, onEnd));
    done.children.push(await child('ballast-relay', schema, queueName, onStart, onEnd));
    return await measure(async (orderId) => {
      await db.transaction().execute(async (trx) => {
        await sql`INSERT INTO ${sql.id(schema, 'orders')} (id) VALUES (${orderId})`.execute(trx);
        await outbox.publish(trx, OrderCreated.create({ orderId }));
      });
      return clock();
    }, done);
  } finally {
    // The relay first, so the consumer does not wait for jobs that will never come.
    for (const running of done.children.reverse()) await running.stop();
    const queue = new Queue(queueName, { connection });
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

function child(
  role: ChildRole,
  schema: string,
  queue: string,
  onStart: (orderId: string, at: number) => void,
  onEnd: () => void,
): Promise<BenchChild> {
  return startChild({ role, databaseUrl, connection, schema, queue, concurrency }, onStart, onEnd);
}

async function relayAlone(db: Db, schema: string): Promise<number> {
  const queueName = `bench-relay-${process.pid}`;
  const outbox = createPostgresOutbox(db, { schema });
  for (let i = 0; i < relayAloneRows; i += 500) {
    const events = Array.from({ length: 500 }, () =>
      OrderCreated.create({ orderId: randomUUID() }),
    );
    await db.transaction().execute((trx) => outbox.publishMany(trx, events));
  }
  const publisher = createBullmqPublisher({ queue: queueName, connection });
  const relay = createRelay({ store: outbox, publisher, batchSize: 100, pollIntervalMs: 10 });
  const started = performance.now();
  relay.start();
  while ((await outbox.depth()) > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  const elapsedMs = performance.now() - started;
  await relay.stop();
  await publisher.close();
  const queue = new Queue(queueName, { connection });
  await queue.obliterate({ force: true });
  await queue.close();
  return (relayAloneRows / elapsedMs) * 1_000;
}

const bench: Benchmark = async () => {
  const schema = `bench_outbox_${process.pid}`;
  const db: Db = new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: databaseUrl, max: 40 }) }),
    // Every Postgres statement of both contenders goes through this instance (only the
    // outbox's LISTEN connection does not, and it sends none per event).
    log: (event) => countStatement(event.query.sql),
  });
  await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db);
  await migrateOutbox(db, { schema });
  await migrateInbox(db, { schema });
  await sql`CREATE TABLE ${sql.id(schema, 'orders')} (id text PRIMARY KEY)`.execute(db);
  await sql`CREATE TABLE ${sql.id(schema, 'effects')} (order_id text NOT NULL)`.execute(db);
  await sql`CREATE TABLE ${sql.id(schema, 'raw_outbox')} (LIKE ${sql.id(schema, 'ballast_outbox')} INCLUDING ALL)`.execute(
    db,
  );
  await sql`CREATE TABLE ${sql.id(schema, 'raw_inbox')} (LIKE ${sql.id(schema, 'ballast_inbox')} INCLUDING ALL)`.execute(
    db,
  );
  const loadBefore = loadavg();
  const raw: RoundResult[] = [];
  const rawSame: RoundResult[] = [];
  const ballast: RoundResult[] = [];
  let relayRowsPerSecond = 0;
  try {
    for (let round = 0; round < rounds; round += 1) {
      raw.push(await rawRound(db, schema, round));
      ballast.push(await ballastRound(db, schema, round));
      // The raw worker runs in a child in split mode, which only knows the plain raw worker.
      if (processes === 'single') rawSame.push(await rawRound(db, schema, round, true));
    }
    relayRowsPerSecond = await relayAlone(db, schema);
  } finally {
    await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  }
  type NumericKey = Exclude<keyof RoundResult, 'statementsPerEventByStage' | 'pacedSleepLock'>;
  const pick = (results: RoundResult[], key: NumericKey) =>
    Math.round(median(results.map((result) => result[key] ?? 0)) * 10) / 10;
  const figures = {
    ballastEventsPerSecond: pick(ballast, 'eventsPerSecond'),
    rawEventsPerSecond: pick(raw, 'eventsPerSecond'),
    ballastP50Ms: pick(ballast, 'p50Ms'),
    ballastP99Ms: pick(ballast, 'p99Ms'),
    rawP50Ms: pick(raw, 'p50Ms'),
    rawP99Ms: pick(raw, 'p99Ms'),
    ballastCpuUsPerEvent: pick(ballast, 'cpuUsPerEvent'),
    rawCpuUsPerEvent: pick(raw, 'cpuUsPerEvent'),
    // Counted in this process only (the relay's events), so not in split mode.
    ballastEventsPerRelayBatch: processes === 'single' ? pick(ballast, 'eventsPerBatch') : null,
    ballastStatementsPerEvent: pick(ballast, 'statementsPerEvent'),
    rawStatementsPerEvent: pick(raw, 'statementsPerEvent'),
    ...(processes === 'single'
      ? {
          rawSameStatementsEventsPerSecond: pick(rawSame, 'eventsPerSecond'),
          rawSameStatementsP99Ms: pick(rawSame, 'p99Ms'),
          rawSameStatementsCpuUsPerEvent: pick(rawSame, 'cpuUsPerEvent'),
          rawSameStatementsPerEvent: pick(rawSame, 'statementsPerEvent'),
          // Load-independent: the last round's saturated phase says it as well as any.
          ballastStatementsPerEventByStage: ballast.at(-1)?.statementsPerEventByStage,
          rawSameStatementsPerEventByStage: rawSame.at(-1)?.statementsPerEventByStage,
        }
      : {}),
  };
  const sleepLock = ballast.map((result) => result.pacedSleepLock).filter((x) => x !== undefined);
  const sleepLockSummary =
    sleepLock.length === 0
      ? ''
      : `; relay sleeping-lock waits in the paced phases ${sleepLock.map((w) => `${w.count} (${w.timeouts} timed out, max ${w.maxMs.toFixed(1)} ms)`).join(', ')}`;
  const ratio =
    Math.round((figures.ballastEventsPerSecond / figures.rawEventsPerSecond) * 100) / 100;
  const p99Ratio = Math.round((figures.ballastP99Ms / figures.rawP99Ms) * 100) / 100;
  // Ballast against raw BullMQ with the same Postgres writes by hand: how much of the gap to raw
  // is the guarantee's own statements, and how much Ballast's.
  const sameStatementsRatio =
    figures.rawSameStatementsEventsPerSecond === undefined
      ? null
      : Math.round(
          (figures.ballastEventsPerSecond / figures.rawSameStatementsEventsPerSecond) * 100,
        ) / 100;
  const sameStatementsCeiling =
    figures.rawSameStatementsEventsPerSecond === undefined
      ? null
      : Math.round((figures.rawSameStatementsEventsPerSecond / figures.rawEventsPerSecond) * 100) /
        100;
  return {
    name: 'outbox',
    unit: 'events/s end to end, commit to handler (higher is better)',
    ballast: figures.ballastEventsPerSecond,
    peer: figures.rawEventsPerSecond,
    peerName: 'raw BullMQ (queue.add after commit, worker without inbox)',
    ratio,
    extra: {
      ...figures,
      p99Ratio,
      sameStatementsRatio,
      sameStatementsCeiling,
      relayAloneRowsPerSecond: Math.round(relayRowsPerSecond),
      // On a loaded machine the CPU per event (summed over the processes in split mode) and the
      // statements per event say more than wall-clock throughput.
      loadAverage: { before: loadBefore, after: loadavg() },
      eventsPerRound,
      latencyPhase: { events: pacedEvents, perSecond: pacedPerSecond },
      rounds,
      processes,
      producers,
      concurrency,
      targets: { throughputRatioAtLeast: 0.7, p99RatioAtMost: 2 },
      targetsMet: { throughput: ratio >= 0.7, p99: p99Ratio <= 2 },
      rounds_raw: raw,
      rounds_ballast: ballast,
      rounds_raw_same_statements: rawSame,
    },
    summary: `ballast ${figures.ballastEventsPerSecond} events/s vs raw BullMQ ${figures.rawEventsPerSecond} (${ratio}x); p50/p99 ${figures.ballastP50Ms}/${figures.ballastP99Ms} ms vs ${figures.rawP50Ms}/${figures.rawP99Ms} ms (p99 ${p99Ratio}x); CPU ${figures.ballastCpuUsPerEvent}/${figures.rawCpuUsPerEvent} µs and ${figures.ballastStatementsPerEvent}/${figures.rawStatementsPerEvent} Postgres statements per event; relay alone ${Math.round(relayRowsPerSecond)} rows/s${sameStatementsRatio === null ? '' : `; raw BullMQ with the same Postgres writes by hand ${figures.rawSameStatementsEventsPerSecond} events/s (${sameStatementsCeiling}x raw, Ballast ${sameStatementsRatio}x of it)`}${sleepLockSummary}`,
  };
};

export default bench;
