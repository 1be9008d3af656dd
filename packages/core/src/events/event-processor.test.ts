import { isDeadLetterError } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BallastError } from '../errors/ballast-error.js';
import type { Logger } from '../logging/logger.js';
import { MemoryInboxStore } from '../outbox/memory-inbox-store.js';
import { createEventCatalog } from './event-catalog.js';
import { defineEvent } from './event-definition.js';
import { createEventProcessor, handleEvent } from './event-processor.js';
import { defineUpcaster } from './event-upcaster.js';

const OrderCreated = defineEvent(
  'order.created',
  1,
  z.object({ orderId: z.string(), total: z.number() }),
);
const OrderCreatedV2 = defineEvent(
  'order.created',
  2,
  z.object({ orderId: z.string(), cents: z.number() }),
);
const OrderPaid = defineEvent('order.paid', 1, z.object({ orderId: z.string() }));
const catalog = createEventCatalog({
  events: [OrderCreated, OrderCreatedV2, OrderPaid],
  upcasters: [
    defineUpcaster(OrderCreated, OrderCreatedV2, (p) => ({
      orderId: p.orderId,
      cents: p.total * 100,
    })),
  ],
});

function recordingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message?: string }[] = [];
  const at =
    (level: string, bound: Record<string, unknown>) =>
    (fields: Record<string, unknown>, message?: string) =>
      lines.push({ level, fields: { ...bound, ...fields }, message });
  const make = (bound: Record<string, unknown>): Logger => ({
    debug: at('debug', bound),
    info: at('info', bound),
    warn: at('warn', bound),
    error: at('error', bound),
    child: (more) => make({ ...bound, ...more }),
  });
  return { logger: make({}), lines };
}

function setup(handle: (payload: { orderId: string; cents: number }) => unknown) {
  const { logger, lines } = recordingLogger();
  const effects: string[] = [];
  const processor = createEventProcessor({
    consumer: 'emails',
    catalog,
    inbox: new MemoryInboxStore(),
    logger,
    handlers: [
      handleEvent(OrderCreatedV2, async (event, _trx, context) => {
        context.logger.info({}, 'sending');
        const result = await handle(event.payload);
        effects.push(event.payload.orderId);
        return result;
      }),
    ],
  });
  return { processor, effects, lines };
}

