import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../clock/manual-clock.js';
import { defineEvent } from '../events/event-definition.js';
import type { EventEnvelope } from '../events/event-envelope.js';
import { createFunctionPublisher } from './function-publisher.js';
import { MemoryOutbox } from './memory-outbox.js';
import type { OutboxStore } from './outbox-store.js';
import { createRelay } from './relay.js';

const Tick = defineEvent('tick', 1, z.object({ n: z.number() }));

/**
 * A store whose writers signal a commit only while the relay said it sleeps (as the Postgres
 * outbox does), logging what the relay asks of it.
 */
function watchedWorld(options: { sure?: boolean; batchSize?: number } = {}) {
  const clock = new ManualClock(1_000_000);
  const outbox = new MemoryOutbox();
  const log: string[] = [];
  const control = { sure: options.sure ?? true };
  let asleep = false;
  let signal: (() => void) | undefined;
  const store: OutboxStore = {
    claim: async (request) => {
      const entries = await outbox.claim(request);
      log.push(`claim:${entries.length}`);
      return entries;
    },
    markSent: (request) => outbox.markSent(request),
    release: (request) => outbox.release(request),
    depth: () => outbox.depth(),
    deleteSent: (request) => outbox.deleteSent(request),
    watchCommits: (listener) => {
      signal = listener;
      return {
        sleeping: async () => {
          log.push('sleeping');
          asleep = control.sure;
          return control.sure;
        },
        awake: () => {
          log.push('awake');
          asleep = false;
        },
        close: () => {
          log.push('close');
          signal = undefined;
        },
      };
    },
  };
  const delivered: EventEnvelope[] = [];
  const relay = createRelay({
    store,
    publisher: createFunctionPublisher(async (events) => {
      delivered.push(...events);
    }),
    clock,
    batchSize: options.batchSize ?? 10,
    pollIntervalMs: 60_000,
  });
  const publish = async (...ns: number[]) => {
    await outbox.transaction((trx) =>
      outbox.publishMany(
        trx,
        ns.map((n) => Tick.create({ n })),
      ),
    );
    if (asleep) signal?.();
  };
  return { clock, relay, publish, delivered, log, control };
}

describe('relay with a store that signals only while it sleeps', () => {
  it('claims again at once after a partial batch, and sleeps only after sleeping() and one more claim', async () => {
    const { clock, relay, publish, delivered, log } = watchedWorld();
    await publish(1, 2, 3);
    relay.start();
    await clock.advance(0);
    expect(delivered).toHaveLength(3);
    expect(log).toEqual(['claim:3', 'claim:0', 'sleeping', 'claim:0']);
    // Asleep: nothing until the slow poll.
    await clock.advance(59_000);
    expect(log).toHaveLength(4);
    await relay.stop();
    expect(log.at(-1)).toBe('close');
  });

  it('a commit while it sleeps wakes it; batches of one keep it asleep, a bigger batch makes it awake until a claim finds nothing', async () => {
    const { clock, relay, publish, delivered, log } = watchedWorld();
    relay.start();
    await clock.advance(0);
    await publish(1);
    await clock.advance(0);
    await publish(2);
    await clock.advance(0);
    await publish(3, 4);
    await clock.advance(0);
    expect(delivered.map((event) => event.payload)).toEqual([
      { n: 1 },
      { n: 2 },
      { n: 3 },
      { n: 4 },
    ]);
    expect(log).toEqual([
      'claim:0',
      'sleeping',
      'claim:0',
      // Woken by each commit; sparse, so still asleep (writers keep signalling).
      'claim:1',
      'claim:1',
      // Two events at once: awake, writers stop signalling, until a claim finds nothing.
      'claim:2',
      'awake',
      'claim:0',
      'sleeping',
      'claim:0',
    ]);
    await relay.stop();
  });

  it('claims again within 5 ms (five times) to 100 ms while the store cannot make sure of a wake-up, never in a busy loop', async () => {
    const { clock, relay, publish, delivered, log, control } = watchedWorld({ sure: false });
    relay.start();
    for (let ms = 0; ms < 2_000; ms += 5) await clock.advance(5);
    const claims = log.filter((entry) => entry.startsWith('claim')).length;
    // 5 ms five times, then 10, 20, 40, 80, then every 100 ms: about 27 in 2 s.
    expect(claims).toBeGreaterThanOrEqual(20);
    expect(claims).toBeLessThanOrEqual(34);
    // A commit that signalled nobody goes out at the next of those claims.
    await publish(1);
    await clock.advance(100);
    expect(delivered).toHaveLength(1);
    control.sure = true;
    await relay.stop();
  });
});
