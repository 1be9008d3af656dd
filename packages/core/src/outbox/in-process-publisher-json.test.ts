/**
 * The in-process publisher hands each handler a JSON copy of the event, as a real engine would.
 * An event JSON cannot carry (a BigInt a schema accepted, a cycle) failed that copy inside a
 * fire-and-forget delivery: the event vanished, neither delivered nor dead-lettered, and the
 * rejection went unhandled (a crash on Node). It must be refused where it is handed over.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEventCatalog } from '../events/event-catalog.js';
import { defineEvent } from '../events/event-definition.js';
import { createEventProcessor, handleEvent } from '../events/event-processor.js';
import { createInProcessPublisher } from './in-process-publisher.js';
import { MemoryInboxStore } from './memory-inbox-store.js';

const Counted = defineEvent('counter.bumped', 1, z.object({ by: z.unknown() }));

function setup() {
  const handled: unknown[] = [];
  const processor = createEventProcessor({
    consumer: 'counters',
    catalog: createEventCatalog({ events: [Counted] }),
    inbox: new MemoryInboxStore(),
    handlers: [handleEvent(Counted, (event) => void handled.push(event.payload.by))],
  });
  return { handled, publisher: createInProcessPublisher({ processor }) };
}

const cycle = (): unknown => {
  const value: { self?: unknown } = {};
  value.self = value;
  return value;
};

describe('in-process publisher and events JSON cannot carry', () => {
  for (const [label, by] of [
    ['a BigInt', () => 1n],
    ['a cycle', cycle],
  ] as const) {
    it(`refuses ${label} with INVALID_OPTIONS, delivering nothing of the batch`, async () => {
      const { handled, publisher } = setup();
      const batch = [Counted.create({ by: 1 }), Counted.create({ by: by() })];
      await expect(publisher.publish(batch)).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        details: { field: 'events.1.payload' },
      });
      await publisher.idle();
      expect(handled).toEqual([]);
      expect(publisher.deadLetters()).toEqual([]);
    });
  }

  it('refuses it as non-retryable, which a relay parks at once', async () => {
    const { publisher } = setup();
    const error = await publisher.publish([Counted.create({ by: 1n })]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_OPTIONS', retryable: false });
  });
});
