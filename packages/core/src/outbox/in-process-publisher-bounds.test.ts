/**
 * Review findings on the in-process publisher: its dead letters are bounded like its other
 * memory, and `redrive()` validates its filter instead of throwing a raw `TypeError`.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BallastError } from '../errors/ballast-error.js';
import { createEventCatalog } from '../events/event-catalog.js';
import { defineEvent } from '../events/event-definition.js';
import { createEventProcessor, handleEvent } from '../events/event-processor.js';
import type { Logger } from '../logging/logger.js';
import { createInProcessPublisher } from './in-process-publisher.js';
import { MemoryInboxStore } from './memory-inbox-store.js';

const Job = defineEvent('job.queued', 1, z.object({ n: z.number() }));
const Other = defineEvent('job.other', 1, z.object({ n: z.number() }));

function deadEnd(options: { maxDeadLetters?: number; logger?: Logger } = {}) {
  const processor = createEventProcessor({
    consumer: 'jobs',
    catalog: createEventCatalog({ events: [Job, Other] }),
    inbox: new MemoryInboxStore(),
    // Only Job has a handler: every Other is a dead letter at once (no-handler).
    handlers: [handleEvent(Job, () => undefined)],
  });
  return createInProcessPublisher({ processor, ...options });
}

describe('in-process publisher bounds', () => {
  it('keeps at most maxDeadLetters, forgetting the oldest and saying so', async () => {
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (_fields: unknown, message: string) => warnings.push(message),
      error: () => undefined,
    } as unknown as Logger;
    const publisher = deadEnd({ maxDeadLetters: 3, logger });
    const events = Array.from({ length: 5 }, (_, n) => Other.create({ n }));
    await publisher.publish(events);
    await publisher.idle();
    const kept = publisher.deadLetters().map((letter) => (letter.event.payload as { n: number }).n);
    expect(kept).toEqual([2, 3, 4]);
    expect(warnings.some((line) => line.includes('dead letter'))).toBe(true);
  });

  it('has a default bound', async () => {
    const publisher = deadEnd();
    await publisher.publish(Array.from({ length: 20 }, (_, n) => Other.create({ n })));
    await publisher.idle();
    expect(publisher.deadLetters()).toHaveLength(20);
    expect(() => deadEnd({ maxDeadLetters: 0 })).toThrow(BallastError);
  });

  it('redrive() refuses a malformed filter with INVALID_OPTIONS naming it', () => {
    const publisher = deadEnd();
    for (const filter of [{ since: 'yesterday' }, { type: 42 }, null]) {
      let error: unknown;
      try {
        publisher.redrive(filter as never);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(BallastError);
      expect((error as BallastError).code).toBe('INVALID_OPTIONS');
      expect((error as BallastError).message).toContain('redrive()');
    }
  });
});
