/**
 * The promise, across real processes: a side effect that a committed write asks for
 * happens exactly once, even when relays and consumers are killed at any moment. Postgres
 * outbox → relay processes → BullMQ (Redis or Postgres backend) → consumer processes with the
 * Postgres inbox, counting one `effects` row per event.
 */
import type { BullmqBackend } from '@ballast/adapters/bullmq';
import type { Queue } from 'bullmq';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bullmqTestBackend } from './support/bullmq-backends.js';
import {
  dropPipeline,
  openDb,
  outboxOf,
  type PipelineConfig,
  type PipelineDb,
  preparePipeline,
  TaskRequested,
} from './support/outbox-pipeline.js';
import {
  type PipelineProcess,
  type PipelineRole,
  seededRandom,
  startPipelineProcess,
} from './support/pipeline-processes.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

// The issue asks for 10,000 events (bulk) and 2,000 (chaos). On a 2-core CI machine running
// the whole suite, consumers handle ~100 events/s and each process start takes seconds, so CI
// runs 1,500 and 800 within its budget; BALLAST_OUTBOX_EVENTS=10000 BALLAST_CHAOS_EVENTS=2000
// runs the counts (passed on this machine; the figures are in the report).
const bulkEvents = Number(process.env.BALLAST_OUTBOX_EVENTS ?? 1_500);
const chaosEvents = Number(process.env.BALLAST_CHAOS_EVENTS ?? 800);
const chaosKills = 10;

interface Run {
  readonly config: PipelineConfig;
  readonly db: PipelineDb;
  readonly queue: Queue;
  readonly processes: Map<string, PipelineProcess>;
  readonly rolledBack: string[];
}

async function setUpRun(backend: BullmqBackend, label: string): Promise<Run> {
  const engine = bullmqTestBackend(backend);
  const config: PipelineConfig = {
    databaseUrl: postgresUrl,
    schema: uniqueSchemaName(`obx_${label}`),
    queue: engine.queueName(label),
    backend,
    connection: engine.connection,
  };
  const db = openDb(config, 4);
  await preparePipeline(db, config);
  const queue = engine.openQueue(config.queue);
  afterAll(async () => {
    await queue.close();
    await dropPipeline(db, config);
    await db.destroy();
    await engine.cleanUp();
  });
  return { config, db, queue, processes: new Map(), rolledBack: [] };
}

/** Spawns a process (replacing a dead one of that name) without waiting for it to be ready. */
async function start(run: Run, role: PipelineRole, name: string): Promise<PipelineProcess> {
  const started = await startPipelineProcess(role, name, run.config);
  run.processes.set(name, started);
  return started;
}

async function allReady(run: Run): Promise<void> {
  await Promise.all([...run.processes.values()].map((process) => process.ready));
}

