import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ManualClock } from '../clock/manual-clock.js';
import { BallastError } from '../errors/ballast-error.js';
import { createEventCatalog } from '../events/event-catalog.js';
import { defineEvent } from '../events/event-definition.js';
import { createEventProcessor, handleEvent } from '../events/event-processor.js';
import { createInProcessPublisher } from './in-process-publisher.js';
import { MemoryInboxStore } from './memory-inbox-store.js';
import { MemoryOutbox } from './memory-outbox.js';
import { createRelay } from './relay.js';

const Upload = defineEvent('upload.received', 1, z.object({ file: z.string(), at: z.string() }));
const catalog = createEventCatalog({ events: [Upload] });

function setup(behaviour: (file: string, attempt: number) => void | Promise<void>) {
  const clock = new ManualClock(0);
  const effects: string[] = [];
  const processor = createEventProcessor({
    consumer: 'thumbnails',
    catalog,
    inbox: new MemoryInboxStore(),
    handlers: [
      handleEvent(Upload, async (event, _trx, { attempt }) => {
        await behaviour(event.payload.file, attempt);
        effects.push(event.payload.file);
      }),
    ],
  });
  const publisher = createInProcessPublisher({ processor, clock, concurrency: 4 });
  return { clock, effects, publisher };
}

const upload = (file: string, key?: string) =>
  Upload.create({ file, at: new Date(0).toISOString() }, key === undefined ? {} : { key });

describe('createInProcessPublisher', () => {
  it('delivers each event once, ignoring a re-publish of the same id', async () => {
    const { effects, publisher } = setup(() => undefined);
    const a = upload('a');
    await publisher.publish([a, upload('b')]);
    await publisher.publish([a]);
    await publisher.idle();
    expect(effects.sort()).toEqual(['a', 'b']);
  });

  it('retries with the seed’s back-off, then dead-letters after 3 attempts with each error', async () => {
    const { clock, effects, publisher } = setup((_file, attempt) => {
      throw new Error(`disk full (attempt ${attempt})`);
    });
    await publisher.publish([upload('a')]);
    await clock.advance(499);
    expect(publisher.deadLetters()).toEqual([]);
    await clock.advance(1 + 1_000);
    await publisher.idle();
    const [letter] = publisher.deadLetters();
    expect(letter).toMatchObject({ reason: 'attempts-exhausted', attempts: 3, failedAt: 1_500 });
    expect(letter?.errors).toEqual([
      'Error: disk full (attempt 1)',
      'Error: disk full (attempt 2)',
      'Error: disk full (attempt 3)',
    ]);
    expect(effects).toEqual([]);
  });

  it('dead-letters a non-retryable error after one attempt, and redrives it after a fix', async () => {
    let fixed = false;
    const { effects, publisher } = setup(() => {
      if (!fixed) throw new BallastError('FORBIDDEN', { details: { reason: 'bucket-policy' } });
    });
    await publisher.publish([upload('a'), upload('b')]);
    await publisher.idle();
    expect(publisher.deadLetters().map((letter) => [letter.reason, letter.attempts])).toEqual([
      ['bucket-policy', 1],
      ['bucket-policy', 1],
    ]);
    fixed = true;
    expect(publisher.redrive({ type: 'other.v1' })).toBe(0);
    expect(publisher.redrive({ type: 'upload.received.v1', since: new Date(0) })).toBe(2);
    await publisher.idle();
    expect(effects.sort()).toEqual(['a', 'b']);
    expect(publisher.deadLetters()).toEqual([]);
  });

  it('keeps a key’s events in order, retries included', async () => {
    const order: string[] = [];
    const { clock, publisher } = setup(async (file, attempt) => {
      order.push(`${file}#${attempt}`);
      if (file === 'k1' && attempt === 1) throw new Error('transient');
    });
    await publisher.publish([upload('k1', 'doc'), upload('k2', 'doc'), upload('x')]);
    await clock.advance(600);
    await publisher.idle();
    expect(order.filter((entry) => entry.startsWith('k'))).toEqual(['k1#1', 'k1#2', 'k2#1']);
    expect(order).toContain('x#1');
  });

  it('runs the whole embedded pipeline: memory outbox → relay → in-process → inbox', async () => {
    const { effects, publisher } = setup(() => undefined);
    const outbox = new MemoryOutbox();
    const relay = createRelay({ store: outbox, publisher });
    const published = new Promise<void>((resolve) => relay.on('published', () => resolve()));
    relay.start();
    await outbox.transaction((trx) => outbox.publishMany(trx, [upload('a'), upload('b')]));
    await outbox
      .transaction(async (trx) => {
        await outbox.publish(trx, upload('rolled-back'));
        throw new Error('rollback');
      })
      .catch(() => undefined);
    await published;
    await publisher.idle();
    await relay.stop();
    await publisher.close();
    expect(effects.sort()).toEqual(['a', 'b']);
    await expect(publisher.publish([upload('late')])).rejects.toThrow(/closed/);
  });
});
