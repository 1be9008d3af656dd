import {
  type Consumer,
  createBullmqPublisher,
  createConsumer,
  readJobStatus,
} from '@ballast/adapters/bullmq';
import {
  BallastError,
  createEventCatalog,
  defineEvent,
  defineUpcaster,
  type EventEnvelope,
  type EventHandlerContext,
  handleEvent,
  type Logger,
  MemoryInboxStore,
} from '@ballast/core';
import type { Queue } from 'bullmq';
import { afterAll, afterEach, expect, it } from 'vitest';
import { z } from 'zod';
import { describeEachBullmqBackend, eventually } from './support/bullmq-backends.js';

const OrderCreatedV1 = defineEvent('order.created', 1, z.object({ orderId: z.string() }));
const OrderCreatedV2 = defineEvent(
  'order.created',
  2,
  z.object({ orderId: z.string(), currency: z.string() }),
);
const OrderCreatedV3 = defineEvent(
  'order.created',
  3,
  z.object({ orderId: z.string(), currency: z.string(), channel: z.string() }),
);
const catalog = createEventCatalog({
  events: [OrderCreatedV1, OrderCreatedV2],
  upcasters: [
    defineUpcaster(OrderCreatedV1, OrderCreatedV2, (payload) => ({ ...payload, currency: 'EUR' })),
  ],
});

// Backoff shortened for the test; attempts stay at the default (3).
const fastRetries = { backoff: { type: 'fixed', delay: 20 } };

type LogLine = { level: string; fields: Record<string, unknown>; message?: string };

