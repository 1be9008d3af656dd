/**
 * Review finding: the memory inbox joined consumer and event id with a NUL, so a consumer name
 * and an event id that contain one could name another pair's mark and skip its handler.
 */
import { expect, it } from 'vitest';
import { MemoryInboxStore } from './memory-inbox-store.js';

it('keeps (consumer, eventId) pairs apart whatever characters they hold', async () => {
  const inbox = new MemoryInboxStore();
  const first = await inbox.runOnce({ consumer: 'a\u0000b', eventId: 'c' }, async () => 1);
  const second = await inbox.runOnce({ consumer: 'a', eventId: 'b\u0000c' }, async () => 2);
  expect(first).toEqual({ kind: 'ran', value: 1 });
  expect(second).toEqual({ kind: 'ran', value: 2 });
  expect(inbox.has({ consumer: 'a', eventId: 'b\u0000c' })).toBe(true);
  expect(inbox.has({ consumer: 'a\u0000b', eventId: 'c\u0000' })).toBe(false);
});
