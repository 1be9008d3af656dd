/**
 * The write queue at its edges: a conflict resolver that cannot decide, a storage that
 * refuses to answer at start-up or is out of quota, values IndexedDB cannot store, and a path
 * no request can be sent to.
 */
import { BallastError, ManualClock } from '@ballast/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeApi } from '../../test/support/fake-api.js';
import type { Connectivity } from '../connectivity/connectivity.js';
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
  const clock = new ManualClock(1_000_000);
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch: api.fetch,
    retry: { writes: 0 },
  });
  const queue = createWriteQueue({
    client,
    storage,
    lock: 'lease',
    clock,
    ...(resolveConflict === undefined ? {} : { resolveConflict }),
  });
  open.push(queue);
  return { api, queue, clock };
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

  it('a storage that refuses at start-up: ready resolves, send() rejects with STORAGE_UNAVAILABLE, counts catch up later', async () => {
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
    const error = await queue.send({ path: '/sales', body: { item: 'tea' } }).catch((e) => e);
    expect(error).toBeInstanceOf(BallastError);
    expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE', cause: refused });
    expect(api.requests).toHaveLength(0);
    refusing = false;
    api.online = false;
    await queue.send({ path: '/sales', body: { item: 'coffee' } });
    await queue.flush();
    expect(queue.counts).toEqual({ pending: 1, failed: 0, conflict: 0, total: 1 });
  });

  it('a storage out of quota: send() rejects with STORAGE_UNAVAILABLE, the original as cause, and nothing is queued or sent', async () => {
    const memory = createMemoryQueueStorage();
    const quota = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    const storage: QueueStorage = { ...memory, put: () => Promise.reject(quota) };
    const { api, queue } = queueOn(storage);
    // Offline, the write would be queued without sending: its store is refused all the same.
    const offline = { status: 'offline', on: () => () => undefined } as unknown as Connectivity;
    const queuedOffline = createWriteQueue({
      client: createClient(),
      storage,
      connectivity: offline,
    });
    open.push(queuedOffline);
    for (const sender of [queue, queuedOffline]) {
      const error = await sender.send({ path: '/sales', body: { item: 'tea' } }).catch((e) => e);
      expect(error).toBeInstanceOf(BallastError);
      expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE', status: 503, cause: quota });
      expect(sender.counts).toMatchObject({ pending: 0, total: 0 });
    }
    expect(api.requests).toHaveLength(0);
    expect(await memory.list()).toEqual([]);
  });

  /** A storage that fails from the moment the server has answered until `healed`. */
  function failingOnceAnswered() {
    const memory = createMemoryQueueStorage();
    const broken = new Error('disk gone');
    const state = { answered: () => false, healed: false };
    const refuse = <T>(call: () => Promise<T>) =>
      state.answered() && !state.healed ? Promise.reject(broken) : call();
    const storage: QueueStorage = {
      ...memory,
      get: (id) => refuse(() => memory.get(id)),
      put: (id, record) => refuse(() => memory.put(id, record)),
      delete: (id) => refuse(() => memory.delete(id)),
    };
    const { api, queue, clock } = queueOn(storage);
    state.answered = () => api.requests.length > 0;
    return { api, queue, clock, memory, broken, state };
  }

  it('a storage that fails once the server answered 2xx: send() resolves delivered, and the write is never sent again', async () => {
    const { api, queue, memory, state } = failingOnceAnswered();
    const result = await queue.send({ path: '/sales', body: { quantity: 1 } });
    expect(result).toMatchObject({ queued: false, status: 201 });
    expect(api.sales).toHaveLength(1);
    // The record is still stored (its removal was refused) but known as delivered here.
    expect(await memory.list()).toHaveLength(1);
    state.healed = true;
    await queue.flush();
    // Removed at the next flush without a request: delivered once, sent once.
    expect(api.requests).toHaveLength(1);
    expect(await queue.list()).toEqual([]);
  });

  it('a storage that fails after a write was stored: queue calls reject with STORAGE_UNAVAILABLE, and the write is kept', async () => {
    const { api, queue, clock, memory, broken, state } = failingOnceAnswered();
    api.failNext(1, 503);
    const error = await queue.send({ path: '/sales', body: { quantity: 1 } }).catch((e) => e);
    expect(error).toBeInstanceOf(BallastError);
    expect(error).toMatchObject({ code: 'STORAGE_UNAVAILABLE', status: 503, cause: broken });
    const [stored] = await memory.list();
    const { id } = stored as { id: string };
    for (const call of [() => queue.retry(id), () => queue.remove(id)]) {
      await expect(call()).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', cause: broken });
    }
    // Not lost: stored as being sent, so once the storage is back and that mark has run out
    // (another tab might have been sending it), it is sent again under its key and delivered.
    state.healed = true;
    expect(await queue.list()).toMatchObject([{ id, state: 'sending' }]);
    await clock.advance(75_000);
    await queue.flush();
    expect(api.sales).toHaveLength(1);
    expect(new Set(api.requests.map((request) => request.key)).size).toBe(1);
    expect(await queue.list()).toEqual([]);
  });

  it('a client with no base URL in Node: send() is refused as INVALID_OPTIONS, a queued write fails instead of pending for ever', async () => {
    const queue = createWriteQueue({
      client: createClient(),
      storage: createMemoryQueueStorage(),
      lock: 'lease',
      clock: new ManualClock(1_000_000),
    });
    open.push(queue);
    await expect(queue.send({ path: '/sales', body: {} })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      details: { field: 'path' },
    });
    expect(await queue.list()).toEqual([]);
    const memory = createMemoryQueueStorage();
    await memory.put('w1', { schemaVersion: 0, id: 'w1', method: 'POST', path: '/sales' });
    const later = createWriteQueue({ client: createClient(), storage: memory, lock: 'lease' });
    open.push(later);
    await later.flush();
    expect(await later.list()).toMatchObject([
      { id: 'w1', state: 'failed', error: { code: 'INVALID_OPTIONS' } },
    ]);
  });

  it.each([
    ['body', { body: { item: 'tea', total: () => 2 } }],
    ['body', { body: { item: 'tea', tag: Symbol('till') } }],
    ['meta', { body: {}, meta: { label: 'Tea', onClick: () => undefined } }],
    ['base', { method: 'PATCH', version: 1, body: {}, base: { name: Symbol('name') } }],
  ] as const)(
    'send() refuses a %s holding what IndexedDB cannot store, naming the field',
    async (field, fields) => {
      const { api, queue } = queueOn(createMemoryQueueStorage());
      const error = await queue.send({ path: '/sales', ...fields } as never).catch((e) => e);
      expect(error).toBeInstanceOf(BallastError);
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS', details: { field } });
      expect(error.message).toContain('WriteQueue.send()');
      expect(api.requests).toHaveLength(0);
      expect(await queue.list()).toEqual([]);
    },
  );

  it('send() refuses a path with a scheme fetch cannot send, instead of queueing it for ever', async () => {
    const { api, queue } = queueOn(createMemoryQueueStorage());
    for (const path of ['mailto:sales@example.com', 'sales:today']) {
      await expect(queue.send({ path, body: {} })).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        details: { field: 'path' },
      });
    }
    expect(api.requests).toHaveLength(0);
    expect(await queue.list()).toEqual([]);
    // Queued behind another write, it is refused at its turn: failed, not pending for ever.
    api.online = false;
    await queue.send({ path: '/sales', body: { quantity: 1 } });
    await queue.send({ path: 'sales:today', body: {} });
    api.online = true;
    await queue.flush();
    expect(await queue.list()).toMatchObject([
      { path: 'sales:today', state: 'failed', error: { code: 'INVALID_OPTIONS' } },
    ]);
    // A path and an absolute http(s) URL are still taken.
    await expect(
      queue.send({ path: 'http://api.test/sales', body: { quantity: 1 } }),
    ).resolves.toMatchObject({ queued: false });
    await expect(queue.send({ path: 'sales', body: { quantity: 1 } })).resolves.toMatchObject({
      queued: false,
    });
  });
});
