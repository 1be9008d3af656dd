import { describe, expect, it } from 'vitest';
import { MemoryInboxStore } from './memory-inbox-store.js';

describe('MemoryInboxStore', () => {
  it('runs once per consumer and event, and again after a failure', async () => {
    const inbox = new MemoryInboxStore();
    const ref = { consumer: 'emails', eventId: 'e-1' };
    await expect(inbox.runOnce(ref, async () => 'v')).resolves.toEqual({ kind: 'ran', value: 'v' });
    await expect(inbox.runOnce(ref, async () => 'again')).resolves.toEqual({ kind: 'duplicate' });
    await expect(
      inbox.runOnce({ consumer: 'audit', eventId: 'e-1' }, async () => 1),
    ).resolves.toMatchObject({ kind: 'ran' });
    const other = { consumer: 'emails', eventId: 'e-2' };
    await expect(
      inbox.runOnce(other, () => {
        throw new Error('sync throw');
      }),
    ).rejects.toThrow('sync throw');
    expect(inbox.has(other)).toBe(false);
    await expect(inbox.runOnce(other, async () => 2)).resolves.toEqual({ kind: 'ran', value: 2 });
  });

  it('makes a concurrent duplicate wait, then run only if the first failed', async () => {
    const inbox = new MemoryInboxStore();
    const ref = { consumer: 'c', eventId: 'e' };
    let calls = 0;
    const failing = inbox.runOnce(ref, async () => {
      calls += 1;
      throw new Error('first fails');
    });
    const second = inbox.runOnce(ref, async () => {
      calls += 1;
      return 'second';
    });
    const third = inbox.runOnce(ref, async () => {
      calls += 1;
      return 'third';
    });
    await expect(failing).rejects.toThrow('first fails');
    const outcomes = await Promise.all([second, third]);
    expect(outcomes.map((outcome) => outcome.kind).sort()).toEqual(['duplicate', 'ran']);
    expect(calls).toBe(2);
  });

  it('forgets the oldest marks past maxEntries and says so', async () => {
    const warnings: unknown[] = [];
    const ignore = () => {};
    const inbox = new MemoryInboxStore({
      maxEntries: 2,
      logger: { debug: ignore, info: ignore, error: ignore, warn: (f) => warnings.push(f) },
    });
    for (const eventId of ['a', 'b', 'c'])
      await inbox.runOnce({ consumer: 'c', eventId }, async () => 0);
    expect(inbox.size).toBe(2);
    expect(inbox.has({ consumer: 'c', eventId: 'a' })).toBe(false);
    expect(warnings).toHaveLength(1);
  });

  it('validates its input', async () => {
    expect(() => new MemoryInboxStore({ maxEntries: 0 })).toThrow(/maxEntries/);
    const inbox = new MemoryInboxStore();
    await expect(inbox.runOnce({ consumer: '', eventId: 'e' }, async () => 0)).rejects.toThrow(
      /consumer/,
    );
    await expect(inbox.runOnce({ consumer: 'c', eventId: 'e' }, 'x' as never)).rejects.toThrow(
      /handle/,
    );
  });
});