function recordingLogger() {
  const lines: LogLine[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at = (level: string) => (fields: Record<string, unknown>, message?: string) =>
      lines.push({ level, fields: { ...bindings, ...fields }, message });
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return { logger: make({}), lines };
}

describeEachBullmqBackend('BullMQ publisher and consumer', (engine) => {
  const opened: Array<{ close(): Promise<void> }> = [];
  const track = <T extends { close(): Promise<void> }>(thing: T): T => {
    opened.push(thing);
    return thing;
  };

  // Each test's publisher, consumer and queue are closed after it: on the Postgres backend each
  // holds pooled connections, and keeping every test's open until the file ended took the file
  // to 85 of Postgres' 100 (a file running beside it then met "too many clients").
  afterEach(async () => {
    for (const thing of opened.splice(0).reverse()) await thing.close().catch(() => {});
  });
  afterAll(async () => {
    await engine.cleanUp();
  });

  function setUp(
    label: string,
    handle: (
      event: { id: string; type: string; payload: unknown; upcastFrom?: string },
      context: EventHandlerContext,
    ) => unknown,
    extra: { logger?: Logger; handlerTimeoutMs?: number | false; concurrency?: number } = {},
  ) {
    const queueName = engine.queueName(label);
    const publisher = track(
      createBullmqPublisher({
        queue: queueName,
        connection: engine.connection,
        backend: engine.backend,
        jobOptions: fastRetries,
      }),
    );
    const consumer: Consumer = track(
      createConsumer({
        queue: queueName,
        connection: engine.connection,
        backend: engine.backend,
        consumer: 'emails',
        catalog,
        handlers: [handleEvent(OrderCreatedV2, (event, _trx, context) => handle(event, context))],
        inbox: new MemoryInboxStore(),
        concurrency: 4,
        ...extra,
      }),
    );
    const queue: Queue = track(engine.openQueue(queueName));
    return { publisher, consumer, queue };
  }

  it('re-publishing an event id adds no second job; each event is handled once', async () => {
    const handled: string[] = [];
    const { publisher, consumer, queue } = setUp('once', (event) => {
      handled.push(event.id);
    });
    const events = [1, 2, 3].map((n) =>
      OrderCreatedV2.create({ orderId: `o-${n}`, currency: 'EUR' }),
    );
    await publisher.publish(events);
    await publisher.publish(events);
    await publisher.publish([events[0]!]);
    await eventually(async () => handled.length === 3, 15_000, 'three handled');
    const states = () =>
      Promise.all(events.map(async (event) => (await consumer.status(event.id))?.state));
    await eventually(async () => (await states()).every((state) => state === 'COMPLETED'));
    expect(await states()).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    // Published again after completion: still the same job, nothing runs again.
    await publisher.publish(events);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(handled.sort()).toEqual(events.map((event) => event.id).sort());
    const counts = await queue.getJobCounts('completed', 'waiting', 'active', 'failed');
    expect(counts).toEqual({ completed: 3, waiting: 0, active: 0, failed: 0 });
    const job = await queue.getJob(events[0]!.id);
    expect(job?.name).toBe('order.created.v2');
    expect(job?.opts.attempts).toBe(3);
    expect(job?.data).toEqual(JSON.parse(JSON.stringify(events[0])));
  });

  it('a handler that always throws is a dead letter after exactly 3 attempts, each error kept', async () => {
    let calls = 0;
    const { logger, lines } = recordingLogger();
    const { publisher, consumer } = setUp(
      'always-throws',
      () => {
        calls += 1;
        throw new Error(`smtp refused (call ${calls})`);
      },
      { logger },
    );
    const event = OrderCreatedV2.create({ orderId: 'o-9', currency: 'EUR' });
    await publisher.publish([event]);
    const status = await eventually(
      async () => {
        const current = await consumer.status(event.id);
        return current?.state === 'FAILED' ? current : undefined;
      },
      15_000,
      'FAILED',
    );
    expect(calls).toBe(3);
    expect(status.attempts).toBe(3);
    expect(status.maxAttempts).toBe(3);
    expect(status.errors.map((error) => [error.attempt, error.message])).toEqual([
      [1, 'smtp refused (call 1)'],
      [2, 'smtp refused (call 2)'],
      [3, 'smtp refused (call 3)'],
    ]);
    // Every failure logged with the job id, the attempt and the trace id; then the dead letter.
    const failures = lines.filter(
      (line) => line.fields.jobId === event.id && line.level !== 'debug',
    );
    expect(
      failures.filter((line) => line.level === 'warn').map((line) => line.fields.attempt),
    ).toEqual([1, 2, 3]);
    const dead = failures.find((line) => line.message?.includes('dead letter'));
    expect(dead?.fields).toMatchObject({ jobId: event.id, attempt: 3, traceId: event.traceId });
    expect(JSON.stringify(failures)).toContain(event.traceId!);
  });

  it('a non-retryable error is a dead letter after 1 attempt; redrive after the fix runs it once', async () => {
    let fixed = false;
    let effects = 0;
    const { publisher, consumer } = setUp('non-retryable', () => {
      if (!fixed) {
        throw new BallastError('VALIDATION_FAILED', { message: 'no email address on the order' });
      }
      effects += 1;
    });
    const event = OrderCreatedV2.create({ orderId: 'o-10', currency: 'EUR' });
    await publisher.publish([event]);
    const failed = await eventually(async () => {
      const current = await consumer.status(event.id);
      return current?.state === 'FAILED' ? current : undefined;
    });
    expect(failed.attempts).toBe(1);
    expect(failed.errors).toEqual([
      expect.objectContaining({
        attempt: 1,
        code: 'VALIDATION_FAILED',
        deadLetterReason: 'VALIDATION_FAILED',
        message: 'no email address on the order',
      }),
    ]);

    fixed = true;
    expect(await consumer.redrive({ type: 'order.created' })).toBe(1);
    await eventually(async () => (await consumer.status(event.id))?.state === 'COMPLETED');
    expect(effects).toBe(1);
    // A second redrive finds nothing to do, and the effect stays single.
    expect(await consumer.redrive()).toBe(0);
    expect(effects).toBe(1);
  });

  it("a dead letter's reason is cut to a few hundred characters, whatever the handler's message", async () => {
    const { publisher, consumer, queue } = setUp('huge-message', () => {
      throw new BallastError('VALIDATION_FAILED', {
        message: `bad order ${'x'.repeat(1_000_000)}`,
      });
    });
    const event = OrderCreatedV2.create({ orderId: 'o-11', currency: 'EUR' });
    await publisher.publish([event]);
    const failed = await eventually(async () => {
      const current = await consumer.status(event.id);
      return current?.state === 'FAILED' ? current : undefined;
    });
    expect(failed.attempts).toBe(1);
    const job = await queue.getJob(event.id);
    expect(job?.failedReason.length).toBeLessThan(1_000);
    expect(job?.failedReason).toMatch(/^VALIDATION_FAILED: bad order x+…$/);
  });

  it('a hung handler is aborted after handlerTimeoutMs and its attempt retried; the slot is free again', async () => {
    const signals: AbortSignal[] = [];
    let handled = 0;
    const { publisher, consumer } = setUp(
      'hung',
      (_event, context) => {
        signals.push(context.signal);
        // The first attempt hangs, as a call to a server that never answers does, until its
        // signal aborts it (as fetch({ signal }) or a driver's cancel would).
        if (context.attempt === 1) {
          return new Promise((_resolve, reject) => {
            context.signal.addEventListener('abort', () => reject(context.signal.reason));
          });
        }
        handled += 1;
        return undefined;
      },
      { handlerTimeoutMs: 300 },
    );
    const event = OrderCreatedV2.create({ orderId: 'o-hung', currency: 'EUR' });
    await publisher.publish([event]);
    const done = await eventually(async () => {
      const current = await consumer.status(event.id);
      return current?.state === 'COMPLETED' ? current : undefined;
    });
    expect(handled).toBe(1);
    expect(done.attempts).toBe(2);
    expect(done.errors).toEqual([expect.objectContaining({ attempt: 1, code: 'TIMEOUT' })]);
    expect(signals[0]?.aborted).toBe(true);
    expect(signals[0]?.reason).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(signals[1]?.aborted).toBe(false);
  });

  it('a handler that ignores its signal no longer holds the slot: with concurrency 1 the next job runs', async () => {
    const handled: string[] = [];
    const { publisher, consumer } = setUp(
      'hung-for-ever',
      (event) => {
        if ((event.payload as { orderId: string }).orderId === 'o-stuck') {
          return new Promise(() => {});
        }
        handled.push(event.id);
        return undefined;
      },
      { handlerTimeoutMs: 200, concurrency: 1 },
    );
    const stuck = OrderCreatedV2.create({ orderId: 'o-stuck', currency: 'EUR' });
    const next = OrderCreatedV2.create({ orderId: 'o-next', currency: 'EUR' });
    await publisher.publish([stuck]);
    await publisher.publish([next]);
    await eventually(async () => (await consumer.status(next.id))?.state === 'COMPLETED');
    expect(handled).toEqual([next.id]);
    // Its retries wait on the same inbox entry as the hung attempt, so they time out too: a
    // dead letter after 3 attempts, visible and redrivable, rather than a slot held for ever.
    const dead = await eventually(async () => {
      const current = await consumer.status(stuck.id);
      return current?.state === 'FAILED' ? current : undefined;
    });
    expect(dead.errors.map((error) => error.code)).toEqual(['TIMEOUT', 'TIMEOUT', 'TIMEOUT']);
  });

  it('a handler that throws a value with no string form is retried, each attempt logged', async () => {
    const { publisher, consumer } = setUp('no-string-form', () => {
      throw Object.create(null);
    });
    const event = OrderCreatedV2.create({ orderId: 'o-12', currency: 'EUR' });
    await publisher.publish([event]);
    const failed = await eventually(async () => {
      const current = await consumer.status(event.id);
      return current?.state === 'FAILED' ? current : undefined;
    });
    expect(failed.errors.map((error) => error.attempt)).toEqual([1, 2, 3]);
  });

  it('a handler that throws a value whose every read throws is retried, each attempt logged', async () => {
    const { publisher, consumer } = setUp('unreadable', () => {
      const revoked = Proxy.revocable({}, {});
      revoked.revoke();
      throw revoked.proxy;
    });
    const event = OrderCreatedV2.create({ orderId: 'o-13', currency: 'EUR' });
    await publisher.publish([event]);
    const failed = await eventually(async () => {
      const current = await consumer.status(event.id);
      return current?.state === 'FAILED' ? current : undefined;
    });
    // Describing it threw before the log line was written: the attempts left no trace.
    expect(failed.errors.map((error) => [error.attempt, error.message])).toEqual([
      [1, '[unreadable value]'],
      [2, '[unreadable value]'],
      [3, '[unreadable value]'],
    ]);
  });

  it('handles v1 and v2 in one run through the upcaster; an unknown version is a dead letter', async () => {
    const seen: Array<{ type: string; upcastFrom?: string; payload: unknown }> = [];
    const { publisher, consumer } = setUp('versions', (event) => {
      seen.push({ type: event.type, upcastFrom: event.upcastFrom, payload: event.payload });
    });
    const v1 = OrderCreatedV1.create({ orderId: 'o-1' });
    const v2 = OrderCreatedV2.create({ orderId: 'o-2', currency: 'USD' });
    const v3 = OrderCreatedV3.create({ orderId: 'o-3', currency: 'USD', channel: 'web' });
    await publisher.publish([v1, v2, v3]);
    await eventually(async () => seen.length === 2);
    expect(seen).toEqual(
      expect.arrayContaining([
        {
          type: 'order.created.v2',
          upcastFrom: 'order.created.v1',
          payload: { orderId: 'o-1', currency: 'EUR' },
        },
        {
          type: 'order.created.v2',
          upcastFrom: undefined,
          payload: { orderId: 'o-2', currency: 'USD' },
        },
      ]),
    );
    const dead = await eventually(async () => {
      const current = await consumer.status(v3.id);
      return current?.state === 'FAILED' ? current : undefined;
    });
    expect(dead.attempts).toBe(1);
    expect(dead.errors[0]?.deadLetterReason).toBe('unknown-version');
    expect(dead.errors[0]?.code).toBe('EVENT_UNKNOWN');
  });

  it('an envelope that is not an event is a dead letter with its reason, never a crash', async () => {
    const { publisher, consumer } = setUp('garbage', () => {});
    const bogus = {
      type: 'order.created.v2',
      id: 'bogus-1',
      occurredAt: 'yesterday',
      payload: {},
    } as EventEnvelope;
    await publisher.publish([bogus]);
    const dead = await eventually(async () => {
      const current = await consumer.status('bogus-1');
      return current?.state === 'FAILED' ? current : undefined;
    });
    expect(dead.attempts).toBe(1);
    expect(dead.errors[0]?.code).toBe('EVENT_INVALID');
  });

  it('runs the handler under the event trace id', async () => {
    const traces: Array<string | undefined> = [];
    const queueName = engine.queueName('trace');
    const publisher = track(
      createBullmqPublisher({
        queue: queueName,
        connection: engine.connection,
        backend: engine.backend,
      }),
    );
    track(
      createConsumer({
        queue: queueName,
        connection: engine.connection,
        backend: engine.backend,
        catalog,
        handlers: [
          handleEvent(OrderCreatedV2, (_event, _trx, context) => {
            traces.push(context.trace?.traceId);
          }),
        ],
        inbox: new MemoryInboxStore(),
      }),
    );
    const event = OrderCreatedV2.create({ orderId: 'o-t', currency: 'EUR' });
    await publisher.publish([event]);
    await eventually(async () => traces.length === 1);
    expect(traces).toEqual([event.traceId]);
  });

  it('a status of an event the engine does not know is undefined', async () => {
    const queue = track(engine.openQueue(engine.queueName('status')));
    expect(await readJobStatus(queue, 'never-published')).toBeUndefined();
    await expect(readJobStatus(queue, '')).rejects.toThrow(/eventId/);
  });
});

describeEachBullmqBackend('createBullmqPublisher options', (engine) => {
  afterAll(() => engine.cleanUp());

  it('validates its options', () => {
    expect(() => createBullmqPublisher({ queue: 'q' })).toThrow(/connection/);
    expect(() =>
      createBullmqPublisher({ queue: 'bad name!', connection: engine.connection }),
    ).toThrow(/queue/);
    expect(() =>
      createBullmqPublisher({
        queue: 'q',
        connection: engine.connection,
        jobOptions: { jobId: 'fixed' } as never,
      }),
    ).toThrow(/jobId/);
    expect(() =>
      createBullmqPublisher({ queue: 'q', connection: engine.connection, extra: 1 } as never),
    ).toThrow(/extra/);
  });

  it('uses a queue the caller opened and leaves it open', async () => {
    const name = engine.queueName('own');
    const queue = engine.openQueue(name);
    const publisher = createBullmqPublisher({ queue });
    const event = OrderCreatedV1.create({ orderId: 'o-own' });
    await publisher.publish([event]);
    await publisher.close();
    const job = await queue.getJob(event.id);
    expect(job?.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 500 } });
    await expect(publisher.publish([event])).rejects.toThrow(/closed/);
    await queue.close();
  });
});
