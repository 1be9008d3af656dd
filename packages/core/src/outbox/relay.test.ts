import { relayDefaults } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../clock/manual-clock.js';
import { defineEvent } from '../events/event-definition.js';
import type { EventEnvelope } from '../events/event-envelope.js';
import { createFunctionPublisher } from './function-publisher.js';
import { MemoryOutbox } from './memory-outbox.js';
import type { OutboxStore } from './outbox-store.js';
import { createRelay } from './relay.js';
import type { RelayOptions } from './relay-options.js';

const Tick = defineEvent('tick', 1, z.object({ n: z.number() }));

/** An outbox that counts claims, and a publisher whose health the test switches. */
function world(overrides: Partial<RelayOptions> = {}) {
  const clock = new ManualClock(1_000_000);
  const outbox = new MemoryOutbox();
  let claims = 0;
  const store: OutboxStore = {
    claim: (request) => {
      claims += 1;
      return outbox.claim(request);
    },
    markSent: (request) => outbox.markSent(request),
    release: (request) => outbox.release(request),
    depth: () => outbox.depth(),
    deleteSent: (request) => outbox.deleteSent(request),
    onCommit: (listener) => outbox.onCommit(listener),
  };
  const delivered: EventEnvelope[] = [];
  const control = { down: false, calls: 0, gate: undefined as Promise<void> | undefined };
  const publisher = createFunctionPublisher(async (events) => {
    control.calls += 1;
    await control.gate;
    if (control.down) throw new Error('ECONNREFUSED');
    delivered.push(...events);
  });
  const relay = createRelay({ store, publisher, clock, random: () => 0.5, ...overrides });
  const publish = (...ns: number[]) =>
    outbox.transaction(async (trx) => {
      await outbox.publishMany(
        trx,
        ns.map((n) => Tick.create({ n }, { key: `k${n % 3}` })),
      );
    });
  return { clock, outbox, relay, publish, delivered, control, claims: () => claims };
}

const ns = (events: EventEnvelope[]) => events.map((event) => (event.payload as { n: number }).n);

