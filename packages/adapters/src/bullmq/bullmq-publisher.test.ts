/**
 * What the BullMQ publisher refuses before the engine sees it, on a fake queue: an event whose
 * id BullMQ cannot take as a job id would otherwise fail with BullMQ's plain `Error`, which the
 * relay takes for a passing failure and retries until the row is a dead letter.
 */
import { isBallastError } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { type BullmqQueue, createBullmqPublisher } from './index.js';

function fakeQueue() {
  const added: string[] = [];
  const queue = {
    name: 'events',
    addBulk: async (jobs: { opts: { jobId: string } }[]) => {
      added.push(...jobs.map((job) => job.opts.jobId));
      return [];
    },
    close: async () => {},
  } as unknown as BullmqQueue;
  return { queue, added };
}

const event = (id: string) => ({
  type: 'order.created.v1',
  id,
  occurredAt: '2026-12-05T10:00:00.000Z',
  payload: { orderId: 'o-1' },
});

describe('createBullmqPublisher', () => {
  it.each([
    ['a whole number', '42'],
    ['a colon', 'order:42'],
  ])(
    'refuses an event id with %s (no BullMQ job id) as INVALID_OPTIONS, not retryable',
    async (_, id) => {
      const { queue, added } = fakeQueue();
      const publisher = createBullmqPublisher({ queue });
      const error = await publisher.publish([event('ok-1'), event(id)]).catch((e: unknown) => e);
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      expect(error).toMatchObject({ retryable: false, details: { field: 'events.1.id' } });
      expect(added).toEqual([]);
    },
  );

  it('takes UUIDs and other ids BullMQ accepts', async () => {
    const { queue, added } = fakeQueue();
    const publisher = createBullmqPublisher({ queue });
    const ids = ['4f6c1d8e-9a51-4d7e-8f55-1c2b3a4d5e6f', 'order-42', '42a', '0042'];
    await publisher.publish(ids.map(event));
    expect(added).toEqual(ids);
  });

  it('refuses publish options that are not { signal?: AbortSignal } with INVALID_OPTIONS', async () => {
    const { queue, added } = fakeQueue();
    const publisher = createBullmqPublisher({ queue });
    // A signal that was no AbortSignal threw a raw TypeError (throwIfAborted is not a function).
    for (const options of [{ signal: 5_000 }, { timeoutMs: 5_000 }, 'fast']) {
      const error = await publisher
        .publish([event('ok-2')], options as never)
        .catch((e: unknown) => e);
      expect(isBallastError(error, 'INVALID_OPTIONS'), JSON.stringify(options)).toBe(true);
      expect(error).toMatchObject({ message: expect.stringContaining('publish()') });
    }
    expect(added).toEqual([]);
    await publisher.publish([event('ok-3')], { signal: new AbortController().signal });
    expect(added).toEqual(['ok-3']);
  });
});