describe('createEventProcessor', () => {
  it('runs the handler once per event id, upcasting older versions', async () => {
    const { processor, effects, lines } = setup(() => 'sent');
    const v1 = OrderCreated.create({ orderId: 'o-1', total: 2 });
    const first = await processor.process(v1, { attempt: 1, jobId: v1.id });
    expect(first).toMatchObject({ status: 'handled', value: 'sent' });
    expect(first.event?.payload).toEqual({ orderId: 'o-1', cents: 200 });
    expect((await processor.process(v1, { attempt: 2 })).status).toBe('duplicate');
    const v2 = OrderCreatedV2.create({ orderId: 'o-2', cents: 5 });
    expect((await processor.process(JSON.stringify(v2))).status).toBe('handled');
    expect(effects).toEqual(['o-1', 'o-2']);
    const sending = lines.find((line) => line.message === 'sending');
    expect(sending?.fields).toMatchObject({
      consumer: 'emails',
      eventId: v1.id,
      jobId: v1.id,
      attempt: 1,
      traceId: v1.traceId,
      type: 'order.created.v2',
      upcastFrom: 'order.created.v1',
    });
    expect(processor.types).toEqual(['order.created.v2']);
  });

  it('asks for a retry on an ordinary failure and runs again on the redelivery', async () => {
    let calls = 0;
    const { processor, effects, lines } = setup(() => {
      calls += 1;
      if (calls === 1) throw new Error('smtp timeout');
    });
    const event = OrderCreatedV2.create({ orderId: 'o', cents: 1 });
    const failed = await processor.process(event, { attempt: 1, jobId: 'j' });
    expect(failed).toMatchObject({ status: 'retry' });
    const warning = lines.find((line) => line.level === 'warn');
    expect(warning?.fields).toMatchObject({ jobId: 'j', attempt: 1, traceId: event.traceId });
    expect((await processor.process(event, { attempt: 2 })).status).toBe('handled');
    expect(effects).toEqual(['o']);
  });

  it("gives up on an attempt when the delivery's signal aborts, whatever the handler does", async () => {
    let finish: (() => void) | undefined;
    const seen: AbortSignal[] = [];
    const { logger, lines } = recordingLogger();
    const processor = createEventProcessor({
      consumer: 'emails',
      catalog,
      inbox: new MemoryInboxStore(),
      logger,
      handlers: [
        handleEvent(OrderCreatedV2, (_event, _trx, context) => {
          seen.push(context.signal);
          // Hangs, and ignores its signal.
          return new Promise<void>((resolve) => {
            finish = resolve;
          });
        }),
      ],
    });
    const event = OrderCreatedV2.create({ orderId: 'o', cents: 1 });
    const limit = new AbortController();
    const pending = processor.process(event, { attempt: 1, signal: limit.signal });
    const timeout = new BallastError('TIMEOUT', { message: 'handler over 300 ms' });
    limit.abort(timeout);
    expect(await pending).toMatchObject({ status: 'retry', error: timeout });
    expect(seen[0]?.aborted).toBe(true);
    // The abandoned handler's late end is logged, not lost.
    finish?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((line) => line.message)).toContain(
      'event handler finished after its attempt was given up',
    );
  });

  it('hands a never-aborting signal to a handler of a delivery without one', async () => {
    let signal: AbortSignal | undefined;
    const processor = createEventProcessor({
      consumer: 'emails',
      catalog,
      inbox: new MemoryInboxStore(),
      handlers: [
        handleEvent(OrderCreatedV2, (_event, _trx, context) => {
          signal = context.signal;
        }),
      ],
    });
    const event = OrderCreatedV2.create({ orderId: 'o', cents: 1 });
    expect((await processor.process(event)).status).toBe('handled');
    expect(signal?.aborted).toBe(false);
    await expect(
      processor.process(event, { signal: 'soon' as unknown as AbortSignal }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });

  it('dead-letters non-retryable errors, schema failures and bad events at once', async () => {
    const nonRetryable = setup(() => {
      throw new BallastError('NOT_FOUND', { details: { reason: 'customer-gone' } });
    });
    const event = OrderCreatedV2.create({ orderId: 'o', cents: 1 });
    expect(await nonRetryable.processor.process(event)).toMatchObject({
      status: 'dead-letter',
      reason: 'customer-gone',
    });
    const zodFailure = setup(() => z.object({ email: z.string() }).parse({}));
    expect(await zodFailure.processor.process(event)).toMatchObject({
      status: 'dead-letter',
      reason: 'invalid-data',
    });
    const retryableBallast = setup(() => {
      throw new BallastError('UPSTREAM_ERROR');
    });
    expect((await retryableBallast.processor.process(event)).status).toBe('retry');

    const { processor, effects, lines } = setup(() => undefined);
    const cases: [unknown, string][] = [
      [{ ...event, type: 'order.created.v7' }, 'unknown-version'],
      [{ ...event, type: 'invoice.sent.v1' }, 'unknown-type'],
      [{ ...event, payload: { orderId: 3 } }, 'invalid-payload'],
      [OrderPaid.create({ orderId: 'o' }), 'no-handler'],
      ['garbage', 'invalid-envelope'],
      [undefined, 'invalid-envelope'],
    ];
    for (const [raw, reason] of cases) {
      const outcome = await processor.process(raw, { attempt: 1, jobId: 'j-1' });
      expect([reason, outcome.status, outcome.status === 'dead-letter' && outcome.reason]).toEqual([
        reason,
        'dead-letter',
        reason,
      ]);
    }
    expect(effects).toEqual([]);
    expect(lines.filter((line) => line.level === 'error')).toHaveLength(cases.length);
    expect(lines.at(-1)?.fields).toMatchObject({
      jobId: 'j-1',
      attempt: 1,
      reason: 'invalid-envelope',
    });
  });

  it('runs concurrent deliveries of one event once', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { processor, effects } = setup(() => gate);
    const event = OrderCreatedV2.create({ orderId: 'o', cents: 1 });
    const both = Promise.all([processor.process(event), processor.process(event)]);
    release();
    const statuses = (await both).map((outcome) => outcome.status).sort();
    expect(statuses).toEqual(['duplicate', 'handled']);
    expect(effects).toEqual(['o']);
  });

  it('validates its options', () => {
    const base = { consumer: 'c', catalog, inbox: new MemoryInboxStore() };
    expect(() => createEventProcessor({ ...base, handlers: [] })).toThrow(/handlers/);
    const h = handleEvent(OrderCreatedV2, () => undefined);
    expect(() =>
      createEventProcessor({ ...base, handlers: [h, handleEvent(OrderCreated, () => undefined)] }),
    ).toThrow(/two handlers for order.created/);
    const Stray = defineEvent('stray', 1, z.object({}));
    expect(() =>
      createEventProcessor({ ...base, handlers: [handleEvent(Stray, () => undefined)] }),
    ).toThrow(/not in the catalog/);
    expect(() => createEventProcessor({ ...base, consumer: '', handlers: [h] })).toThrow(
      /consumer/,
    );
  });

  it('refuses a consumer name an inbox cannot store or keep apart, at construction', () => {
    const base = { catalog, inbox: new MemoryInboxStore() };
    const h = handleEvent(OrderCreatedV2, () => undefined);
    // Accepted, it failed every delivery instead: the Postgres inbox refuses a NUL or a lone
    // surrogate in the mark, and a newline forges the consumer's log lines.
    for (const consumer of ['emails\u0000', 'emails-\ud800', 'emails\n[INFO] ok']) {
      expect(() => createEventProcessor({ ...base, consumer, handlers: [h] })).toThrow(
        /createEventProcessor\(\).*consumer/,
      );
    }
  });
});

