/**
 * Review of the events entry points as an attacker would drive them: hostile envelopes reach
 * `decode()` and `process()` and must come back as dead letters with short reasons; misuse of
 * the entry points must be `INVALID_OPTIONS` naming the function, never a raw `TypeError`.
 */
import { checkEnvelope } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BallastError } from '../errors/ballast-error.js';
import { MemoryInboxStore } from '../outbox/memory-inbox-store.js';
import { createEventCatalog } from './event-catalog.js';
import { defineEvent } from './event-definition.js';
import { createEventProcessor, handleEvent } from './event-processor.js';

const OrderCreated = defineEvent(
  'order.created',
  1,
  z.object({ orderId: z.string(), status: z.enum(['new', 'paid']).optional() }),
);
const catalog = createEventCatalog({ events: [OrderCreated] });
const envelope = (overrides: Record<string, unknown> = {}) => ({
  type: 'order.created.v1',
  id: '9b2f6c1e-4d3a-4c9e-8f5b-1a2b3c4d5e6f',
  occurredAt: '2026-12-04T10:00:00.000Z',
  payload: { orderId: 'o-1' },
  ...overrides,
});

/** The BallastError `promise` rejects with; fails the test if it resolves or rejects otherwise. */
function rejection(promise: Promise<unknown>): Promise<BallastError> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => {
      expect(error).toBeInstanceOf(BallastError);
      return error as BallastError;
    },
  );
}

function thrown(fn: () => unknown): BallastError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(BallastError);
    return error as BallastError;
  }
  throw new Error('expected a throw');
}

describe('catalog.decode() options', () => {
  it('refuses null options and a non-definition `as` with INVALID_OPTIONS naming decode()', async () => {
    const nullOptions = await rejection(catalog.decode(envelope(), null as never));
    expect(nullOptions.code).toBe('INVALID_OPTIONS');
    expect(nullOptions.message).toContain('decode()');
    const badTarget = await rejection(
      catalog.decode(envelope(), { as: 'order.created.v1' as never }),
    );
    expect(badTarget.code).toBe('INVALID_OPTIONS');
    expect(badTarget.message).toContain('"as"');
  });
});

