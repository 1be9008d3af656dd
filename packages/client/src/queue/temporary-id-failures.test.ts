/**
 * Records created offline whose creation never yields a server id: the writes that wait for
 * them must not stay "pending" for ever without a word, and two creations that mention each
 * other must not wait for each other. A creation's answer whose id is no id (empty, or a
 * number JSON cannot carry back) counts as no id at all.
 */
import { ManualClock } from '@ballast/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeApi } from '../../test/support/fake-api.js';
import { createClient } from '../fetch/create-client.js';
import { createMemoryQueueStorage, type QueueStorage } from './queue-storage.js';
import {
  createTemporaryId,
  type TemporaryIdSupportOptions,
  temporaryIdSupport,
} from './temporary-ids.js';
import { createWriteQueue, type WriteQueue } from './write-queue.js';

const open: WriteQueue[] = [];
afterEach(() => {
  for (const queue of open.splice(0)) queue.close();
});

function till(
  storage: QueueStorage = createMemoryQueueStorage(),
  support: TemporaryIdSupportOptions = {},
) {
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
    temporaryIds: temporaryIdSupport(support),
  });
  open.push(queue);
  return { api, queue };
}

/** A memory storage whose `put` fails while `refusing` says so (a full quota, a closed database). */
function refusingPuts(refusing: () => boolean) {
  const memory = createMemoryQueueStorage();
  const storage: QueueStorage = {
    ...memory,
    put: (id, record) =>
      refusing()
        ? Promise.reject(new DOMException('full', 'QuotaExceededError'))
        : memory.put(id, record),
  };
  return { memory, storage };
}

describe('temporary ids whose creation fails', () => {
  it('a creation refused with 4xx fails the writes waiting for it, with a message', async () => {
    const { api, queue } = till();
    const failed: string[] = [];
    queue.on('failed', ({ write }) => failed.push(write.path));
    api.online = false;
    // A note about a customer the server does not know: refused with 422.
    const note = createTemporaryId();
    await queue.send({ path: '/notes', body: { customerId: 999 }, temporaryId: note });
    await queue.send({ path: '/sales', body: { item: 'coffee', quantity: 1, note } });
    await queue.send({ method: 'PATCH', path: `/notes/${note}`, body: { text: 'x' } });
    api.online = true;
    await queue.flush();
    const list = await queue.list();
    expect(list.map((write) => write.state)).toEqual(['failed', 'failed', 'failed']);
    expect(list[1]?.error).toMatchObject({ code: 'REFERENCE_CONFLICT', status: 409 });
    expect(list[1]?.error?.message).toMatch(/could not be created/);
    expect(queue.pendingCount).toBe(0);
    expect(failed).toHaveLength(3);
    expect(api.sales).toEqual([]);
    // Nothing that mentions the temporary id was sent.
    expect(api.requests.map((request) => request.path)).toEqual(['/notes']);
  });

  it('a creation whose server id the storage refuses to save is still delivered, and its id still reaches the writes that mention it', async () => {
    let refusing = () => false;
    const { memory, storage } = refusingPuts(() => refusing());
    const { api, queue } = till(storage);
    let healed = false;
    // From the moment the server has answered the creation, the storage refuses every put.
    refusing = () => !healed && api.requests.some((request) => request.path === '/customers');
    const resolved: unknown[] = [];
    queue.on('resolved', (event) => resolved.push(event));
    const customer = createTemporaryId();
    await expect(
      queue.send({ path: '/customers', body: { name: 'Ana' }, temporaryId: customer }),
    ).resolves.toMatchObject({ queued: false, status: 201 });
    expect(resolved).toEqual([{ temporaryId: customer, id: 101 }]);
    expect(await memory.list()).toEqual([]);
    healed = true;
    // This tab knows the id without a stored mapping: a note about the customer carries it.
    await queue.send({ path: '/notes', body: { customerId: customer } });
    expect(api.notes).toEqual([{ customerId: 101 }]);
    // The next flush saves the mapping, for the other tabs and for a reload.
    await queue.flush();
    expect(await memory.list()).toEqual([
      expect.objectContaining({
        kind: 'ballast-temporary-id',
        temporaryId: customer,
        serverId: 101,
      }),
    ]);
    expect(api.requests.map((request) => request.path)).toEqual(['/customers', '/notes']);
  });

  it('a readServerId that throws counts as no id: the creation is delivered, not failed', async () => {
    const { api, queue } = till(createMemoryQueueStorage(), {
      readServerId: () => {
        throw new Error('reader bug');
      },
    });
    const customer = createTemporaryId();
    const result = await queue.send({
      path: '/customers',
      body: { name: 'Ana' },
      temporaryId: customer,
    });
    expect(result).toMatchObject({ queued: false, status: 201 });
    expect(api.customers.size).toBe(1);
    expect(await queue.list()).toEqual([]);
  });

  it('two creations that mention each other do not wait for each other', async () => {
    const { api, queue } = till();
    api.online = false;
    const a = createTemporaryId();
    const b = createTemporaryId();
    await queue.send({ path: '/customers', body: { name: 'A', friend: b }, temporaryId: a });
    await queue.send({ path: '/customers', body: { name: 'B', friend: a }, temporaryId: b });
    api.online = true;
    await queue.flush();
    // The first goes out as it is (the server decides about the unknown id); the second
    // then carries the first's server id.
    expect(await queue.list()).toEqual([]);
    expect(queue.pendingCount).toBe(0);
    expect([...api.customers.entries()]).toEqual([
      [101, { name: 'A', friend: b }],
      [102, { name: 'B', friend: 101 }],
    ]);
  });
  it('a write queued before the creation it mentions still waits for it', async () => {
    const { api, queue } = till();
    api.online = false;
    const customer = createTemporaryId();
    await queue.send({ path: '/notes', body: { customerId: customer }, priority: 'high' });
    await queue.send({ path: '/customers', body: { name: 'Ana' }, temporaryId: customer });
    api.online = true;
    await queue.flush();
    expect(await queue.list()).toEqual([]);
    expect(api.notes).toEqual([{ customerId: 101 }]);
  });

  for (const [label, answer] of [
    ['an empty string', '{"id":""}'],
    ['a number past what JSON encodes', '{"id":1e400}'],
  ]) {
    it(`a creation answered with ${label} as its id leaves the writes mentioning it as they are`, async () => {
      const sent: { method: string; url: string; body: unknown }[] = [];
      const client = createClient({
        baseUrl: 'http://api.test',
        retry: { writes: 0 },
        fetch: async (url, init) => {
          const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
          sent.push({ method: init?.method ?? 'GET', url: String(url), body });
          const created = sent.length === 1;
          return new Response(created ? answer : '{}', {
            status: created ? 201 : 200,
            headers: { 'content-type': 'application/json' },
          });
        },
      });
      const queue = createWriteQueue({
        client,
        storage: createMemoryQueueStorage(),
        lock: 'lease',
        clock: new ManualClock(1_000_000),
        temporaryIds: temporaryIdSupport(),
      });
      open.push(queue);
      const customer = createTemporaryId();
      await queue.send({ path: '/customers', body: { name: 'Ana' }, temporaryId: customer });
      await queue.send({ path: '/notes', body: { customerId: customer } });
      await queue.send({ method: 'PATCH', path: `/customers/${customer}`, body: { a: 1 } });
      expect(sent.slice(1)).toEqual([
        { method: 'POST', url: 'http://api.test/notes', body: { customerId: customer } },
        { method: 'PATCH', url: `http://api.test/customers/${customer}`, body: { a: 1 } },
      ]);
    });
  }
});