/** Publishes `count` events in transactions of `perTransaction`; every 7th transaction rolls back. */
async function publishEvents(run: Run, count: number, perTransaction: number, pauseMs = 0) {
  const outbox = outboxOf(run.db, run.config);
  let published = 0;
  for (let tx = 0; published < count; tx += 1) {
    const size = Math.min(perTransaction, count - published);
    const events = Array.from({ length: size }, (_, i) =>
      TaskRequested.create(
        { n: published + i, group: `g${(published + i) % 16}` },
        { key: `g${(published + i) % 16}` },
      ),
    );
    if (tx % 7 === 3) {
      // Rolled back with its transaction: these must never reach a consumer.
      await run.db
        .transaction()
        .execute(async (trx) => {
          await outbox.publishMany(trx, events);
          throw new Error('business rule failed');
        })
        .catch(() => {});
      run.rolledBack.push(...events.map((event) => event.id));
      continue;
    }
    await run.db.transaction().execute((trx) => outbox.publishMany(trx, events));
    published += size;
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

async function effectCounts(run: Run) {
  const { rows } = await sql<{ events: string; effects: string; doubled: string }>`
    SELECT count(DISTINCT event_id) AS events, count(*) AS effects,
           (SELECT count(*) FROM (SELECT event_id FROM ${sql.id(run.config.schema, 'effects')}
              GROUP BY event_id HAVING count(*) > 1) d) AS doubled
    FROM ${sql.id(run.config.schema, 'effects')}`.execute(run.db);
  const row = rows[0]!;
  return { events: Number(row.events), effects: Number(row.effects), doubled: Number(row.doubled) };
}

async function waitForEffects(run: Run, expected: number, timeoutMs: number) {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const counts = await effectCounts(run);
    if (process.env.BALLAST_OUTBOX_TRACE === '1') {
      const depth = await outboxOf(run.db, run.config).depth();
      const jobs = await run.queue.getJobCounts('waiting', 'active', 'completed');
      console.info(
        `[outbox trace] ${new Date().toISOString()} effects ${counts.events} depth ${depth}`,
        jobs,
      );
    }
    if (counts.events >= expected) return counts;
    if (Date.now() > giveUpAt) {
      throw new Error(`only ${counts.events} of ${expected} events took effect in ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function expectNothingLeft(run: Run, expected: number) {
  const counts = await effectCounts(run);
  expect(counts).toEqual({ events: expected, effects: expected, doubled: 0 });
  expect(await outboxOf(run.db, run.config).depth()).toBe(0);
  // A consumer killed after its effect committed leaves its job active until BullMQ's stall
  // check hands it to another consumer (lock 2 s + check every 1 s, outbox-process.ts), whose
  // inbox then skips the effect: give that recovery its time before requiring an empty queue.
  const jobCounts = () =>
    run.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
  const settleBy = Date.now() + 15_000;
  let jobs = await jobCounts();
  while (Object.values(jobs).some((n) => n > 0) && Date.now() < settleBy) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    jobs = await jobCounts();
  }
  expect(jobs).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0, prioritized: 0 });
  // The recovered jobs ran again: their inbox kept each effect single.
  expect(await effectCounts(run)).toEqual({ events: expected, effects: expected, doubled: 0 });
  const { rows } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM ${sql.id(run.config.schema, 'effects')}
    WHERE event_id = ANY(${run.rolledBack})`.execute(run.db);
  expect(Number(rows[0]!.n)).toBe(0);
}

async function stopAll(run: Run) {
  await Promise.all([...run.processes.values()].map((process) => process.stop()));
}

describeWith('postgres', 'outbox pipeline across processes', () => {
  describeWith('redis', `4 consumers and 2 relays, ${bulkEvents} events (BullMQ on Redis)`, () => {
    let run: Run;
    beforeAll(async () => {
      run = await setUpRun('redis', 'bulk');
    });

    it('every effect exactly once; nothing left in the outbox or the queue', async () => {
      await Promise.all([
        start(run, 'relay', 'relay-1'),
        start(run, 'relay', 'relay-2'),
        ...[1, 2, 3, 4].map((n) => start(run, 'consumer', `consumer-${n}`)),
      ]);
      await allReady(run);
      const started = Date.now();
      await publishEvents(run, bulkEvents, 200);
      await waitForEffects(run, bulkEvents, 120_000);
      const elapsedMs = Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 500));
      await expectNothingLeft(run, bulkEvents);
      console.info(
        `[outbox] ${bulkEvents} events through 2 relays and 4 consumers in ${elapsedMs} ms`,
      );
      await stopAll(run);
    }, 180_000);
  });

  for (const backend of ['redis', 'postgres'] as const) {
    describeWith(backend === 'redis' ? 'redis' : 'postgres', `chaos (BullMQ on ${backend})`, () => {
      let run: Run;
      beforeAll(async () => {
        run = await setUpRun(backend, `chaos_${backend.slice(0, 2)}`);
      });

      it(`SIGKILL a relay or a consumer ${chaosKills} times during ${chaosEvents} events: 0 lost, 0 doubled`, async () => {
        const seed = Number(process.env.BALLAST_CHAOS_SEED ?? 16_016);
        const random = seededRandom(seed);
        const names = [
          'relay-1',
          'relay-2',
          'consumer-1',
          'consumer-2',
          'consumer-3',
          'consumer-4',
        ];
        const roleOf = (name: string): PipelineRole =>
          name.startsWith('relay') ? 'relay' : 'consumer';
        await Promise.all(names.map((name) => start(run, roleOf(name), name)));
        await allReady(run);

        // Events keep coming while processes die: commits of 25, 100 ms apart.
        const publishing = publishEvents(run, chaosEvents, 25, 100);
        const kills: string[] = [];
        for (let i = 0; i < chaosKills; i += 1) {
          await new Promise((resolve) => setTimeout(resolve, 150 + Math.floor(random() * 350)));
          const name = names[Math.floor(random() * names.length)]!;
          // Killed wherever it is, starting up included; its replacement starts at once.
          await run.processes.get(name)!.kill();
          kills.push(name);
          await start(run, roleOf(name), name);
        }
        await publishing;
        await allReady(run);
        const counts = await waitForEffects(run, chaosEvents, 120_000);
        await new Promise((resolve) => setTimeout(resolve, 500));
        console.info(`[outbox chaos ${backend}] seed ${seed}, killed ${kills.join(', ')}`, counts);
        await expectNothingLeft(run, chaosEvents);
        await stopAll(run);
      }, 180_000);
    });
  }
});
