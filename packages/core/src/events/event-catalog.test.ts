import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BallastError } from '../errors/ballast-error.js';
import * as v from '../options/small-validator.js';
import { isValidTraceId } from '../trace/trace-ids.js';
import { createEventCatalog } from './event-catalog.js';
import { defineEvent } from './event-definition.js';
import { defineUpcaster } from './event-upcaster.js';

const OrderCreated = defineEvent(
  'order.created',
  1,
  z.object({ orderId: z.string(), total: z.number() }),
);
const OrderCreatedV2 = defineEvent(
  'order.created',
  2,
  z.object({ orderId: z.string(), totalCents: z.number().int() }),
);
const OrderCreatedV3 = defineEvent(
  'order.created',
  3,
  z.object({ orderId: z.string(), totalCents: z.number().int(), currency: z.string() }),
);
const v1ToV2 = defineUpcaster(OrderCreated, OrderCreatedV2, (v1) => ({
  orderId: v1.orderId,
  totalCents: Math.round(v1.total * 100),
}));
const v2ToV3 = defineUpcaster(OrderCreatedV2, OrderCreatedV3, (v2) => ({ ...v2, currency: 'EUR' }));
const catalog = createEventCatalog({
  events: [OrderCreated, OrderCreatedV2, OrderCreatedV3],
  upcasters: [v1ToV2, v2ToV3],
});

async function rejection(promise: Promise<unknown>): Promise<BallastError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BallastError);
  return error as BallastError;
}

describe('defineEvent', () => {
  it('creates an envelope with a type, a UUID, an ISO instant and a new W3C trace id', () => {
    const event = OrderCreated.create({ orderId: 'o-1', total: 12.5 }, { key: 'o-1' });
    expect(OrderCreated.type).toBe('order.created.v1');
    expect(event.type).toBe('order.created.v1');
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(event.occurredAt).toISOString()).toBe(event.occurredAt);
    expect(isValidTraceId(event.traceId ?? '')).toBe(true);
    expect(event.key).toBe('o-1');
    expect('tenantId' in event).toBe(false);
  });

  it('keeps the ids and instant it is given', () => {
    const at = new Date('2026-01-02T03:04:05.000Z');
    const event = OrderCreated.create(
      { orderId: 'o', total: 1 },
      { id: 'e-1', traceId: 't', tenantId: 'acme', occurredAt: at },
    );
    expect(event).toMatchObject({
      id: 'e-1',
      traceId: 't',
      tenantId: 'acme',
      occurredAt: at.toISOString(),
    });
  });

  it('refuses an invalid payload with EVENT_INVALID naming the field', () => {
    const error = (() => {
      try {
        OrderCreated.create({ orderId: 1 } as never);
      } catch (e) {
        return e as BallastError;
      }
    })();
    expect(error?.code).toBe('EVENT_INVALID');
    expect(error?.details.reason).toBe('invalid-payload');
    expect(String(error?.details.issues)).toContain('orderId');
  });

  it('validates its arguments', () => {
    expect(() => defineEvent('Order Created', 1, z.object({}))).toThrow(/name/);
    expect(() => defineEvent('order', 0, z.object({}))).toThrow(/version/);
    expect(() => defineEvent('order', 1.5, z.object({}))).toThrow(/version/);
    expect(() => defineEvent('order', 1, {} as never)).toThrow(/schema/);
    expect(() => OrderCreated.create({ orderId: 'o', total: 1 }, { idd: 'x' } as never)).toThrow(
      /idd/,
    );
  });

  it('accepts core’s own validator as the schema', () => {
    const Ping = defineEvent('ping', 1, v.object({ n: v.number() }));
    expect(Ping.create({ n: 1 }).payload).toEqual({ n: 1 });
  });
});

describe('defineUpcaster', () => {
  it('only steps one version of one event', () => {
    const Other = defineEvent('order.paid', 2, z.object({}));
    expect(() => defineUpcaster(OrderCreated, OrderCreatedV3, () => ({}) as never)).toThrow(
      /order\.created\.v2/,
    );
    expect(() => defineUpcaster(OrderCreated, Other, () => ({}))).toThrow(/"to"/);
  });
});