describe('hostile envelopes', () => {
  it('bounds the reason when a schema message echoes a huge received value', async () => {
    // Some schema libraries put the received value in the message; this one echoes all of it.
    const echoing = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value: unknown) => ({
          issues: [{ message: `received ${JSON.stringify(value)}`, path: ['secret'] }],
        }),
      },
    } as const;
    const Echo = defineEvent('echo.sent', 1, echoing);
    const echo = createEventCatalog({ events: [Echo] });
    const huge = 'S'.repeat(100_000);
    const error = await rejection(
      echo.decode(envelope({ type: 'echo.sent.v1', payload: { secret: huge } })),
    );
    expect(error.code).toBe('EVENT_INVALID');
    expect(error.message.length).toBeLessThan(2_000);
    expect(String(error.details.issues).length).toBeLessThan(2_000);
  });

  it('bounds the reason when a payload key (an issue path) is huge', async () => {
    const Tags = defineEvent('tags.set', 1, z.record(z.string(), z.number()));
    const tags = createEventCatalog({ events: [Tags] });
    const key = 'k'.repeat(100_000);
    const error = await rejection(
      tags.decode(envelope({ type: 'tags.set.v1', payload: { [key]: 'not a number' } })),
    );
    expect(error.code).toBe('EVENT_INVALID');
    expect(error.message.length).toBeLessThan(2_000);
  });

  it.each([
    ['a bare number', '1'],
    ['a huge string', `2026-12-04T10:00:00.000Z${' '.repeat(100_000)}`],
    ['an English date', 'Tue, 1 Dec 2026 10:00:00 GMT'],
    // Date.parse rolls these over to 2 and 1 March instead of refusing them.
    ['a 30 February', '2026-02-30T10:00:00.000Z'],
    ['a 29 February outside a leap year', '2027-02-29T10:00:00Z'],
    ['a 31 April', '2026-04-31T10:00:00Z'],
  ])('refuses an occurredAt that is %s', async (_, occurredAt) => {
    const error = await rejection(catalog.decode(envelope({ occurredAt })));
    expect(error.code).toBe('EVENT_INVALID');
    expect(error.details).toMatchObject({ field: 'occurredAt' });
  });

  it('accepts ISO 8601 with an offset or without milliseconds', async () => {
    for (const occurredAt of [
      '2026-12-04T10:00:00Z',
      '2026-12-04T11:00:00.5+01:00',
      '2028-02-29T10:00:00Z',
      '0000-02-29T10:00:00Z',
      '2026-12-31T23:59:59Z',
    ]) {
      await expect(catalog.decode(envelope({ occurredAt }))).resolves.toMatchObject({
        occurredAt,
      });
    }
  });

  it.each(['id', 'key', 'tenantId', 'traceId'])(
    'refuses control characters in %s (job ids, inbox keys and log lines)',
    async (field) => {
      const error = await rejection(catalog.decode(envelope({ [field]: 'a\u0000b\nc' })));
      expect(error.code).toBe('EVENT_INVALID');
      expect(error.details).toMatchObject({ field });
    },
  );

  it('does not echo a non-conforming type with control characters in the message', async () => {
    const error = await rejection(catalog.decode(envelope({ type: 'x.v1\n[FAKE] admin login' })));
    expect(error.code).toBe('EVENT_INVALID');
    expect(error.message).not.toContain('\n');
  });

  it('defineEvent() refuses a version that would not print as digits', () => {
    const error = thrown(() => defineEvent('order.created', 1e21, z.object({})));
    expect(error.code).toBe('INVALID_OPTIONS');
    expect(error.message).toContain('defineEvent()');
  });

  it('create() refuses an occurredAt that would not print as the ISO 8601 every consumer reads', async () => {
    for (const occurredAt of [
      new Date(8.64e15),
      new Date(Date.UTC(10_000, 0, 1)),
      new Date(-1e14),
    ]) {
      const error = thrown(() => OrderCreated.create({ orderId: 'o-1' }, { occurredAt }));
      expect(error.code).toBe('INVALID_OPTIONS');
      expect(error.details.field).toBe('occurredAt');
    }
    const earliest = OrderCreated.create(
      { orderId: 'o-1' },
      { occurredAt: new Date('0000-01-01T00:00:00Z') },
    );
    const latest = OrderCreated.create(
      { orderId: 'o-1' },
      { occurredAt: new Date('9999-12-31T23:59:59.999Z') },
    );
    await expect(catalog.decode(earliest)).resolves.toMatchObject({
      occurredAt: '0000-01-01T00:00:00.000Z',
    });
    await expect(catalog.decode(latest)).resolves.toMatchObject({
      occurredAt: '9999-12-31T23:59:59.999Z',
    });
  });

  it('create() refuses an id, key, tenant or trace id with a lone surrogate', () => {
    for (const field of ['id', 'key', 'tenantId', 'traceId']) {
      const error = thrown(() => OrderCreated.create({ orderId: 'o-1' }, { [field]: 'e-\ud800' }));
      expect(error.code).toBe('INVALID_OPTIONS');
      expect(error.details.field).toBe(field);
    }
    expect(OrderCreated.create({ orderId: 'o-1' }, { key: 'k-\u{1f600}' }).key).toBe('k-\u{1f600}');
  });

  it('create() refuses control characters in the id', () => {
    const error = thrown(() => OrderCreated.create({ orderId: 'o-1' }, { id: 'a\nb' }));
    expect(error.code).toBe('INVALID_OPTIONS');
  });
});