describe('createRelay', () => {
  it('moves committed events to the publisher in batches and marks them sent', async () => {
    const { clock, outbox, relay, publish, delivered } = world({ batchSize: 4 });
    await publish(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
    await outbox
      .transaction(async (trx) => {
        await outbox.publish(trx, Tick.create({ n: 99 }));
        throw new Error('business write failed');
      })
      .catch(() => undefined);
    relay.start();
    await clock.advance(0);
    expect(ns(delivered)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await outbox.depth()).toBe(0);
    await relay.stop();
    expect(relay.state).toBe('stopped');
  });

  it('sleeps when idle (no hot loop) and wakes at once on a commit', async () => {
    const { clock, relay, publish, delivered, claims } = world({ pollIntervalMs: 1_000 });
    relay.start();
    await clock.advance(10_000);
    expect(claims()).toBeLessThanOrEqual(11);
    const before = claims();
    await publish(1);
    await clock.advance(0);
    expect(ns(delivered)).toEqual([1]);
    expect(claims() - before).toBeLessThanOrEqual(2);
    await relay.stop();
  });

  it('backs off, opens the breaker on a down engine, ignores commits meanwhile, then drains', async () => {
    const failures: number[] = [];
    const { clock, relay, publish, delivered, control, outbox } = world({
      backoff: { initialDelayMs: 500, maxDelayMs: 8_000, jitter: 'none' },
      breaker: { consecutiveFailures: 5, halfOpenAfterMs: 10_000 },
      on: { publishFailed: (event) => failures.push(event.retryInMs) },
    });
    control.down = true;
    await publish(1, 2, 3);
    relay.start();
    // A commit every 100 ms must not cut a back-off short: 3 s hold calls at 0, 0.5 and 1.5 s.
    // (Keyless, so that only the relay's back-off, not a key blocked behind a failed row, holds them.)
    for (let tenth = 0; tenth < 30; tenth++) {
      await outbox.transaction((trx) => outbox.publish(trx, Tick.create({ n: 1000 + tenth })));
      await clock.advance(100);
    }
    // Each failed batch costs 3 calls: the batch, then its first row and one other alone, to
    // tell a down engine from a poison row (relay-isolation.ts).
    expect(control.calls).toBe(3 * 3);
    // 60 s of a down engine with a commit every second.
    for (let second = 0; second < 60; second++) {
      await publish(100 + second);
      await clock.advance(1_000);
    }
    expect(failures.slice(0, 4)).toEqual([500, 1_000, 2_000, 4_000]);
    // 5 failures to open, then one probe per half-open period: nowhere near one call a second.
    expect(control.calls).toBeGreaterThanOrEqual(5 * 3);
    expect(control.calls).toBeLessThanOrEqual((5 + 6) * 3);
    expect(relay.circuit).toBe('open');
    expect(outbox.entries().find((row) => !row.sent)?.lastError).toContain('ECONNREFUSED');
    control.down = false;
    await clock.advance(20_000);
    expect(await outbox.depth()).toBe(0);
    expect(new Set(ns(delivered)).size).toBe(93);
    expect(relay.circuit).toBe('closed');
    await relay.stop();
  });

  it('keeps each key in publication order across failures', async () => {
    const { clock, relay, publish, delivered, control } = world({ batchSize: 2 });
    await publish(0, 1, 2, 3, 4, 5, 6, 7, 8);
    let failures = 0;
    relay.on('published', () => {
      // Fail the hand-off after every second successful batch, twice.
      if (failures < 2 && delivered.length % 4 === 0) {
        failures += 1;
        control.down = true;
      }
    });
    relay.on('publishFailed', () => {
      control.down = false;
    });
    relay.start();
    await clock.advance(60_000);
    expect(failures).toBe(2);
    const byKey = new Map<string, number[]>();
    for (const event of delivered) {
      const list = byKey.get(event.key ?? '') ?? [];
      list.push((event.payload as { n: number }).n);
      byKey.set(event.key ?? '', list);
    }
    expect(Object.fromEntries(byKey)).toEqual({ k0: [0, 3, 6], k1: [1, 4, 7], k2: [2, 5, 8] });
    await relay.stop();
  });

  it('finishes the in-flight batch on stop(), or gives it back when stop’s signal aborts', async () => {
    const first = world();
    let open: () => void = () => {};
    first.control.gate = new Promise((resolve) => {
      open = resolve;
    });
    await first.publish(1, 2);
    first.relay.start();
    await first.clock.advance(0);
    const stopped = first.relay.stop();
    open();
    await stopped;
    expect(ns(first.delivered)).toEqual([1, 2]);
    expect(await first.outbox.depth()).toBe(0);

    const second = world();
    second.control.gate = new Promise(() => {});
    await second.publish(1, 2);
    second.relay.start();
    await second.clock.advance(0);
    const abort = new AbortController();
    const stopping = second.relay.stop({ signal: abort.signal });
    abort.abort(new Error('SIGTERM grace period over'));
    await stopping;
    expect(second.delivered).toEqual([]);
    const rows = await second.outbox.claim({
      owner: 'x',
      limit: 10,
      now: second.clock.now(),
      leaseExpiresAt: second.clock.now() + 1,
    });
    expect(rows).toHaveLength(2);
  });

  it('starts again after a stop when start() comes while stopping; a later stop() wins over it', async () => {
    const { clock, relay, publish, delivered, control } = world();
    let open: () => void = () => {};
    control.gate = new Promise((resolve) => {
      open = resolve;
    });
    await publish(1);
    relay.start();
    await clock.advance(0);
    const stopped = relay.stop();
    relay.start();
    expect(relay.state).toBe('stopping');
    open();
    await stopped;
    expect(relay.state).toBe('running');
    await publish(2);
    await clock.advance(0);
    expect(ns(delivered)).toEqual([1, 2]);

    control.gate = new Promise((resolve) => {
      open = resolve;
    });
    await publish(3);
    await clock.advance(0);
    const first = relay.stop();
    relay.start();
    const second = relay.stop();
    open();
    await Promise.all([first, second]);
    expect(relay.state).toBe('stopped');
    await publish(4);
    await clock.advance(60_000);
    expect(ns(delivered)).toEqual([1, 2, 3]);
  });

  it('claims again the rows of a relay that died once its lease lapses', async () => {
    const { clock, outbox, relay, publish, delivered } = world({ leaseMs: 5_000 });
    await publish(1);
    const dead = await outbox.claim({
      owner: 'dead',
      limit: 10,
      now: clock.now(),
      leaseExpiresAt: clock.now() + 5_000,
    });
    expect(dead).toHaveLength(1);
    relay.start();
    await clock.advance(4_000);
    expect(delivered).toEqual([]);
    await clock.advance(2_000);
    expect(ns(delivered)).toEqual([1]);
    expect(
      await outbox.markSent({ owner: 'dead', ids: [dead[0]?.event.id ?? ''], now: clock.now() }),
    ).toBe(0);
    await relay.stop();
  });

  it('alerts on depth, recovers, and deletes sent rows past retention', async () => {
    const alerts: string[] = [];
    let cleaned = 0;
    const { clock, outbox, relay, publish, control } = world({
      depthAlertThreshold: 3,
      depthCheckIntervalMs: 1_000,
      retentionMs: 60_000,
      cleanupIntervalMs: 10_000,
      on: {
        depthAlert: ({ depth }) => alerts.push(`alert ${depth}`),
        depthRecovered: ({ depth }) => alerts.push(`recovered ${depth}`),
        cleaned: ({ deleted }) => {
          cleaned += deleted;
        },
      },
    });
    control.down = true;
    await publish(1, 2, 3, 4);
    relay.start();
    await clock.advance(1_000);
    expect(alerts).toEqual(['alert 4']);
    expect(relay.lastDepth).toBe(4);
    control.down = false;
    await clock.advance(30_000);
    expect(alerts).toEqual(['alert 4', 'recovered 0']);
    expect(outbox.entries()).toHaveLength(4);
    await clock.advance(60_000);
    expect(cleaned).toBe(4);
    expect(outbox.entries()).toHaveLength(0);
    await relay.stop();
  });

  it('validates its options', () => {
    const { outbox } = world();
    const publisher = createFunctionPublisher(async () => {});
    expect(() => createRelay({ store: outbox, publisher, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => createRelay({ store: outbox, publisher, pollIntervalMs: 1 })).toThrow(
      /pollIntervalMs/,
    );
    expect(() =>
      createRelay({ store: outbox, publisher, leaseMs: 1_000, publishTimeoutMs: 1_000 }),
    ).toThrow(/publishTimeoutMs/);
    expect(() => createRelay({ store: {} as never, publisher })).toThrow(/store/);
  });
});

describe('relayDefaults', () => {
  it('pins the documented defaults', () => {
    expect(relayDefaults).toEqual({
      batchSize: 100,
      leaseMs: 30_000,
      pollIntervalMs: 1_000,
      initialDelayMs: 500,
      maxDelayMs: 30_000,
      factor: 2,
      consecutiveFailures: 5,
      halfOpenAfterMs: 10_000,
      maxAttempts: 10,
      retentionMs: 7 * 86_400_000,
      cleanupIntervalMs: 60_000,
      depthCheckIntervalMs: 10_000,
      depthAlertThreshold: 10_000,
    });
  });

  it('are what a relay given no options claims with and backs off by', async () => {
    const clock = new ManualClock(1_000_000);
    const outbox = new MemoryOutbox();
    const claims: Array<{ limit: number; now: number; leaseExpiresAt: number }> = [];
    const releases: Array<{ now: number; retryAt: number }> = [];
    const store: OutboxStore = {
      claim: (request) => {
        claims.push({
          limit: request.limit,
          now: request.now,
          leaseExpiresAt: request.leaseExpiresAt,
        });
        return outbox.claim(request);
      },
      markSent: (request) => outbox.markSent(request),
      release: (request) => {
        releases.push({ now: request.now, retryAt: request.retryAt });
        return outbox.release(request);
      },
      depth: () => outbox.depth(),
      deleteSent: (request) => outbox.deleteSent(request),
    };
    const publisher = createFunctionPublisher(async () => {
      throw new Error('ECONNREFUSED');
    });
    // No jitter to speak of: random 1 makes 'equal' jitter wait the whole delay.
    const relay = createRelay({ store, publisher, clock, random: () => 0.999_999 });
    await outbox.transaction((trx) => outbox.publish(trx, Tick.create({ n: 1 })));
    await relay.runOnce();
    expect(claims).toEqual([
      {
        limit: relayDefaults.batchSize,
        now: 1_000_000,
        leaseExpiresAt: 1_000_000 + relayDefaults.leaseMs,
      },
    ]);
    // The first failed hand-off waits about initialDelayMs before the event is tried again.
    expect(releases).toHaveLength(1);
    const wait = (releases[0]?.retryAt ?? 0) - (releases[0]?.now ?? 0);
    expect(wait).toBeGreaterThan(relayDefaults.initialDelayMs * 0.99);
    expect(wait).toBeLessThanOrEqual(relayDefaults.initialDelayMs);
  });
});