describe('createEventCatalog().decode', () => {
  it('returns an event at its own version when no target is asked for', async () => {
    const event = OrderCreated.create({ orderId: 'o-1', total: 2 });
    const decoded = await catalog.decode(JSON.parse(JSON.stringify(event)));
    expect(decoded).toEqual(event);
    expect(decoded.upcastFrom).toBeUndefined();
  });

  it('upcasts along the chain to the version asked for, validating each step', async () => {
    const event = OrderCreated.create({ orderId: 'o-1', total: 12.34 });
    const decoded = await catalog.decode(JSON.stringify(event), { as: OrderCreatedV3 });
    expect(decoded.type).toBe('order.created.v3');
    expect(decoded.upcastFrom).toBe('order.created.v1');
    expect(decoded.payload).toEqual({ orderId: 'o-1', totalCents: 1234, currency: 'EUR' });
    expect(decoded.id).toBe(event.id);
  });

  it('names the reason for every refusal, never crashing', async () => {
    const good = OrderCreated.create({ orderId: 'o', total: 1 });
    const cases: [unknown, string, string][] = [
      [null, 'EVENT_INVALID', 'invalid-envelope'],
      ['{not json', 'EVENT_INVALID', 'invalid-envelope'],
      [[1, 2], 'EVENT_INVALID', 'invalid-envelope'],
      [{ ...good, id: '' }, 'EVENT_INVALID', 'invalid-envelope'],
      [{ ...good, occurredAt: 'yesterday' }, 'EVENT_INVALID', 'invalid-envelope'],
      [{ ...good, payload: undefined }, 'EVENT_INVALID', 'invalid-envelope'],
      [{ ...good, key: 42 }, 'EVENT_INVALID', 'invalid-envelope'],
      [{ ...good, type: 'order.created' }, 'EVENT_INVALID', 'invalid-envelope'],
      [{ ...good, type: 'order.created.v9' }, 'EVENT_UNKNOWN', 'unknown-version'],
      [{ ...good, type: 'invoice.sent.v1' }, 'EVENT_UNKNOWN', 'unknown-type'],
      [{ ...good, payload: { orderId: 'o' } }, 'EVENT_INVALID', 'invalid-payload'],
    ];
    for (const [raw, code, reason] of cases) {
      const error = await rejection(catalog.decode(raw));
      expect([raw, error.code, error.details.reason]).toEqual([raw, code, reason]);
      expect(error.retryable).toBe(false);
    }
  });

  it('refuses to downcast a newer event and to decode another event as the target', async () => {
    const v3 = OrderCreatedV3.create({ orderId: 'o', totalCents: 1, currency: 'EUR' });
    const newer = await rejection(catalog.decode(v3, { as: OrderCreatedV2 }));
    expect(newer.details).toMatchObject({ reason: 'newer-version', expected: 'order.created.v2' });
    const Paid = defineEvent('order.paid', 1, z.object({}));
    const withPaid = createEventCatalog({ events: [OrderCreated, Paid] });
    const wrong = await rejection(withPaid.decode(Paid.create({}), { as: OrderCreated }));
    expect(wrong.details.reason).toBe('wrong-event');
  });

  it('dead-letters a missing upcaster, a throwing one and one producing an invalid payload', async () => {
    const event = OrderCreated.create({ orderId: 'o', total: 1 });
    const noSteps = createEventCatalog({ events: [OrderCreated, OrderCreatedV2] });
    expect((await rejection(noSteps.decode(event, { as: OrderCreatedV2 }))).details.reason).toBe(
      'no-upcaster',
    );
    const throwing = createEventCatalog({
      events: [OrderCreated, OrderCreatedV2],
      upcasters: [
        defineUpcaster(OrderCreated, OrderCreatedV2, () => {
          throw new Error('secret internals');
        }),
      ],
    });
    const threw = await rejection(throwing.decode(event, { as: OrderCreatedV2 }));
    expect(threw.details.reason).toBe('upcast-failed');
    expect(JSON.stringify(threw.details)).not.toContain('secret');
    expect((threw.cause as Error).message).toBe('secret internals');
    const sloppy = createEventCatalog({
      events: [OrderCreated, OrderCreatedV2],
      upcasters: [
        defineUpcaster(OrderCreated, OrderCreatedV2, (p) => ({ orderId: p.orderId }) as never),
      ],
    });
    const invalid = await rejection(sloppy.decode(event, { as: OrderCreatedV2 }));
    expect(invalid.details).toMatchObject({ reason: 'upcast-invalid' });
    expect(String(invalid.details.issues)).toContain('totalCents');
  });

  it('dead-letters an async upcaster that rejects as upcast-failed, leaving no rejection unhandled', async () => {
    const event = OrderCreated.create({ orderId: 'o', total: 1 });
    const asyncSteps = (upcast: () => Promise<unknown>) =>
      createEventCatalog({
        events: [OrderCreated, OrderCreatedV2],
        upcasters: [defineUpcaster(OrderCreated, OrderCreatedV2, upcast as never)],
      });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failing = asyncSteps(async () => {
        throw new Error('lookup failed');
      });
      const threw = await rejection(failing.decode(event, { as: OrderCreatedV2 }));
      expect(threw.details.reason).toBe('upcast-failed');
      expect((threw.cause as Error).message).toBe('lookup failed');
      const working = asyncSteps(async () => ({ orderId: 'o', totalCents: 100 }));
      await expect(working.decode(event, { as: OrderCreatedV2 })).resolves.toMatchObject({
        payload: { orderId: 'o', totalCents: 100 },
      });
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('rejects inconsistent registrations', () => {
    expect(() => createEventCatalog({ events: [OrderCreated, OrderCreated] })).toThrow(/twice/);
    expect(() => createEventCatalog({ events: [OrderCreated], upcasters: [v1ToV2] })).toThrow(
      /not among/,
    );
    expect(() =>
      createEventCatalog({
        events: [OrderCreated, OrderCreatedV2],
        upcasters: [
          v1ToV2,
          defineUpcaster(OrderCreated, OrderCreatedV2, (p) => ({
            orderId: p.orderId,
            totalCents: 0,
          })),
        ],
      }),
    ).toThrow(/two upcasters/);
    expect(() => createEventCatalog({ events: [] })).toThrow(/events/);
    expect(catalog.latest('order.created')).toBe(OrderCreatedV3);
    expect(catalog.types).toEqual(['order.created.v1', 'order.created.v2', 'order.created.v3']);
  });
});
