/**
 * Records created offline whose creation never yields a server id: the writes that wait for
 * them must not stay "pending" for ever without a word, and two creations that mention each
 * other must not wait for each other.
 */
import { ManualClock } from '@ballast/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeApi } from '../../test/support/fake-api.js';
import { createClient } from '../fetch/create-client.js';
import { createMemoryQueueStorage } from './queue-storage.js';
import { createTemporaryId, temporaryIdSupport } from './temporary-ids.js';
import { createWriteQueue, type WriteQueue } from './write-queue.js';

const open: WriteQueue[] = [];
afterEach(() => {
  for (const queue of open.splice(0)) queue.close();
});

function till() {
  const api = createFakeApi();
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch: api.fetch,
    retry: { writes: 0 },
  });
  const queue = createWriteQueue({
    client,
    storage: createMemoryQueueStorage(),
    lock: 'lease',
    clock: new ManualClock(1_000_000),
    temporaryIds: temporaryIdSupport(),
  });
  open.push(queue);
  return { api, queue };
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
});
