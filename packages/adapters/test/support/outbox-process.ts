/**
 * One process of the outbox pipeline, for the multi-process tests: `ROLE=relay` moves the
 * Postgres outbox into BullMQ, `ROLE=consumer` handles the jobs through the Postgres inbox and
 * records one effect per event. The parent kills these with SIGKILL at random moments and
 * checks that no effect is lost or doubled. Prints `ready` once it runs.
 *
 * Env: ROLE, PIPELINE (JSON PipelineConfig), NAME, LEASE_MS, STALLED_MS.
 */
import './exit-with-parent.js';
import { createBullmqPublisher, createConsumer } from '@ballast/adapters/bullmq';
import { createRelay, handleEvent } from '@ballast/core';
import {
  inboxOf,
  openDb,
  outboxOf,
  type PipelineConfig,
  type PipelineTransaction,
  pipelineCatalog,
  recordEffect,
  TaskRequested,
} from './outbox-pipeline.js';

const config = JSON.parse(process.env.PIPELINE ?? '{}') as PipelineConfig;
const role = process.env.ROLE;
const name = process.env.NAME ?? `${role}-${process.pid}`;
const leaseMs = Number(process.env.LEASE_MS ?? 2_000);
const stalledMs = Number(process.env.STALLED_MS ?? 1_000);

const db = openDb(config, 4);
let stop: () => Promise<void>;

if (role === 'relay') {
  const publisher = createBullmqPublisher({
    queue: config.queue,
    connection: config.connection,
    backend: config.backend,
  });
  const store = outboxOf(db, config, true);
  const relay = createRelay({
    store,
    publisher,
    name,
    batchSize: 100,
    leaseMs,
    pollIntervalMs: 250,
    backoff: { initialDelayMs: 100, maxDelayMs: 1_000 },
    breaker: { consecutiveFailures: 5, halfOpenAfterMs: 1_000 },
  });
  relay.start();
  stop = async () => {
    await relay.stop();
    await publisher.close();
    await store.close();
  };
} else if (role === 'consumer') {
  const consumer = createConsumer({
    queue: config.queue,
    connection: config.connection,
    backend: config.backend,
    consumer: 'effects',
    catalog: pipelineCatalog,
    handlers: [
      handleEvent(TaskRequested, async (event, trx: PipelineTransaction) => {
        await recordEffect(trx, config, event.id);
      }),
    ],
    inbox: inboxOf(db, config),
    concurrency: 8,
    // A killed consumer's jobs are found within ~1 s and retried; a job may stall many times
    // in a chaos run, which must never turn it into a dead letter.
    lockDurationMs: Math.max(1_000, stalledMs * 2),
    stalledIntervalMs: stalledMs,
    maxStalledCount: 100,
  });
  await consumer.waitUntilReady();
  stop = () => consumer.close();
} else {
  throw new Error(`unknown ROLE ${role}`);
}

process.once('SIGTERM', () => {
  void stop()
    .then(() => db.destroy())
    .then(() => process.exit(0));
});
console.log(`ready ${name}`);
