/**
 * The queue engine down mid-run: the outbox keeps accepting events (the business transaction
 * never depends on the engine), the relay backs off and opens its breaker instead of hammering
 * a dead Redis, and once Redis is back everything drains, each event handled once.
 */
import { createBullmqPublisher, createConsumer } from '@ballast/adapters/bullmq';
import {
  createEventCatalog,
  createRelay,
  defineEvent,
  type EventEnvelope,
  handleEvent,
  MemoryInboxStore,
  MemoryOutbox,
  type Publisher,
} from '@ballast/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { eventually } from './support/bullmq-backends.js';
import {
  type DisposableRedis,
  disposableServicesMissing,
  startDisposableRedis,
} from './support/disposable-services.js';

const PaymentCaptured = defineEvent('payment.captured', 1, z.object({ n: z.number() }));
const catalog = createEventCatalog({ events: [PaymentCaptured] });
const outageMs = Number(process.env.BALLAST_OUTAGE_MS ?? 6_000);

const missing = disposableServicesMissing();
const describeOwn = (name: string, body: () => void) => {
  if (missing === undefined) return describe(name, body);
  if (process.env.CI === 'true') {
    return describe(name, () => {
      throw new Error(`${missing}; CI=true forbids skipping "${name}".`);
    });
  }
  console.warn(`[ballast tests] skipped "${name}": ${missing}.`);
  return describe.skip(name, body);
};

describeOwn('BullMQ engine down mid-run (its own redis-server on :6511)', () => {
  let redis: DisposableRedis;
  beforeAll(async () => {
    redis = await startDisposableRedis({ port: 6511 });
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it(`the outbox grows while Redis is down ${outageMs / 1000} s, the relay backs off, then everything drains once`, async () => {
    const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
    const outbox = new MemoryOutbox();
    const bullmq = createBullmqPublisher({ queue: 'payments', connection, timeoutMs: 500 });
    let publishCalls = 0;
    const publisher: Publisher = {
      publish(events, options) {
        publishCalls += 1;
        return bullmq.publish(events, options);
      },
    };
    const handled = new Map<string, number>();
    const consumer = createConsumer({
      queue: 'payments',
      connection,
      catalog,
      handlers: [
        handleEvent(PaymentCaptured, (event) => {
          handled.set(event.id, (handled.get(event.id) ?? 0) + 1);
        }),
      ],
      inbox: new MemoryInboxStore(),
      concurrency: 8,
    });
    const failures: number[] = [];
    const relay = createRelay({
      store: outbox,
      publisher,
      leaseMs: 3_000,
      pollIntervalMs: 200,
      backoff: { initialDelayMs: 200, maxDelayMs: 2_000 },
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 2_000 },
      on: { publishFailed: (event) => failures.push(event.retryInMs) },
    });
    relay.start();
    const publish = (from: number, count: number) =>
      outbox.transaction(async (trx) => {
        const events: EventEnvelope[] = [];
        for (let n = from; n < from + count; n += 1) events.push(PaymentCaptured.create({ n }));
        await outbox.publishMany(trx, events);
      });

    try {
      await publish(0, 200);
      await eventually(() => handled.size === 200, 20_000, '200 handled before the outage');

      await redis.stopServer();
      const callsAtOutage = publishCalls;
      // Commits go on during the outage: the outbox takes them, nothing else does.
      for (let batch = 0; batch < 6; batch += 1) {
        await publish(200 + batch * 50, 50);
        await new Promise((resolve) => setTimeout(resolve, outageMs / 6));
      }
      expect(await outbox.depth()).toBe(300);
      expect(relay.circuit).toBe('open');
      const callsDuringOutage = publishCalls - callsAtOutage;
      // Backoff and breaker: a handful of attempts over the outage, never a hot loop.
      expect(callsDuringOutage).toBeGreaterThan(0);
      expect(callsDuringOutage).toBeLessThanOrEqual(Math.ceil(outageMs / 1_000) + 3);
      expect(failures.length).toBeGreaterThanOrEqual(3);

      await redis.startServer();
      await eventually(() => handled.size === 500, 30_000, 'all 500 handled after the outage');
      await eventually(async () => (await outbox.depth()) === 0, 10_000, 'outbox drained');
      expect([...handled.values()].every((times) => times === 1)).toBe(true);
      console.info(
        `[outbox engine-down] ${callsDuringOutage} publish attempts during a ${outageMs} ms outage`,
      );
    } finally {
      await relay.stop();
      await consumer.close();
      await bullmq.close();
    }
  }, 90_000);
});