describe('isDeadLetterError', () => {
  const zodError = (() => {
    try {
      z.object({ orderId: z.string() }).parse({ orderId: 1 });
    } catch (error) {
      return error;
    }
    throw new Error('zod accepted a number as a string');
  })();

  it('is true for a BallastError with retryable: false and for zod or valibot validation errors', () => {
    expect(isDeadLetterError(new BallastError('VALIDATION_FAILED'))).toBe(true);
    expect(isDeadLetterError(new BallastError('UPSTREAM_ERROR', { retryable: false }))).toBe(true);
    expect(isDeadLetterError(zodError)).toBe(true);
    expect(isDeadLetterError({ name: 'ValiError', issues: [{ message: 'bad' }] })).toBe(true);
  });

  it('is false for what another attempt may cure, and for values that only look alike', () => {
    for (const error of [
      new BallastError('UPSTREAM_ERROR'),
      new BallastError('VALIDATION_FAILED', { retryable: true }),
      new Error('ECONNRESET'),
      { name: 'ZodError' },
      { name: 'ValiError', issues: 'not an array' },
      { name: 'TypeError', issues: [] },
      'a string',
      undefined,
      null,
    ]) {
      expect(isDeadLetterError(error), String(error)).toBe(false);
    }
  });

  it('never throws itself for a thrown value whose properties throw when read', () => {
    const throwingName = Object.defineProperty({}, 'name', {
      get() {
        throw new Error('getter');
      },
    });
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    for (const error of [throwingName, revoked.proxy]) {
      expect(isDeadLetterError(error)).toBe(false);
    }
  });

  it('turns a handler that throws such a value into a retry, never a rejected process()', async () => {
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const { processor } = setup(() => {
      throw revoked.proxy;
    });
    const event = OrderCreatedV2.create({ orderId: 'o-10', cents: 1 });
    const outcome = await processor.process(event, { attempt: 1, jobId: event.id });
    expect(outcome.status).toBe('retry');
  });

  it("is the rule process() follows: dead letter at once when true, the engine's retry when false", async () => {
    for (const error of [
      new BallastError('UPSTREAM_ERROR', { retryable: false }),
      zodError,
      new BallastError('UPSTREAM_ERROR'),
      new Error('socket hang up'),
    ]) {
      const { processor } = setup(() => {
        throw error;
      });
      const event = OrderCreatedV2.create({ orderId: 'o-9', cents: 1 });
      const outcome = await processor.process(event, { attempt: 1, jobId: event.id });
      expect(outcome.status).toBe(isDeadLetterError(error) ? 'dead-letter' : 'retry');
    }
  });
});