describe('schemas that throw instead of answering', () => {
  // A zod transform that throws on some values, or a hand-written Standard Schema with a bug:
  // the error escaped decode() and create() as it was (a TypeError), which neither documents.
  const Unlucky = defineEvent(
    'ticket.drawn',
    1,
    z.object({
      n: z.number().transform((n) => {
        if (n === 13) throw new TypeError('unlucky');
        return n;
      }),
    }),
  );
  const Broken = defineEvent('ticket.broken', 1, {
    '~standard': { version: 1, vendor: 'hand-written', validate: () => ({ issues: 'bad' }) },
  } as never);
  const tickets = createEventCatalog({ events: [Unlucky, Broken] });
  const ticket = (type: string, payload: unknown) => envelope({ type, id: 'ticket-1', payload });

  it('decode() refuses the event with EVENT_INVALID (invalid-payload), the error as cause', async () => {
    const unlucky = await rejection(tickets.decode(ticket('ticket.drawn.v1', { n: 13 })));
    expect(unlucky).toMatchObject({
      code: 'EVENT_INVALID',
      details: { reason: 'invalid-payload' },
    });
    expect((unlucky.cause as Error).message).toBe('unlucky');
    const broken = await rejection(tickets.decode(ticket('ticket.broken.v1', {})));
    expect(broken).toMatchObject({ code: 'EVENT_INVALID', details: { reason: 'invalid-payload' } });
  });

  it('create() refuses the payload with a BallastError, leaving no rejection unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // Zod retries a throwing transform asynchronously: create() sees a promise.
      expect(thrown(() => Unlucky.create({ n: 13 })).code).toBe('INVALID_OPTIONS');
      const Throwing = defineEvent('ticket.thrown', 1, {
        '~standard': {
          version: 1,
          vendor: 'hand-written',
          validate: () => {
            throw new TypeError('schema bug');
          },
        },
      } as never);
      expect(thrown(() => Throwing.create({} as never))).toMatchObject({
        code: 'EVENT_INVALID',
        details: { reason: 'invalid-payload' },
      });
      expect(thrown(() => Broken.create({} as never)).code).toBe('EVENT_INVALID');
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('handleEvent() and process() misuse', () => {
  it('handleEvent() validates its arguments', () => {
    const noEvent = thrown(() => handleEvent(undefined as never, () => undefined));
    expect(noEvent.code).toBe('INVALID_OPTIONS');
    expect(noEvent.message).toContain('handleEvent()');
    const noHandler = thrown(() => handleEvent(OrderCreated, 'nope' as never));
    expect(noHandler.code).toBe('INVALID_OPTIONS');
    expect(noHandler.message).toContain('"handle"');
  });

  it('process() with a malformed delivery rejects with INVALID_OPTIONS, not a TypeError', async () => {
    const processor = createEventProcessor({
      consumer: 'c',
      catalog,
      handlers: [handleEvent(OrderCreated, () => undefined)],
      inbox: new MemoryInboxStore(),
    });
    for (const delivery of [null, { attempt: 0 }, { attempt: 'two' }, { jobId: 42 }]) {
      const error = await rejection(processor.process(envelope(), delivery as never));
      expect(error.code).toBe('INVALID_OPTIONS');
      expect(error.message).toContain('process()');
    }
  });
});

describe('hostile envelopes through process()', () => {
  const processor = createEventProcessor({
    consumer: 'c',
    catalog,
    handlers: [handleEvent(OrderCreated, () => undefined)],
    inbox: new MemoryInboxStore(),
  });

  it('dead-letters a deeply nested payload without crashing', async () => {
    const depth = 100_000;
    const raw = `{"type":"order.created.v1","id":"e-deep","occurredAt":"2026-12-04T10:00:00Z","payload":{"orderId":${'['.repeat(depth)}${']'.repeat(depth)}}}`;
    const outcome = await processor.process(raw);
    expect(outcome.status).toBe('dead-letter');
  });

  it('never lets __proto__ keys reach Object.prototype', async () => {
    const raw = `{"type":"order.created.v1","id":"e-proto","occurredAt":"2026-12-04T10:00:00Z","__proto__":{"polluted":1},"payload":{"orderId":"o","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}}`;
    const outcome = await processor.process(raw);
    expect(outcome.status).toBe('handled');
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
  });

  it.each(['x.v0', 'x.v-1', 'x.v1e3', '.v1', 'x.v01', 'X.v1', 'x.v1 '])(
    'dead-letters the type %j as an invalid envelope',
    async (type) => {
      const outcome = await processor.process(envelope({ type }));
      expect(outcome).toMatchObject({ status: 'dead-letter', reason: 'invalid-envelope' });
    },
  );

  it.each([
    ['an unknown type', 'refund.issued.v1', 'unknown-type'],
    ['an unknown version', 'order.created.v9', 'unknown-version'],
  ])('dead-letters %s as EVENT_UNKNOWN', async (_, type, reason) => {
    const outcome = await processor.process(envelope({ type }));
    expect(outcome).toMatchObject({ status: 'dead-letter', reason });
  });
});

describe('checkEnvelope', () => {
  /** The EVENT_INVALID error for `raw`; fails the test when the envelope is accepted. */
  function refusal(raw: unknown): BallastError {
    try {
      checkEnvelope(raw);
    } catch (error) {
      if (error instanceof BallastError) return error;
      throw error;
    }
    throw new Error(`accepted ${JSON.stringify(raw)}`);
  }

  it('accepts the object or its JSON text and returns only the fields an envelope defines', () => {
    const raw = envelope({ traceId: 't-1', tenantId: 'acme', key: 'o-1', addedByNewer: true });
    const expected = {
      type: 'order.created.v1',
      id: raw.id,
      occurredAt: raw.occurredAt,
      payload: { orderId: 'o-1' },
      traceId: 't-1',
      tenantId: 'acme',
      key: 'o-1',
    };
    expect(checkEnvelope(raw)).toEqual(expected);
    expect(checkEnvelope(JSON.stringify(raw))).toEqual(expected);
    expect(checkEnvelope(envelope({ occurredAt: '2026-12-04T10:00+01:00' })).occurredAt).toBe(
      '2026-12-04T10:00+01:00',
    );
  });

  it('refuses ids and keys that are not well-formed Unicode (a lone surrogate), which stores collapse into one', () => {
    // Postgres and Redis store text as UTF-8: every lone surrogate becomes U+FFFD, so these two
    // event ids would share one inbox mark and the second event would be skipped as done.
    for (const field of ['id', 'key', 'tenantId', 'traceId']) {
      for (const text of ['e-\ud800', 'e-\udbff', '\udc00-e']) {
        expect(refusal(envelope({ [field]: text })).details.field).toBe(field);
      }
    }
    expect(checkEnvelope(envelope({ id: 'e-\u{1f600}' })).id).toBe('e-\u{1f600}');
  });

  it('reads null optional fields as absent', () => {
    const checked = checkEnvelope(envelope({ traceId: null, tenantId: null, key: null }));
    expect(Object.keys(checked).sort()).toEqual(['id', 'occurredAt', 'payload', 'type']);
  });

  it('refuses each broken field with EVENT_INVALID naming it', () => {
    const cases: Array<[unknown, string]> = [
      ['{not json', '(envelope)'],
      [[envelope()], '(envelope)'],
      [null, '(envelope)'],
      [envelope({ type: '' }), 'type'],
      [envelope({ id: 'a\nforged log line' }), 'id'],
      [envelope({ id: 'x'.repeat(201) }), 'id'],
      [envelope({ occurredAt: '1' }), 'occurredAt'],
      [envelope({ occurredAt: 'December 4, 2026' }), 'occurredAt'],
      [envelope({ occurredAt: '2026-13-45T10:00:00Z' }), 'occurredAt'],
      [envelope({ traceId: 'a\u0000b' }), 'traceId'],
      [envelope({ tenantId: 7 }), 'tenantId'],
      [envelope({ key: '' }), 'key'],
      [envelope({ payload: undefined }), 'payload'],
    ];
    for (const [raw, field] of cases) {
      const error = refusal(raw);
      expect(error.code, field).toBe('EVENT_INVALID');
      expect(error.details, field).toMatchObject({ reason: 'invalid-envelope', field });
    }
  });

  it('names the event in the error when its type and id are readable', () => {
    const error = refusal(envelope({ occurredAt: 'yesterday' }));
    expect(error.details).toMatchObject({
      type: 'order.created.v1',
      eventId: '9b2f6c1e-4d3a-4c9e-8f5b-1a2b3c4d5e6f',
    });
    expect(refusal(envelope({ id: 'a\nb' })).details.eventId).toBeUndefined();
  });
});
