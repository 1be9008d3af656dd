/**
 * The contract every `InboxStore` must meet, as one reusable suite: the event processor relies
 * on these properties to turn at-least-once delivery into one effect. The transaction a handler
 * receives differs by store (none, Kysely, Redis), so the suite checks what they share: the
 * handler runs to success at most once per (consumer, event id), a failure records nothing, and
 * concurrent deliveries of one event run it once.
 */
import type { InboxStore } from '@ballast/core';
import { describe, expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let counter = 0;
const freshRef = (consumer = 'contract') => {
  counter += 1;
  return { consumer, eventId: `ev-${counter}-${Math.random().toString(36).slice(2, 10)}` };
};

/** Registers the inbox contract suite; `make` is called per test (refs are fresh each time). */
export function describeInboxContract(
  name: string,
  // biome-ignore lint/suspicious/noExplicitAny: each store hands its own transaction type
  make: () => InboxStore<any> | Promise<InboxStore<any>>,
): void {
  describe(`InboxStore contract: ${name}`, () => {
    it('runs a handler once per consumer and event; a repeat is a duplicate', async () => {
      const inbox = await make();
      const ref = freshRef();
      expect(await inbox.runOnce(ref, async () => 'first')).toEqual({
        kind: 'ran',
        value: 'first',
      });
      expect(await inbox.runOnce(ref, async () => 'again')).toEqual({ kind: 'duplicate' });
      const other = { consumer: 'another-consumer', eventId: ref.eventId };
      expect((await inbox.runOnce(other, async () => 1)).kind).toBe('ran');
    });

    it('records nothing when the handler fails, so a redelivery runs it', async () => {
      const inbox = await make();
      const ref = freshRef();
      await expect(
        inbox.runOnce(ref, async () => {
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');
      expect(await inbox.runOnce(ref, async () => 'second')).toEqual({
        kind: 'ran',
        value: 'second',
      });
    });

    it('runs one of several concurrent deliveries of an event', async () => {
      const inbox = await make();
      const ref = freshRef();
      let runs = 0;
      const outcomes = await Promise.all(
        Array.from({ length: 4 }, () =>
          inbox.runOnce(ref, async () => {
            runs += 1;
            await sleep(50);
            return runs;
          }),
        ),
      );
      expect(outcomes.filter((outcome) => outcome.kind === 'ran')).toHaveLength(1);
      expect(runs).toBe(1);
    });

    it('lets a concurrent delivery run when the first one fails', async () => {
      const inbox = await make();
      const ref = freshRef();
      // The second delivery starts only once the first holds the event (its handler runs), so
      // the order does not depend on how fast the first claim reaches the store.
      let firstHolds!: () => void;
      const holding = new Promise<void>((resolve) => {
        firstHolds = resolve;
      });
      const first = inbox.runOnce(ref, async () => {
        firstHolds();
        await sleep(50);
        throw new Error('first failed');
      });
      await holding;
      const second = inbox.runOnce(ref, async () => 'second');
      await expect(first).rejects.toThrow('first failed');
      expect(await second).toEqual({ kind: 'ran', value: 'second' });
    });
  });
}
