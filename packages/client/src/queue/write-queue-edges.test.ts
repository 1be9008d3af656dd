/**
 * The write queue at its edges: a conflict resolver that cannot decide, and a storage that
 * refuses to answer at start-up.
 */
import { ManualClock } from '@ballast/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeApi } from '../../test/support/fake-api.js';
import { createClient } from '../fetch/create-client.js';
import type { ConflictResolver } from './conflict-resolvers.js';
import { createMemoryQueueStorage, type QueueStorage } from './queue-storage.js';
import { createWriteQueue, type WriteQueue } from './write-queue.js';

const open: WriteQueue[] = [];
afterEach(() => {
  for (const queue of open.splice(0)) queue.close();
});

function queueOn(storage: QueueStorage, resolveConflict?: ConflictResolver) {
  const api = createFakeApi();
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch: api.fetch,
    retry: { writes: 0 },
  });
  const queue = createWriteQueue({
    client,
    storage,
    lock: 'lease',
    clock: new ManualClock(1_000_000),
    ...(resolveConflict === undefined ? {} : { resolveConflict }),
  });
  open.push(queue);
  return { api, queue };
}

describe('createWriteQueue at its edges', () => {
  for (const [label, resolver] of [
    ['returns nothing', (() => undefined) as unknown as ConflictResolver],
    [
      'throws',
      () => {
        throw new Error('resolver bug');
      },
    ],
  ] as const) {
    it(`a conflict resolver that ${label} leaves the edit parked for the user`, async () => {
      const { api, queue } = queueOn(createMemoryQueueStorage(), resolver);
      const edit = { method: 'PATCH' as const, path: '/products/p1', version: 1 };
      const product = api.products.get('p1');
      if (product) product.version = 2; // someone else edited it first
      const result = await queue.send({ ...edit, body: { priceCents: 350 } });
      expect(result).toMatchObject({ queued: true, state: 'conflict' });
      expect(await queue.list()).toMatchObject([
        { state: 'conflict', conflict: { currentVersion: 2 } },
      ]);
      expect(queue.counts).toMatchObject({ conflict: 1, total: 1 });
    });
  }

  it('a storage that refuses at start-up: ready resolves, send() rejects with its error, counts catch up later', async () => {
    const memory = createMemoryQueueStorage();
    let refusing = true;
    const refused = new Error('QuotaExceededError');
    const storage: QueueStorage = {
      ...memory,
      list: () => (refusing ? Promise.reject(refused) : memory.list()),
    };
    const { api, queue } = queueOn(storage);
    await expect(queue.ready).resolves.toBeUndefined();
    expect(queue.counts).toEqual({ pending: 0, failed: 0, conflict: 0, total: 0 });
    await expect(queue.send({ path: '/sales', body: { item: 'tea' } })).rejects.toBe(refused);
    refusing = false;
    api.online = false;
    await queue.send({ path: '/sales', body: { item: 'coffee' } });
    await queue.flush();
    expect(queue.counts).toEqual({ pending: 1, failed: 0, conflict: 0, total: 1 });
  });
});
