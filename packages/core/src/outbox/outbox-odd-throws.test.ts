/**
 * Handlers and engines that throw what has no string form (`Object.create(null)`, an object
 * whose `toString` throws, a revoked proxy whose every read throws): the in-process publisher and the relay describe every failure for
 * operators, and that description must never throw itself. In the publisher it ran in a
 * fire-and-forget job: the event vanished and the rejection went unhandled (a crash on Node).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../clock/manual-clock.js';
import { createEventCatalog } from '../events/event-catalog.js';
import { defineEvent } from '../events/event-definition.js';
import { createEventProcessor, handleEvent } from '../events/event-processor.js';
import { createFunctionPublisher } from './function-publisher.js';
import { createInProcessPublisher } from './in-process-publisher.js';
import { MemoryInboxStore } from './memory-inbox-store.js';
import { MemoryOutbox } from './memory-outbox.js';
import { createRelay } from './relay.js';

const Job = defineEvent('job.queued', 1, z.object({ n: z.number() }));

// What each looks like in a dead letter's errors.
const oddThrows: [string, () => unknown, string][] = [
  ['a null-prototype object', () => Object.create(null), '[object Object]'],
  [
    'an object whose toString throws',
    () => ({
      toString() {
        throw new Error('no');
      },
    }),
    '[object Object]',
  ],
  [
    'a revoked proxy (every read throws)',
    () => {
      const revoked = Proxy.revocable({}, {});
      revoked.revoke();
      return revoked.proxy;
    },
    '[unreadable value]',
  ],
];

describe('odd values thrown through the outbox', () => {
  for (const [label, thrown, described] of oddThrows) {
    it(`the in-process publisher dead-letters an event whose handler throws ${label}`, async () => {
      const processor = createEventProcessor({
        consumer: 'jobs',
        catalog: createEventCatalog({ events: [Job] }),
        inbox: new MemoryInboxStore(),
        handlers: [
          handleEvent(Job, () => {
            throw thrown();
          }),
        ],
      });
      const publisher = createInProcessPublisher({ processor, attempts: 2, backoffMs: [0] });
      await publisher.publish([Job.create({ n: 1 })]);
      await publisher.idle();
      expect(publisher.deadLetters()).toMatchObject([
        {
          reason: 'attempts-exhausted',
          attempts: 2,
          errors: [described, described],
        },
      ]);
    });

    it(`the relay releases a batch whose publish throws ${label}: a failed step, not a crash`, async () => {
      const outbox = new MemoryOutbox();
      await outbox.transaction((trx) => outbox.publish(trx, Job.create({ n: 1 })));
      const relay = createRelay({
        store: outbox,
        publisher: createFunctionPublisher(async () => {
          throw thrown();
        }),
        clock: new ManualClock(1_000_000),
      });
      // Publisher errors are a `failed` result; only the store's reject.
      await expect(relay.runOnce()).resolves.toMatchObject({ kind: 'failed' });
      expect(await outbox.depth()).toBe(1);
    });
  }
});
