import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../clock/manual-clock.js';
import { BallastError } from '../errors/ballast-error.js';
import { defineEvent } from '../events/event-definition.js';
import type { EventEnvelope } from '../events/event-envelope.js';
import { createFunctionPublisher } from './function-publisher.js';
import { MemoryOutbox } from './memory-outbox.js';
import type { OutboxStore } from './outbox-store.js';
import { createRelay } from './relay.js';
import type { RelayDeadLetterEvent, RelayOptions } from './relay-options.js';

const Tick = defineEvent('tick', 1, z.object({ n: z.number() }));

/**
 * A memory outbox and an engine that refuses every batch holding a poison event (as a real one
 * refuses a payload it cannot take) and every call while `down`.
 */
function world(overrides: Partial<RelayOptions> = {}) {
  const clock = new ManualClock(1_000_000);
  const outbox = new MemoryOutbox();
  const delivered: EventEnvelope[] = [];
  const control = {
    down: false,
    calls: 0,
    poison: new Set<number>(),
    fatal: false,
    hang: false,
  };
  const publisher = createFunctionPublisher(async (events, { signal }) => {
    control.calls += 1;
    if (control.hang) {
      await new Promise((_, reject) =>
        signal?.addEventListener('abort', () => reject(signal.reason)),
      );
    }
    if (control.down) throw new Error('connect ECONNREFUSED');
    const bad = events.find((event) => control.poison.has((event.payload as { n: number }).n));
    if (bad !== undefined) {
      if (control.fatal) {
        throw new BallastError('INVALID_OPTIONS', {
          message: 'payload too large',
          retryable: false,
        });
      }
      throw new Error('engine refused the batch: payload too large');
    }
    delivered.push(...events);
  });
  const deadLetters: RelayDeadLetterEvent[] = [];
  const failed: number[] = [];
  const relay = createRelay({
    store: outbox,
    publisher,
    clock,
    random: () => 0.5,
    backoff: { initialDelayMs: 100, maxDelayMs: 1_000, jitter: 'none' },
    on: {
      deadLetter: (event) => deadLetters.push(event),
      publishFailed: (event) => failed.push(event.count),
    },
    ...overrides,
  });
  const publish = (ns: readonly number[], key?: (n: number) => string | undefined) =>
    outbox.transaction((trx) =>
      outbox.publishMany(
        trx,
        ns.map((n) => {
          const k = key?.(n);
          return k === undefined ? Tick.create({ n }) : Tick.create({ n }, { key: k });
        }),
      ),
    );
  return { clock, outbox, relay, publish, delivered, control, deadLetters, failed };
}

