import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineEvent } from '../events/event-definition.js';
import { MemoryOutbox } from './memory-outbox.js';

const Ping = defineEvent('ping', 1, z.object({ n: z.number() }));

describe('MemoryOutbox', () => {
  it('adds what a transaction published only when it resolves', async () => {
    const outbox = new MemoryOutbox();
    const commits: number[] = [];
    outbox.onCommit(() => commits.push(1));
    await outbox.transaction((trx) => outbox.publish(trx, Ping.create({ n: 1 })));
    await expect(
      outbox.transaction(async (trx) => {
        await outbox.publish(trx, Ping.create({ n: 2 }));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(outbox.entries().map((row) => row.event.payload)).toEqual([{ n: 1 }]);
    expect(commits).toEqual([1]);
  });

  it('refuses publishing past maxDepth with QUEUE_FULL, a duplicate id and a bad envelope', async () => {
    const outbox = new MemoryOutbox({ maxDepth: 2 });
    const one = Ping.create({ n: 1 });
    await outbox.transaction((trx) => outbox.publishMany(trx, [one, Ping.create({ n: 2 })]));
    await expect(
      outbox.transaction((trx) => outbox.publish(trx, Ping.create({ n: 3 }))),
    ).rejects.toMatchObject({
      code: 'QUEUE_FULL',
      retryable: true,
      details: { depth: 2, maxDepth: 2 },
    });
    const fresh = new MemoryOutbox();
    await fresh.transaction((trx) => fresh.publish(trx, one));
    await expect(fresh.transaction((trx) => fresh.publish(trx, one))).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });
    await expect(
      fresh.transaction((trx) => fresh.publish(trx, { ...one, id: '' })),
    ).rejects.toMatchObject({ code: 'EVENT_INVALID' });
  });

  it('refuses a payload JSON cannot carry with INVALID_OPTIONS, as the Postgres outbox does', async () => {
    // Accepted here, such an event failed only in production (the Postgres outbox refuses it at
    // publish) or at the engine, which retried it until it was parked.
    const outbox = new MemoryOutbox();
    const cycle: { self?: unknown } = {};
    cycle.self = cycle;
    for (const payload of [{ n: 1n }, cycle, () => 1]) {
      const event = { ...Ping.create({ n: 1 }), payload };
      await expect(
        outbox.transaction((trx) => outbox.publish(trx, event as never)),
      ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'payload' } });
    }
    expect(outbox.entries()).toEqual([]);
  });

  it('refuses a transaction that is over or not its own', async () => {
    const outbox = new MemoryOutbox();
    let kept: unknown;
    await outbox.transaction((trx) => {
      kept = trx;
    });
    await expect(outbox.publish(kept as never, Ping.create({ n: 1 }))).rejects.toThrow(/committed/);
    await expect(outbox.publish({} as never, Ping.create({ n: 1 }))).rejects.toThrow(
      /outbox.transaction/,
    );
  });
});
