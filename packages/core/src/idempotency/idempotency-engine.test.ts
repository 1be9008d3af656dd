import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import { toProblem } from '../errors/problem.js';
import type { Logger } from '../logging/logger.js';
import { injectFaults } from '../testing/inject-faults.js';
import { isPromiseLike } from './awaitable.js';
import type { IdempotencyOptions } from './idempotency-config.js';
import { createIdempotency } from './idempotency-engine.js';
import { beginInSameTick } from './idempotency-engine-types.js';
import type { IdempotencyEventName } from './idempotency-events.js';
import type { IdempotencyStore } from './idempotency-store.js';
import { MemoryIdempotencyStore } from './memory-idempotency-store.js';

const request = { scope: 'tenant-a', key: 'key-1', fingerprint: 'fp-1' };

/** A promise the test resolves by hand, to hold an operation in flight. */
function gate<T = void>() {
  let open!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

function setup(overrides: Partial<IdempotencyOptions> = {}) {
  const clock = new ManualClock(1_000_000);
  const store = new MemoryIdempotencyStore();
  const events: Array<{ name: IdempotencyEventName; event: unknown }> = [];
  const on = Object.fromEntries(
    (
      [
        'claim',
        'takeover',
        'replay',
        'conflict',
        'mismatch',
        'record',
        'release',
        'fenced',
        'unrecorded',
        'unguarded',
      ] as const
    ).map((name) => [name, (event: unknown) => events.push({ name, event })]),
  );
  const logger: Logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  const idempotency = createIdempotency({
    store,
    clock,
    logger,
    on,
    leaseMs: 30_000,
    ...overrides,
  });
  const names = () => events.map((e) => e.name);
  return { clock, store, events, names, logger, idempotency };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('createIdempotency: run', () => {
  it('executes once, records, then replays the recorded result', async () => {
    const { idempotency, names } = setup();
    const operation = vi.fn(async () => ({ saleId: 7 }));
    expect(await idempotency.run(request, operation)).toEqual({
      outcome: 'executed',
      result: { saleId: 7 },
      recorded: true,
    });
    expect(await idempotency.run(request, operation)).toEqual({
      outcome: 'replayed',
      result: { saleId: 7 },
    });
    expect(operation).toHaveBeenCalledTimes(1);
    expect(names()).toEqual(['claim', 'record', 'replay']);
  });

  it('lets exactly one of 200 concurrent runs execute; the others get 409 with Retry-After', async () => {
    const { idempotency } = setup();
    const hold = gate();
    let executions = 0;
    const runs = Array.from({ length: 200 }, () =>
      idempotency
        .run(request, async () => {
          executions++;
          await hold.promise;
          return 'done';
        })
        .then(
          (outcome) => outcome.outcome,
          (error: unknown) => (isBallastError(error) ? error : Promise.reject(error)),
        ),
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
    hold.open();
    const outcomes = await Promise.all(runs);
    expect(executions).toBe(1);
    expect(outcomes.filter((o) => o === 'executed')).toHaveLength(1);
    const conflicts = outcomes.filter((o) => isBallastError(o, 'IDEMPOTENCY_IN_FLIGHT'));
    expect(conflicts).toHaveLength(199);
    expect(conflicts[0]).toMatchObject({ status: 409, details: { retryAfterSeconds: 30 } });
    expect(await idempotency.run(request, async () => 'again')).toEqual({
      outcome: 'replayed',
      result: 'done',
    });
  });

  it('derives Retry-After from the remaining lease, rounded up, at least 1 s', async () => {
    const { idempotency, clock, events } = setup();
    const hold = gate();
    const first = idempotency.run(request, () => hold.promise);
    await clock.advance(20_500);
    const error = await caught(idempotency.run(request, async () => undefined));
    expect(error).toMatchObject({
      code: 'IDEMPOTENCY_IN_FLIGHT',
      details: { retryAfterSeconds: 10 },
    });
    await clock.advance(9_000);
    expect(await caught(idempotency.run(request, async () => undefined))).toMatchObject({
      details: { retryAfterSeconds: 1 },
    });
    expect(events.filter((e) => e.name === 'conflict').map((e) => e.event)).toEqual([
      { scope: 'tenant-a', key: 'key-1', retryAfterSeconds: 10, waitedMs: 0 },
      { scope: 'tenant-a', key: 'key-1', retryAfterSeconds: 1, waitedMs: 0 },
    ]);
    hold.open();
    await first;
  });

  it('answers 422 to the same key with another fingerprint, in flight or completed', async () => {
    const { idempotency, events } = setup();
    const hold = gate();
    const first = idempotency.run(request, () => hold.promise.then(() => 'original'));
    const other = { ...request, fingerprint: 'fp-2' };
    expect(await caught(idempotency.run(other, async () => 'x'))).toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
      status: 422,
    });
    hold.open();
    await first;
    expect(await caught(idempotency.run(other, async () => 'x'))).toMatchObject({
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    // The refusals recorded nothing over the original: a correct retry still replays it.
    expect(await idempotency.run(request, async () => 'x')).toEqual({
      outcome: 'replayed',
      result: 'original',
    });
    expect(events.filter((e) => e.name === 'mismatch').map((e) => e.event)).toEqual([
      { scope: 'tenant-a', key: 'key-1', state: 'in-flight' },
      { scope: 'tenant-a', key: 'key-1', state: 'completed' },
    ]);
  });

  it('releases the key when the operation throws, so a retry runs again', async () => {
    const { idempotency, events } = setup();
    const failure = new Error('database down');
    expect(await caught(idempotency.run(request, async () => Promise.reject(failure)))).toBe(
      failure,
    );
    expect(await idempotency.run(request, async () => 'second try')).toMatchObject({
      outcome: 'executed',
      result: 'second try',
    });
    expect(events.find((e) => e.name === 'release')?.event).toMatchObject({
      reason: 'error',
      released: true,
    });
  });

  it('records what `record` returns and releases when it returns undefined', async () => {
    const { idempotency } = setup();
    const response = (status: number) => ({ status, body: `status ${status}` });
    const record = (r: { status: number; body: string }) => (r.status < 500 ? r.body : undefined);
    expect(await idempotency.run(request, async () => response(503), { record })).toEqual({
      outcome: 'executed',
      result: response(503),
      recorded: false,
    });
    expect(await idempotency.run(request, async () => response(201), { record })).toEqual({
      outcome: 'executed',
      result: response(201),
      recorded: true,
    });
    expect(await idempotency.run(request, async () => response(201), { record })).toEqual({
      outcome: 'replayed',
      result: 'status 201',
    });
  });

  it('keeps scopes apart: the same key in two tenants runs twice', async () => {
    const { idempotency } = setup();
    const a = await idempotency.run({ ...request, scope: 'tenant-a' }, async () => 'a');
    const b = await idempotency.run(
      { ...request, scope: 'tenant-b', fingerprint: 'other' },
      async () => 'b',
    );
    expect([a.outcome, b.outcome]).toEqual(['executed', 'executed']);
    expect(
      await idempotency.run({ key: 'key-1', fingerprint: 'g' }, async () => 'global'),
    ).toMatchObject({
      outcome: 'executed',
    });
  });

  it('forgets a record after its TTL, then runs the operation again', async () => {
    const { idempotency, clock } = setup({ ttlMs: 60_000 });
    await idempotency.run(request, async () => 1);
    await clock.advance(59_999);
    expect(await idempotency.run(request, async () => 2)).toEqual({
      outcome: 'replayed',
      result: 1,
    });
    await clock.advance(1);
    expect(await idempotency.run(request, async () => 3)).toMatchObject({
      outcome: 'executed',
      result: 3,
    });
  });
});

describe('createIdempotency: leases and fencing', () => {
  it('lets a retry take over a crashed holder’s key after the lease, not before', async () => {
    const { idempotency, clock, names, logger } = setup();
    // A holder that claimed and then "crashed": it never completes nor releases.
    const crashed = await idempotency.begin(request);
    expect(crashed.outcome).toBe('claimed');
    await clock.advance(29_999);
    expect(await caught(idempotency.run(request, async () => 'x'))).toMatchObject({
      code: 'IDEMPOTENCY_IN_FLIGHT',
      details: { retryAfterSeconds: 1 },
    });
    await clock.advance(1);
    let sawTakeover = false;
    expect(
      await idempotency.run(request, async ({ takeover }) => {
        sawTakeover = takeover;
        return 'recovered';
      }),
    ).toMatchObject({ outcome: 'executed', recorded: true });
    expect(sawTakeover).toBe(true);
    expect(names()).toEqual(['claim', 'conflict', 'claim', 'takeover', 'record']);
    expect(logger.warn).toHaveBeenCalledWith(
      { scope: 'tenant-a', key: 'key-1' },
      expect.stringContaining('took over'),
    );
  });

  it('fences the old holder: its late completion is ignored and the new result stands', async () => {
    const { idempotency, clock, events, logger } = setup();
    const slow = await idempotency.begin(request);
    if (slow.outcome !== 'claimed') throw new Error('expected a claim');
    await clock.advance(30_000);
    expect(await idempotency.run(request, async () => 'new holder')).toMatchObject({
      recorded: true,
    });
    // The old holder wakes up and tries to record, then to release: both are refused.
    expect(await slow.ticket.complete('stale')).toBe(false);
    expect(await slow.ticket.release()).toBe(false);
    expect(await idempotency.run(request, async () => 'x')).toEqual({
      outcome: 'replayed',
      result: 'new holder',
    });
    expect(events.filter((e) => e.name === 'fenced').map((e) => e.event)).toEqual([
      { scope: 'tenant-a', key: 'key-1', operation: 'complete' },
    ]);
    expect(logger.warn).toHaveBeenCalledWith(
      { scope: 'tenant-a', key: 'key-1' },
      expect.stringContaining('fenced'),
    );
  });

  it('run() reports a fenced completion as executed but not recorded', async () => {
    const { idempotency, clock } = setup();
    const hold = gate();
    const slow = idempotency.run(request, () => hold.promise.then(() => 'late'));
    await clock.advance(30_000);
    await idempotency.run(request, async () => 'winner');
    hold.open();
    expect(await slow).toEqual({ outcome: 'executed', result: 'late', recorded: false });
    expect((await idempotency.run(request, async () => 'x')).result).toBe('winner');
  });

  it('a ticket ends once: a second complete or release changes nothing', async () => {
    const { idempotency } = setup();
    const begun = await idempotency.begin(request);
    if (begun.outcome !== 'claimed') throw new Error('expected a claim');
    expect(await begun.ticket.complete('one')).toBe(true);
    expect(begun.ticket.settled).toBe(true);
    expect(await begun.ticket.complete('two')).toBe(false);
    expect(await begun.ticket.release()).toBe(false);
    expect((await idempotency.run(request, async () => 'x')).result).toBe('one');
  });

  it('hands the result’s JSON text to the store, which replays it; refuses a text that is not a string', async () => {
    const { idempotency, store } = setup();
    const complete = vi.spyOn(store, 'complete');
    const begun = await idempotency.begin(request);
    if (begun.outcome !== 'claimed') throw new Error('expected a claim');
    expect(() => begun.ticket.complete({ id: 1 }, 7 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(begun.ticket.settled).toBe(false);
    expect(await begun.ticket.complete({ id: 1 }, '{"id":1}')).toBe(true);
    expect(complete).toHaveBeenCalledWith(expect.objectContaining({ resultJson: '{"id":1}' }));
    const replay = await idempotency.begin(request);
    expect(replay).toEqual({ outcome: 'replayed', result: { id: 1 } });
  });

  it('heartbeat keeps a long operation’s key, and stops at maxHoldMs', async () => {
    const { idempotency, clock } = setup({ heartbeat: { maxHoldMs: 120_000 } });
    const hold = gate();
    const long = idempotency.run(request, () => hold.promise.then(() => 'long'));
    // Well past one lease: duplicates still see it in flight, with a fresh lease.
    await clock.advance(95_000);
    expect(await caught(idempotency.run(request, async () => 'dup'))).toMatchObject({
      code: 'IDEMPOTENCY_IN_FLIGHT',
    });
    // After maxHoldMs the heartbeat stops and the lease runs out.
    await clock.advance(60_000);
    expect(await idempotency.run(request, async () => 'took over')).toMatchObject({
      outcome: 'executed',
      recorded: true,
    });
    hold.open();
    expect(await long).toMatchObject({ recorded: false });
    expect(clock.pendingTimers).toBe(0);
  });

  it('heartbeat aborts the operation signal when the lease was lost', async () => {
    const store = new MemoryIdempotencyStore();
    const { idempotency, clock, names } = setup({ store, heartbeat: true });
    const begun = await idempotency.begin(request);
    if (begun.outcome !== 'claimed') throw new Error('expected a claim');
    // Simulate a takeover behind the holder's back (another process with a skewed clock).
    const stolen = await store.claim({
      ...request,
      ownerToken: 'thief',
      now: clock.now() + 60_000,
      leaseExpiresAt: clock.now() + 90_000,
      expiresAt: clock.now() + 3_600_000,
    });
    expect(stolen).toEqual({ kind: 'claimed', takeover: true });
    await clock.advance(10_000);
    expect(begun.ticket.signal.aborted).toBe(true);
    expect(begun.ticket.signal.reason).toMatchObject({ code: 'ABORTED' });
    expect(names()).toContain('fenced');
    expect(clock.pendingTimers).toBe(0);
  });

  it('stops the heartbeat when the ticket ends', async () => {
    const { idempotency, clock } = setup({ heartbeat: { intervalMs: 1_000 } });
    await idempotency.run(request, async () => 'quick');
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('createIdempotency: wait mode', () => {
  it('holds a duplicate until the first finishes, then replays', async () => {
    const { idempotency, clock } = setup({ wait: { timeoutMs: 5_000, pollMs: 100 } });
    const hold = gate();
    const first = idempotency.run(request, () => hold.promise.then(() => 'first'));
    const duplicateOperation = vi.fn(async () => 'duplicate');
    const duplicate = idempotency.run(request, duplicateOperation);
    await clock.advance(1_000);
    hold.open();
    await clock.advance(100);
    expect(await duplicate).toEqual({ outcome: 'replayed', result: 'first' });
    expect(await first).toMatchObject({ outcome: 'executed' });
    expect(duplicateOperation).not.toHaveBeenCalled();
  });

  it('answers in flight at the deadline, never hanging', async () => {
    const { idempotency, clock, events } = setup({ wait: { timeoutMs: 2_000, pollMs: 300 } });
    const hold = gate();
    const first = idempotency.run(request, () => hold.promise);
    const duplicate = caught(idempotency.run(request, async () => 'x'));
    await clock.advance(2_000);
    expect(await duplicate).toMatchObject({
      code: 'IDEMPOTENCY_IN_FLIGHT',
      details: { retryAfterSeconds: 28 },
    });
    expect(events.find((e) => e.name === 'conflict')?.event).toMatchObject({ waitedMs: 2_000 });
    hold.open();
    await first;
  });

  it('runs the operation when the first holder released while the duplicate waited', async () => {
    const { idempotency, clock } = setup();
    const hold = gate();
    const first = caught(idempotency.run(request, () => hold.promise));
    const duplicate = idempotency.run(request, async () => 'second', {
      wait: { timeoutMs: 1_000 },
    });
    hold.fail(new Error('boom'));
    await clock.advance(100);
    expect(await duplicate).toMatchObject({ outcome: 'executed', result: 'second' });
    expect(await first).toMatchObject({ message: 'boom' });
  });

  it('stops waiting with ABORTED when the caller’s signal aborts', async () => {
    const { idempotency } = setup({ wait: { timeoutMs: 60_000 } });
    const hold = gate();
    const first = idempotency.run(request, () => hold.promise);
    const controller = new AbortController();
    const duplicate = caught(
      idempotency.run(request, async () => 'x', { signal: controller.signal }),
    );
    await new Promise((resolve) => setTimeout(resolve, 0));
    controller.abort(new Error('client left'));
    expect(await duplicate).toMatchObject({ code: 'ABORTED' });
    hold.open();
    await first;
  });
});

/** The memory store answering a millisecond later, through promises, as a networked store does. */
const asyncStore = (): IdempotencyStore =>
  injectFaults(new MemoryIdempotencyStore(), { latency: () => 1 });

describe('createIdempotency: answering in the same tick', () => {
  it('begin() is always a promise, even over a store that answers synchronously', async () => {
    const { idempotency } = setup();
    const begun = idempotency.begin(request);
    expect(begun).toBeInstanceOf(Promise);
    expect((await begun).outcome).toBe('claimed');
    const invalid = idempotency.begin({ ...request, key: '' });
    expect(invalid).toBeInstanceOf(Promise);
    expect(await caught(invalid)).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID' });
  });

  it('decides and records synchronously over the memory store: claim, record, replay, refuse', () => {
    const { idempotency, names } = setup();
    const begun = idempotency[beginInSameTick](request);
    if (isPromiseLike(begun) || begun.outcome !== 'claimed') throw new Error('not claimed now');
    expect(() => idempotency[beginInSameTick](request)).toThrow(
      expect.objectContaining({ code: 'IDEMPOTENCY_IN_FLIGHT' }),
    );
    expect(begun.ticket.complete({ saleId: 7 })).toBe(true);
    expect(begun.ticket.complete({ saleId: 8 })).toBe(false);
    expect(idempotency[beginInSameTick](request)).toEqual({
      outcome: 'replayed',
      result: { saleId: 7 },
    });
    expect(() => idempotency[beginInSameTick]({ ...request, fingerprint: 'fp-2' })).toThrow(
      expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' }),
    );
    expect(names()).toEqual(['claim', 'conflict', 'record', 'replay', 'mismatch']);
  });

  it('answers the same through promises over a store that does I/O', async () => {
    const { idempotency, names } = setup({ store: asyncStore() });
    const begun = idempotency[beginInSameTick](request);
    expect(begun).toBeInstanceOf(Promise);
    const claimed = await begun;
    if (claimed.outcome !== 'claimed') throw new Error('not claimed');
    expect(await caught(Promise.resolve(idempotency[beginInSameTick](request)))).toMatchObject({
      code: 'IDEMPOTENCY_IN_FLIGHT',
    });
    const recorded = claimed.ticket.complete({ saleId: 7 });
    expect(recorded).toBeInstanceOf(Promise);
    expect(await recorded).toBe(true);
    expect(await idempotency[beginInSameTick](request)).toEqual({
      outcome: 'replayed',
      result: { saleId: 7 },
    });
    expect(names()).toEqual(['claim', 'conflict', 'record', 'replay']);
  });
});

describe.each(['rejects', 'throws'] as const)('createIdempotency: a store that %s', (failure) => {
  function failingStore(failing: keyof IdempotencyStore): IdempotencyStore {
    const store = new MemoryIdempotencyStore();
    const fail =
      failure === 'rejects'
        ? async () => Promise.reject(new Error('connection reset'))
        : () => {
            throw new Error('connection reset');
          };
    return new Proxy(store, {
      get(target, property, receiver) {
        if (property === failing) return fail;
        const value = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  it('refuses with IDEMPOTENCY_STORE_UNAVAILABLE (503) when the claim fails, without running', async () => {
    const { idempotency, logger } = setup({ store: failingStore('claim') });
    const operation = vi.fn(async () => 'x');
    expect(await caught(idempotency.run(request, operation))).toMatchObject({
      code: 'IDEMPOTENCY_STORE_UNAVAILABLE',
      status: 503,
      retryable: true,
    });
    expect(operation).not.toHaveBeenCalled();
    expect(logger.error).toHaveBeenCalled();
  });

  it('still returns the result when recording fails (the effect happened), not recorded', async () => {
    const { idempotency, logger, clock, events } = setup({ store: failingStore('complete') });
    const running = idempotency.run(request, async () => 'done');
    // A rejected record is retried while the lease lasts; a thrown one is not.
    await clock.runAll();
    expect(await running).toEqual({
      outcome: 'executed',
      result: 'done',
      recorded: false,
    });
    expect(logger.error).toHaveBeenCalledWith(
      expect.objectContaining({ key: 'key-1' }),
      expect.stringContaining('recording the result failed'),
    );
    expect(events.find((e) => e.name === 'unrecorded')?.event).toMatchObject({
      scope: 'tenant-a',
      key: 'key-1',
      code: 'IDEMPOTENCY_STORE_UNAVAILABLE',
      attempts: failure === 'throws' ? 1 : expect.any(Number),
    });
  });

  it('keeps the operation’s own error when releasing fails', async () => {
    const { idempotency, events } = setup({ store: failingStore('release') });
    const failure = new Error('business rule');
    expect(await caught(idempotency.run(request, async () => Promise.reject(failure)))).toBe(
      failure,
    );
    expect(events.find((e) => e.name === 'release')?.event).toMatchObject({ released: false });
  });
});

describe('createIdempotency: events and validation', () => {
  it('ignores an event handler that throws, and logs it', async () => {
    const { idempotency, logger } = setup({
      on: {
        claim: () => {
          throw new Error('metrics down');
        },
      },
    });
    expect(await idempotency.run(request, async () => 'ok')).toMatchObject({ recorded: true });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ event: 'claim' }),
      expect.stringContaining('event handler threw'),
    );
  });

  it.each([
    ['', 'empty'],
    ['x'.repeat(256), 'too-long'],
    ['tab\there', 'not-printable'],
    ['ünïcode', 'not-printable'],
  ])('refuses the key %j with IDEMPOTENCY_KEY_INVALID (%s)', async (key, reason) => {
    const { idempotency } = setup();
    expect(await caught(idempotency.run({ ...request, key }, async () => 'x'))).toMatchObject({
      code: 'IDEMPOTENCY_KEY_INVALID',
      status: 400,
      details: { reason },
    });
  });

  it('accepts a 255-character printable key', async () => {
    const { idempotency } = setup();
    const key = `${' !~'}${'k'.repeat(252)}`;
    expect(await idempotency.run({ ...request, key }, async () => 'x')).toMatchObject({
      outcome: 'executed',
    });
  });

  it.each([
    [{ leaseMs: 0 }, 'leaseMs'],
    [{ ttlMs: 1_000, leaseMs: 1_000 }, 'ttlMs'],
    [{ heartbeat: true, leaseMs: 60_000, ttlMs: 300_000 }, 'heartbeat.maxHoldMs'],
    [{ wait: { timeoutMs: -1 } }, 'wait'],
    [{ store: {} }, 'store'],
  ])('refuses bad options %j naming %s', (options, field) => {
    expect(() =>
      createIdempotency({ store: new MemoryIdempotencyStore(), ...options } as IdempotencyOptions),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        details: expect.objectContaining({ field: expect.stringContaining(field) }),
      }),
    );
  });

  it("refuses a bad scope as the client's error (400), the answer the middleware gives", async () => {
    // The scope usually comes from the request (a tenant header): empty, too long or holding
    // a NUL, it is the client's input, not a misconfiguration answered 500.
    const { idempotency } = setup();
    const cases = [
      ['', 'empty'],
      ['t'.repeat(256), 'too-long'],
      ['a\u0000b', 'invalid-characters'],
      ['a\uD800', 'invalid-characters'],
      ['\uDC00b', 'invalid-characters'],
    ] as const;
    for (const [scope, reason] of cases) {
      for (const call of [
        () => idempotency.begin({ ...request, scope }),
        () => idempotency.run({ ...request, scope }, async () => 'ran'),
      ]) {
        const failure = await caught(call());
        expect(failure).toMatchObject({
          code: 'VALIDATION_FAILED',
          status: 400,
          details: { field: 'scope', reason, maxLength: 255 },
        });
      }
    }
    expect((await idempotency.begin({ ...request, scope: 't'.repeat(255) })).outcome).toBe(
      'claimed',
    );
  });

  it('refuses a scope that is not a string, or a bad fingerprint, as a programming error', async () => {
    // Postgres refuses NUL in text (a 503 for the request and its batch mates) and every
    // UTF-8 store turns an unpaired surrogate into U+FFFD, so two such values would share keys.
    const { idempotency } = setup();
    expect(
      await caught(idempotency.begin({ ...request, scope: 42 as unknown as string })),
    ).toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'scope' } });
    for (const hostile of ['', 'a\u0000b', 'a\uD800', '\uDC00b']) {
      expect(await caught(idempotency.begin({ ...request, fingerprint: hostile }))).toMatchObject({
        code: 'INVALID_OPTIONS',
        details: { field: 'fingerprint' },
      });
    }
    const emoji = await idempotency.begin({ ...request, scope: 'tenant-\u{1F600}-ü' });
    expect(emoji.outcome).toBe('claimed');
  });

  it('exposes its lease and TTL', () => {
    const idempotency = createIdempotency({ store: new MemoryIdempotencyStore() });
    expect([idempotency.leaseMs, idempotency.ttlMs]).toEqual([30_000, 86_400_000]);
  });
});

/** The memory store behind a switch: while `down`, every call hangs (as a driver's offline queue does) or rejects. */
function switchableStore(mode: 'hang' | 'reject') {
  const store = new MemoryIdempotencyStore();
  const state = { down: false, calls: 0 };
  const proxy = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        state.calls++;
        if (!state.down) return Promise.resolve(value.apply(target, args));
        if (mode === 'hang') return new Promise(() => {});
        return Promise.reject(
          Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        );
      };
    },
  }) as IdempotencyStore;
  return { store: proxy, state };
}

describe('createIdempotency: a store that is down, slow or not migrated', () => {
  it('answers 503 with Retry-After within storeTimeoutMs when the store hangs', async () => {
    const { store, state } = switchableStore('hang');
    const { idempotency, clock } = setup({ store, storeTimeoutMs: 2_000 });
    state.down = true;
    const begun = caught(idempotency.begin(request));
    await clock.advance(1_999);
    let settled = false;
    void begun.then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    await clock.advance(1);
    expect(await begun).toMatchObject({
      code: 'IDEMPOTENCY_STORE_UNAVAILABLE',
      status: 503,
      details: { retryAfterSeconds: 2 },
    });
  });

  it('gives back a claim that lands after its timeout, so the 503 leaves no key in flight', async () => {
    // A claim stuck behind a lock (or a slow batch) still commits once the database gets to it;
    // nobody holds that claim, so without a release the retry would get 409 for a whole lease.
    const memory = new MemoryIdempotencyStore();
    const slow = gate();
    const store: IdempotencyStore = {
      claim: async (claim) => {
        await slow.promise;
        return memory.claim(claim);
      },
      complete: (completion) => memory.complete(completion),
      release: (release) => memory.release(release),
      extendLease: (extension) => memory.extendLease(extension),
      deleteExpired: (now) => memory.deleteExpired(now),
    };
    const { idempotency, clock } = setup({ store, storeTimeoutMs: 2_000 });
    const first = caught(idempotency.begin(request));
    await clock.advance(2_000);
    expect(await first).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE', status: 503 });
    slow.open();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((await idempotency.begin(request)).outcome).toBe('claimed');
  });

  it('adds Retry-After to a store failure, and never exposes the driver error to clients', async () => {
    const { store, state } = switchableStore('reject');
    const { idempotency } = setup({ store });
    state.down = true;
    const error = await caught(idempotency.begin(request));
    expect(error).toMatchObject({
      code: 'IDEMPOTENCY_STORE_UNAVAILABLE',
      details: { retryAfterSeconds: 2 },
    });
    expect(JSON.stringify(toProblem(error))).not.toContain('ECONNREFUSED');
  });

  it("onStoreUnavailable: 'proceed' runs the operation unguarded, emits unguarded and logs", async () => {
    const { store, state } = switchableStore('reject');
    const { idempotency, events, logger } = setup({ store, onStoreUnavailable: 'proceed' });
    state.down = true;
    const operation = vi.fn(async () => 'ran');
    expect(await idempotency.run(request, operation)).toEqual({
      outcome: 'executed',
      result: 'ran',
      recorded: false,
    });
    expect(operation).toHaveBeenCalledTimes(1);
    expect(events.map((e) => e.name)).toEqual(['unguarded']);
    expect(events[0]?.event).toEqual({
      scope: 'tenant-a',
      key: 'key-1',
      code: 'IDEMPOTENCY_STORE_UNAVAILABLE',
    });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ key: 'key-1' }),
      expect.stringContaining('unguarded'),
    );
    // Nothing was claimed or recorded while down: once the store is back the key is free.
    state.down = false;
    expect((await idempotency.begin(request)).outcome).toBe('claimed');
  });

  it('rejects by default when the store is down: the operation never runs', async () => {
    const { store, state } = switchableStore('reject');
    const { idempotency } = setup({ store });
    state.down = true;
    const operation = vi.fn(async () => 'ran');
    await caught(idempotency.run(request, operation));
    expect(operation).not.toHaveBeenCalled();
  });

  it('retries a failed record while it holds the lease, so a short outage does not run twice', async () => {
    const { store, state } = switchableStore('reject');
    const { idempotency, clock, names } = setup({ store });
    const running = idempotency.run(request, async () => {
      state.down = true;
      return 'effect';
    });
    await clock.advance(5_000);
    state.down = false;
    await clock.advance(2_000);
    expect(await running).toEqual({ outcome: 'executed', result: 'effect', recorded: true });
    expect(names()).toEqual(['claim', 'record']);
    // The retry after the outage replays instead of running the effect again.
    expect(await idempotency.run(request, async () => 'second')).toEqual({
      outcome: 'replayed',
      result: 'effect',
    });
  });

  it('extends the lease while retrying a record, so no duplicate takes the key over meanwhile', async () => {
    const calls: string[] = [];
    const memory = new MemoryIdempotencyStore();
    let completeFailures = 3;
    const store: IdempotencyStore = {
      claim: async (r) => memory.claim(r),
      release: async (r) => memory.release(r),
      deleteExpired: async (now) => memory.deleteExpired(now),
      extendLease: async (r) => {
        calls.push('extend');
        return memory.extendLease(r);
      },
      complete: async (r) => {
        calls.push('complete');
        if (completeFailures-- > 0) throw new Error('timeout on commit');
        return memory.complete(r);
      },
    };
    const { idempotency, clock } = setup({ store, leaseMs: 1_000, storeTimeoutMs: 100 });
    const running = idempotency.run(request, async () => {
      await clock.sleep(600);
      return 'effect';
    });
    await clock.advance(600);
    await clock.advance(2_000);
    expect(await running).toMatchObject({ recorded: true });
    expect(calls).toContain('extend');
  });

  it('gives up recording when its lease would end, emits unrecorded, and a later retry runs again', async () => {
    const { store, state } = switchableStore('reject');
    const { idempotency, clock, events } = setup({ store, leaseMs: 10_000 });
    const running = idempotency.run(request, async () => {
      state.down = true;
      return 'effect';
    });
    await clock.advance(30_000);
    expect(await running).toMatchObject({ outcome: 'executed', recorded: false });
    const unrecorded = events.filter((e) => e.name === 'unrecorded');
    expect(unrecorded).toHaveLength(1);
    expect(unrecorded[0]?.event).toMatchObject({ attempts: expect.any(Number) });
    expect(
      (unrecorded[0]?.event as { attempts: number } | undefined)?.attempts ?? 0,
    ).toBeGreaterThan(3);
  });

  it('treats a record whose first attempt landed but whose answer was lost as recorded', async () => {
    const memory = new MemoryIdempotencyStore();
    let lost = true;
    const store: IdempotencyStore = {
      claim: async (r) => memory.claim(r),
      release: async (r) => memory.release(r),
      deleteExpired: async (now) => memory.deleteExpired(now),
      extendLease: async (r) => memory.extendLease(r),
      complete: async (r) => {
        const done = memory.complete(r);
        if (lost) {
          lost = false;
          throw new Error('connection reset after commit');
        }
        return done;
      },
    };
    const { idempotency, clock, names } = setup({ store });
    const running = idempotency.run(request, async () => 'effect');
    await clock.advance(1_000);
    expect(await running).toMatchObject({ recorded: true });
    expect(names()).not.toContain('fenced');
  });

  it('never retries nor proceeds on a store that is not migrated, and reports it on the console without a logger', async () => {
    const { BallastError } = await import('../errors/ballast-error.js');
    const notMigrated = new BallastError('IDEMPOTENCY_STORE_NOT_MIGRATED', {
      message: 'relation "ballast_idempotency_keys" does not exist',
    });
    const memory = new MemoryIdempotencyStore();
    const store: IdempotencyStore = {
      claim: async () => Promise.reject(notMigrated),
      complete: async (r) => memory.complete(r),
      release: async (r) => memory.release(r),
      extendLease: async (r) => memory.extendLease(r),
      deleteExpired: async () => 0,
      check: async () => Promise.reject(notMigrated),
    };
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const clock = new ManualClock(0);
      const idempotency = createIdempotency({ store, clock, onStoreUnavailable: 'proceed' });
      const operation = vi.fn(async () => 'x');
      expect(await caught(idempotency.run(request, operation))).toMatchObject({
        code: 'IDEMPOTENCY_STORE_NOT_MIGRATED',
        status: 500,
        retryable: false,
      });
      expect(operation).not.toHaveBeenCalled();
      expect(await caught(idempotency.check())).toMatchObject({
        code: 'IDEMPOTENCY_STORE_NOT_MIGRATED',
      });
      // Reported once a minute, not per request.
      expect(consoleError).toHaveBeenCalledTimes(1);
      expect(String(consoleError.mock.calls[0]?.[0])).toContain('not migrated');
      clock.setNow(61_000);
      await caught(idempotency.run(request, operation));
      expect(consoleError).toHaveBeenCalledTimes(2);
    } finally {
      consoleError.mockRestore();
    }
  });

  it('check() resolves for a ready store and answers 503 within storeTimeoutMs for a hung one', async () => {
    const { idempotency } = setup();
    await expect(idempotency.check()).resolves.toBeUndefined();
    const { store, state } = switchableStore('hang');
    const hung = setup({
      store: { ...boundMethods(store), check: () => new Promise<void>(() => {}) },
      storeTimeoutMs: 50,
    });
    state.down = true;
    const checked = caught(hung.idempotency.check());
    await hung.clock.advance(50);
    expect(await checked).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE' });
  });
});

function boundMethods(store: IdempotencyStore): IdempotencyStore {
  return {
    claim: (r) => store.claim(r),
    complete: (r) => store.complete(r),
    release: (r) => store.release(r),
    extendLease: (r) => store.extendLease(r),
    deleteExpired: (now) => store.deleteExpired(now),
  };
}