const ns = (events: readonly EventEnvelope[]) =>
  events.map((event) => (event.payload as { n: number }).n);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('createRelay with a poison event', () => {
  it('delivers the 99 others at once, parks the poison after maxAttempts, redrives it once', async () => {
    const { clock, outbox, relay, publish, delivered, control, deadLetters, failed } = world({
      maxAttempts: 4,
    });
    control.poison.add(42);
    await publish(range(0, 100));
    relay.start();
    await clock.advance(0);
    // Promptly: the first claim already delivered every good event, and nothing hit the breaker.
    expect(ns(delivered).sort((a, b) => a - b)).toEqual(range(0, 100).filter((n) => n !== 42));
    expect(failed).toEqual([]);
    expect(relay.circuit).toBe('closed');
    // Bisection, not one call per event.
    expect(control.calls).toBeLessThan(25);
    expect(await outbox.depth()).toBe(1);

    await clock.advance(10_000);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({ attempts: 4, reason: 'max-attempts' });
    expect(relay.deadLettered).toBe(1);
    expect(relay.circuit).toBe('closed');
    const dead = await outbox.deadLetters();
    expect(dead.map((row) => ns([row.event]))).toEqual([[42]]);
    expect(dead[0]?.attempts).toBe(4);
    expect(dead[0]?.lastError).toContain('payload too large');
    // Parked: not counted in the depth, never claimed again.
    expect(await outbox.depth()).toBe(0);
    const calls = control.calls;
    await clock.advance(60_000);
    expect(control.calls).toBe(calls);

    // A fix, then a redrive: delivered exactly once.
    control.poison.clear();
    expect(await outbox.redrive({ type: 'tick.v1' })).toBe(1);
    await clock.advance(0);
    expect(ns(delivered).filter((n) => n === 42)).toEqual([42]);
    expect(await outbox.deadLetters()).toEqual([]);
    expect(await outbox.redrive()).toBe(0);
    await relay.stop();
  });

  it('parks an event refused as non-retryable at once', async () => {
    const { clock, outbox, relay, publish, delivered, control, deadLetters } = world();
    control.poison.add(3);
    control.fatal = true;
    await publish(range(0, 10));
    relay.start();
    await clock.advance(0);
    expect(ns(delivered)).toHaveLength(9);
    expect(deadLetters).toMatchObject([{ attempts: 1, reason: 'non-retryable' }]);
    expect((await outbox.deadLetters())[0]?.lastError).toContain('INVALID_OPTIONS');
    await relay.stop();
  });

  it('blocks the poison event’s key until the redrive, and keeps its order', async () => {
    const { clock, outbox, relay, publish, delivered, control, deadLetters } = world({
      maxAttempts: 2,
    });
    control.poison.add(2);
    // Key 'a' holds 0, 2, 4, 6, 8; key 'b' the odd numbers.
    await publish(range(0, 10), (n) => (n % 2 === 0 ? 'a' : 'b'));
    relay.start();
    await clock.advance(5_000);
    expect(deadLetters).toMatchObject([{ blockedKey: 'a' }]);
    // 'b' flowed; 'a' stopped at its poison event, nothing overtook it.
    expect(ns(delivered)).toEqual([0, 1, 3, 5, 7, 9]);
    expect(await outbox.depth()).toBe(3);
    await publish([10], () => 'a');
    await clock.advance(5_000);
    expect(ns(delivered)).not.toContain(10);

    control.poison.clear();
    await outbox.redrive({ ids: [(await outbox.deadLetters())[0]?.event.id ?? ''] });
    await clock.advance(1_000);
    expect(ns(delivered).filter((n) => n % 2 === 0)).toEqual([0, 2, 4, 6, 8, 10]);
    await relay.stop();
  });

  it('charges nobody while the engine is down, and still opens the breaker', async () => {
    const { clock, outbox, relay, publish, control, deadLetters, failed } = world({
      maxAttempts: 2,
      breaker: { consecutiveFailures: 3, halfOpenAfterMs: 5_000 },
    });
    control.down = true;
    await publish(range(0, 20));
    relay.start();
    await clock.advance(60_000);
    expect(relay.circuit).toBe('open');
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(deadLetters).toEqual([]);
    expect(outbox.entries().every((row) => row.attempts === 0 && !row.dead)).toBe(true);
    control.down = false;
    await clock.advance(10_000);
    expect(await outbox.depth()).toBe(0);
    await relay.stop();
  });

  it('does not take two poison events at the head of the outbox for an outage', async () => {
    const { clock, outbox, relay, publish, delivered, control, failed } = world();
    control.poison.add(0);
    control.poison.add(1);
    await publish(range(0, 10));
    relay.start();
    await clock.advance(0);
    // The second probe is a random row (5 here), not the next one, so the engine is seen up.
    expect(ns(delivered).sort((a, b) => a - b)).toEqual(range(2, 10));
    expect(failed).toEqual([]);
    expect(outbox.entries().filter((row) => row.attempts === 1)).toHaveLength(2);
    await relay.stop();
  });

  it('does not narrow down a batch the engine times out on: that is the engine', async () => {
    const { clock, outbox, relay, publish, control, failed } = world({
      leaseMs: 3_000,
      publishTimeoutMs: 1_000,
    });
    control.hang = true;
    await publish(range(0, 10));
    relay.start();
    await clock.advance(1_000);
    expect(control.calls).toBe(1);
    expect(failed).toEqual([10]);
    expect(outbox.entries().every((row) => row.attempts === 0)).toBe(true);
    control.hang = false;
    await clock.advance(5_000);
    expect(await outbox.depth()).toBe(0);
    await relay.stop();
  });

  it('keeps retrying past maxAttempts on a store that cannot park', async () => {
    const memory = new MemoryOutbox();
    const store: OutboxStore = {
      claim: (request) => memory.claim(request),
      markSent: (request) => memory.markSent(request),
      release: (request) => memory.release(request),
      depth: () => memory.depth(),
      deleteSent: (request) => memory.deleteSent(request),
    };
    const { clock, relay, control, deadLetters } = world({ store, maxAttempts: 2 });
    control.poison.add(1);
    await memory.transaction((trx) =>
      memory.publishMany(trx, [Tick.create({ n: 0 }), Tick.create({ n: 1 })]),
    );
    relay.start();
    await clock.advance(5_000);
    expect(deadLetters).toEqual([]);
    expect(memory.entries().find((row) => !row.sent)?.attempts).toBeGreaterThan(2);
    await relay.stop();
  });
});
