import 'fake-indexeddb/auto';
import { ManualClock } from '@ballast/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFakeApi, type FakeApi } from '../../test/support/fake-api.js';
import { createConnectivity } from '../connectivity/connectivity.js';
import { createClient } from '../fetch/create-client.js';
import { type FieldMerge, keepMine, keepTheirs, mergeChanges } from './conflict-resolvers.js';
import { createIndexedDbQueueStorage } from './indexeddb-queue-storage.js';
import { createMemoryQueueStorage, type QueueStorage } from './queue-storage.js';
import { createTemporaryId, isTemporaryId, temporaryIdSupport } from './temporary-ids.js';
import { createWriteQueue, type WriteQueue } from './write-queue.js';
import type { WriteQueueOptions } from './write-queue-options.js';

const open: WriteQueue[] = [];
afterEach(() => {
  for (const queue of open.splice(0)) queue.close();
});

/** A till: a fake API, a client with no retries of its own, and a queue on a manual clock. */
function till(options: Partial<WriteQueueOptions> & { api?: FakeApi } = {}) {
  const api = options.api ?? createFakeApi();
  const clock = (options.clock as ManualClock | undefined) ?? new ManualClock(1_000_000);
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch: api.fetch,
    retry: { writes: 0 },
  });
  const { api: _api, ...rest } = options;
  const queue = createWriteQueue({
    client,
    storage: createMemoryQueueStorage(),
    lock: 'lease',
    clock,
    ...rest,
  });
  open.push(queue);
  return { api, clock, queue };
}

const sale = (quantity = 1) => ({ path: '/sales', body: { item: 'coffee', quantity } });

describe('createWriteQueue', () => {
  it('sends at once when online, and nothing is left queued', async () => {
    const { api, queue } = till();
    const result = await queue.send(sale());
    expect(result).toMatchObject({ queued: false, status: 201, data: { id: 1 } });
    expect(api.sales).toHaveLength(1);
    expect(await queue.list()).toEqual([]);
  });

  it('queues a write that fails for the network and replays it with the same key: one sale', async () => {
    const { api, clock, queue } = till();
    api.online = false;
    const result = await queue.send(sale());
    expect(result).toMatchObject({ queued: true, state: 'pending' });
    await queue.ready;
    expect(queue.pendingCount).toBe(1);
    api.online = true;
    await clock.advance(1_000); // first backoff step
    await queue.flush();
    expect(api.sales).toHaveLength(1);
    expect(queue.pendingCount).toBe(0);
    const keys = new Set(api.requests.map((request) => request.key));
    expect(keys.size).toBe(1);
  });

  it('never takes a 5xx as delivered: the write stays pending and is delivered later', async () => {
    const { api, clock, queue } = till();
    api.failNext(2, 500);
    expect(await queue.send(sale())).toMatchObject({ queued: true });
    await clock.advance(1_000); // the backoff timer replays it: 500 again
    await vi.waitFor(async () =>
      expect((await queue.list())[0]).toMatchObject({ state: 'pending', attempts: 2 }),
    );
    expect(api.sales).toHaveLength(0);
    await clock.advance(2_000);
    await vi.waitFor(async () => expect(await queue.list()).toEqual([]));
    expect(api.sales).toHaveLength(1);
  });

  it('marks a write the server rejects while replaying as failed, with the server message', async () => {
    const { api, queue } = till();
    api.online = false;
    await queue.send(sale(0));
    api.online = true;
    await queue.flush();
    const [write] = await queue.list();
    expect(write).toMatchObject({
      state: 'failed',
      error: { code: 'VALIDATION_FAILED', status: 422, message: 'Insufficient stock for Coffee' },
    });
    expect(queue.counts).toMatchObject({ pending: 0, failed: 1, total: 1 });
    expect(await queue.remove(write?.id ?? '')).toBe(true);
    expect(queue.counts.total).toBe(0);
  });

  it('throws the rejection of a write sent at once and keeps nothing queued', async () => {
    const { queue } = till();
    await expect(queue.send(sale(0))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: 'Insufficient stock for Coffee',
    });
    expect(await queue.list()).toEqual([]);
  });

  it('retries a failed write under a new key (the old key recorded the rejection)', async () => {
    const { api, queue } = till();
    api.online = false;
    await queue.send(sale(0));
    api.online = true;
    await queue.flush();
    const [failed] = await queue.list();
    const write = failed as NonNullable<typeof failed>;
    await queue.retry(write.id);
    expect(api.requests).toHaveLength(2);
    expect(api.requests[1]?.key).not.toBe(api.requests[0]?.key);
    // Rejected again (same data): failed again, with the message.
    expect((await queue.list())[0]).toMatchObject({ state: 'failed', attempts: 3 });
  });

  it('replays high priority first, then in creation order', async () => {
    const { api, queue } = till();
    api.online = false;
    await queue.send({ ...sale(1), priority: 'low' });
    await queue.send({ ...sale(2), priority: 'medium' });
    await queue.send({ ...sale(3), priority: 'high' });
    await queue.send({ ...sale(4), priority: 'high' });
    api.online = true;
    await queue.flush();
    expect(api.sales.map((s) => s.quantity)).toEqual([3, 4, 2, 1]);
  });

  it('a new write never overtakes queued ones', async () => {
    const { api, queue } = till();
    api.online = false;
    await queue.send(sale(1));
    api.online = true;
    expect(await queue.send(sale(2))).toMatchObject({ queued: true });
    await queue.flush();
    expect(api.sales.map((s) => s.quantity)).toEqual([1, 2]);
  });

  it('refuses at send() a version If-Match cannot carry, which every replay would refuse again', async () => {
    const { api, queue } = till();
    await expect(
      queue.send({ method: 'PATCH', path: '/products/p1', body: {}, version: 'v "2"' }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'version' } });
    expect(api.requests).toHaveLength(0);
    expect(await queue.list()).toEqual([]);
  });

  it('dedupes a double submit by the caller key', async () => {
    const { api, queue } = till();
    api.online = false;
    const [first, second] = await Promise.all([
      queue.send({ ...sale(), dedupeKey: 'ticket-7' }),
      queue.send({ ...sale(), dedupeKey: 'ticket-7' }),
    ]);
    expect(second.id).toBe(first.id);
    const third = await queue.send({ ...sale(), dedupeKey: 'ticket-7' });
    expect(third.id).toBe(first.id);
    expect(await queue.list()).toHaveLength(1);
  });

  it('does not send while connectivity says offline, and flushes when it comes back', async () => {
    const api = createFakeApi();
    const target = new EventTarget();
    const connectivity = createConnectivity({ target });
    target.dispatchEvent(new Event('offline'));
    const { queue } = till({ api, connectivity });
    await queue.send(sale());
    expect(api.requests).toHaveLength(0);
    target.dispatchEvent(new Event('online'));
    await queue.flush();
    expect(api.sales).toHaveLength(1);
    connectivity.close();
  });

  it('two tabs on one storage: each write delivered once, both tabs see the same counts', async () => {
    const api = createFakeApi();
    const storage = createMemoryQueueStorage();
    const clock = new ManualClock(1_000_000);
    const name = `tabs-${Math.random()}`;
    const a = till({ api, storage, clock, name });
    const b = till({ api, storage, clock, name });
    api.online = false;
    for (let i = 1; i <= 5; i++) await a.queue.send(sale(i));
    for (let i = 6; i <= 10; i++) await b.queue.send(sale(i));
    await new Promise((resolve) => setTimeout(resolve, 20)); // BroadcastChannel delivery
    expect(a.queue.pendingCount).toBe(10);
    expect(b.queue.pendingCount).toBe(10);
    api.online = true;
    await Promise.all([a.queue.flush(), b.queue.flush(), a.queue.flush()]);
    await a.queue.flush();
    expect(api.sales).toHaveLength(10);
    expect(new Set(api.sales.map((s) => s.quantity)).size).toBe(10);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(a.queue.pendingCount).toBe(0);
    expect(b.queue.pendingCount).toBe(0);
  });

  describe('conflicts', () => {
    const edit = { method: 'PATCH' as const, path: '/products/p1', version: 1 };
    const base = { name: 'Coffee', priceCents: 300, stock: 10 };

    async function staleEdit(options: Partial<WriteQueueOptions> = {}) {
      const t = till(options);
      t.api.online = false;
      await t.queue.send({ ...edit, base, body: { priceCents: 350 } });
      // Someone else changes the product meanwhile.
      const product = t.api.products.get('p1');
      if (product) Object.assign(product, { version: 2, record: { ...base, stock: 8 } });
      t.api.online = true;
      await t.queue.flush();
      return t;
    }

    it('parks a stale edit as conflict by default, with the server version attached', async () => {
      const { queue } = await staleEdit();
      const [write] = await queue.list();
      expect(write).toMatchObject({
        state: 'conflict',
        conflict: { currentVersion: 2, current: { stock: 8 } },
      });
      expect(queue.counts.conflict).toBe(1);
    });

    it('keepMine re-sends against the new version under a new key', async () => {
      const { api, queue } = await staleEdit({ resolveConflict: keepMine() });
      expect(await queue.list()).toEqual([]);
      expect(api.products.get('p1')).toMatchObject({
        version: 3,
        record: { priceCents: 350, stock: 8 },
      });
      const [first, second] = api.requests.slice(-2);
      expect(second?.ifMatch).toBe('"2"');
      expect(second?.key).not.toBe(first?.key);
    });

    it('keepTheirs drops the edit', async () => {
      const { api, queue } = await staleEdit({ resolveConflict: keepTheirs() });
      expect(await queue.list()).toEqual([]);
      expect(api.products.get('p1')?.record.priceCents).toBe(300);
    });

    const mergeFields: FieldMerge = (baseRecord, mine, theirs) => {
      const merged: Record<string, unknown> = { ...theirs };
      const conflicts: string[] = [];
      for (const field of Object.keys(mine)) {
        const mineChanged = mine[field] !== baseRecord[field];
        const theirsChanged = theirs[field] !== baseRecord[field];
        if (mineChanged && theirsChanged && mine[field] !== theirs[field]) conflicts.push(field);
        else if (mineChanged) merged[field] = mine[field];
      }
      return conflicts.length === 0 ? { ok: true, merged } : { ok: false, conflicts, merged };
    };

    it('mergeChanges merges fields only one side changed and re-sends just my fields', async () => {
      const { api, queue } = await staleEdit({ resolveConflict: mergeChanges({ mergeFields }) });
      expect(await queue.list()).toEqual([]);
      expect(api.products.get('p1')?.record).toEqual({ name: 'Coffee', priceCents: 350, stock: 8 });
    });

    it("mergeChanges defaults to core's mergeFields", async () => {
      const { api, queue } = await staleEdit({ resolveConflict: mergeChanges() });
      expect(await queue.list()).toEqual([]);
      expect(api.products.get('p1')?.record).toEqual({ name: 'Coffee', priceCents: 350, stock: 8 });
    });

    it('mergeChanges refuses a merge that is not a function', () => {
      expect(() => mergeChanges({ mergeFields: 'mine' as never })).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS' }),
      );
    });

    for (const [label, resolver] of [
      ['a given merge', () => mergeChanges({ mergeFields })],
      ["core's merge", () => mergeChanges()],
    ] as const) {
      it(`mergeChanges (${label}) parks when both sides changed a field, naming it`, async () => {
        const t = till({ resolveConflict: resolver() });
        t.api.online = false;
        await t.queue.send({ ...edit, base, body: { stock: 12 } });
        const product = t.api.products.get('p1');
        if (product) Object.assign(product, { version: 2, record: { ...base, stock: 8 } });
        t.api.online = true;
        await t.queue.flush();
        expect((await t.queue.list())[0]).toMatchObject({
          state: 'conflict',
          conflict: { fields: ['stock'] },
        });
      });
    }

    it('a parked conflict is settled later by the user with a resolver', async () => {
      const { api, queue } = await staleEdit();
      const [write] = await queue.list();
      await queue.resolveConflict(write?.id ?? '', keepMine());
      expect(await queue.list()).toEqual([]);
      expect(api.products.get('p1')?.record.priceCents).toBe(350);
    });

    it('a creation never reaches a resolver: its 409 is a rejection', async () => {
      const api = createFakeApi();
      let asked = false;
      const client = createClient({
        baseUrl: 'http://api.test',
        retry: { writes: 0 },
        fetch: async () =>
          new Response(JSON.stringify({ code: 'CASE_CLOSED', status: 409, detail: 'Closed' }), {
            status: 409,
            headers: { 'content-type': 'application/problem+json' },
          }),
      });
      const queue = createWriteQueue({
        client,
        storage: createMemoryQueueStorage(),
        resolveConflict: () => {
          asked = true;
          return { action: 'drop' };
        },
      });
      open.push(queue);
      await expect(queue.send(sale())).rejects.toMatchObject({ code: 'CASE_CLOSED' });
      expect(asked).toBe(false);
      expect(api.requests).toHaveLength(0);
    });
  });

  describe('storage', () => {
    it('migrates writes stored in an older schema (the seed shape) instead of deleting them', async () => {
      const storage: QueueStorage = createMemoryQueueStorage();
      await storage.put('legacy-1', {
        id: 'legacy-1',
        method: 'post',
        path: '/sales',
        body: { item: 'bread', quantity: 3 },
        createdAt: 1_700_000_000_000,
      });
      await storage.put('alien', { something: 'else' });
      const { api, queue } = till({ storage });
      await queue.ready;
      await queue.flush();
      expect(api.sales).toEqual([{ id: 1, item: 'bread', quantity: 3 }]);
      expect(api.requests[0]?.key).toBe('"legacy-1"');
      // A record this release cannot read is left alone, not deleted.
      expect(await storage.get('alien')).toEqual({ something: 'else' });
    });

    it('keeps a queued edit with its full payload across a restart (IndexedDB)', async () => {
      const name = `restart-${Math.random()}`;
      const api = createFakeApi();
      api.online = false;
      const first = till({ api, storage: createIndexedDbQueueStorage(name), name });
      const changes = { priceCents: 350, tags: ['hot', 'new'], dimensions: { cup: 'L' } };
      await first.queue.send({
        method: 'PATCH',
        path: '/products/p1',
        version: 1,
        base: { name: 'Coffee', priceCents: 300, stock: 10 },
        body: changes,
        meta: { label: 'Coffee price' },
      });
      first.queue.close();

      const second = till({ api, storage: createIndexedDbQueueStorage(name), name });
      await second.queue.ready;
      const [write] = await second.queue.list();
      expect(write).toMatchObject({
        body: changes,
        version: 1,
        base: { priceCents: 300 },
        meta: { label: 'Coffee price' },
        state: 'pending',
      });
      expect(write?.createdAt).toBeInstanceOf(Date);
      expect(second.queue.pendingCount).toBe(1);
      api.online = true;
      await second.queue.flush();
      expect(api.products.get('p1')?.record).toMatchObject(changes);
      expect(await second.queue.list()).toEqual([]);
    });
  });

  it('validates options and writes', async () => {
    expect(() => createWriteQueue({} as never)).toThrow(/createWriteQueue\(\).*client/);
    const { queue } = till();
    await expect(queue.send({ path: '/sales', method: 'GET' } as never)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
  });
});

describe('records created offline (temporary ids)', () => {
  const withIds = temporaryIdSupport();
  it('writes that mention a temporary id wait for its creation, then carry the server id', async () => {
    const { api, queue } = till({ temporaryIds: withIds });
    const resolved: unknown[] = [];
    queue.on('resolved', (event) => resolved.push(event));
    api.online = false;
    const customer = createTemporaryId();
    // The note and the edit are more urgent than the creation, yet must not overtake it.
    await queue.send({
      path: '/customers',
      body: { name: 'Ana' },
      temporaryId: customer,
      priority: 'low',
    });
    await queue.send({
      path: '/notes',
      body: { customerId: customer, text: 'call back' },
      priority: 'high',
    });
    await queue.send({
      method: 'PATCH',
      path: `/customers/${customer}`,
      body: { phone: '555' },
      priority: 'high',
    });
    api.online = true;
    await queue.flush();
    expect(await queue.list()).toEqual([]);
    expect(api.customers.get(101)).toEqual({ name: 'Ana', phone: '555' });
    expect(api.notes).toEqual([{ customerId: 101, text: 'call back' }]);
    expect(resolved).toEqual([{ temporaryId: customer, id: 101 }]);
    expect(api.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'POST /customers',
      'POST /notes',
      'PATCH /customers/101',
    ]);
  });

  it('a write sent later with a resolved temporary id is rewritten, also after a restart', async () => {
    const api = createFakeApi();
    const storage = createMemoryQueueStorage();
    const first = till({ api, storage, temporaryIds: withIds });
    const customer = createTemporaryId();
    await first.queue.send({ path: '/customers', body: { name: 'Ana' }, temporaryId: customer });
    first.queue.close();
    const restarted = till({ api, storage, temporaryIds: withIds });
    await restarted.queue.ready;
    const result = await restarted.queue.send({ path: '/notes', body: { customerId: customer } });
    expect(result).toMatchObject({ queued: false, status: 201 });
    expect(api.notes).toEqual([{ customerId: 101 }]);
  });

  it('without an id in the answer, dependants keep the temporary id (and the server decides)', async () => {
    const { api, queue } = till({
      temporaryIds: temporaryIdSupport({ readServerId: () => undefined }),
    });
    api.online = false;
    const customer = createTemporaryId();
    await queue.send({ path: '/customers', body: { name: 'Ana' }, temporaryId: customer });
    await queue.send({ path: '/notes', body: { customerId: customer } });
    api.online = true;
    await queue.flush();
    expect(api.notes).toEqual([]);
    expect((await queue.list())[0]).toMatchObject({
      state: 'failed',
      body: { customerId: customer },
    });
  });

  it('queued writes show the server id as soon as the creation is delivered', async () => {
    const { api, queue } = till({ temporaryIds: withIds });
    api.online = false;
    const customer = createTemporaryId();
    await queue.send({
      path: '/customers',
      body: { name: 'Ana' },
      temporaryId: customer,
      priority: 'high',
    });
    await queue.send({ ...sale(), priority: 'medium' });
    await queue.send({
      path: `/customers/${customer}`,
      method: 'PATCH',
      body: { ref: customer },
      priority: 'low',
    });
    api.online = true;
    queue.on('resolved', () => api.failNext(1)); // the sale meets a 503: the edit is not sent yet
    await queue.flush();
    const [, edit] = await queue.list();
    expect(edit).toMatchObject({ path: '/customers/101', body: { ref: 101 }, attempts: 0 });
  });

  it('refuses a body JSON cannot encode, which would block every write behind it', async () => {
    const { queue, api } = till();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const body of [{ amount: 1n }, cyclic, Symbol('sale'), () => 1]) {
      await expect(queue.send({ path: '/sales', body })).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        details: { field: 'body' },
      });
    }
    expect(await queue.list()).toEqual([]);
    await queue.send({ path: '/sales', body: { item: 'coffee', quantity: 1 } });
    await queue.flush();
    expect(api.requests).toHaveLength(1);
  });

  it('refuses a temporaryId that createTemporaryId() did not make, or without temporaryIds', async () => {
    const { queue } = till({ temporaryIds: withIds });
    await expect(
      queue.send({ path: '/customers', body: {}, temporaryId: 'customer-1' }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message:
        'Invalid options for WriteQueue.send(): "temporaryId": expected a temporary id from createTemporaryId()',
      details: { field: 'temporaryId' },
    });
    await expect(
      queue.send({ path: '/customers', body: {}, temporaryId: 42 as never }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'temporaryId' } });
    const plain = till();
    await expect(
      plain.queue.send({ path: '/customers', body: {}, temporaryId: createTemporaryId() }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message:
        'Invalid options for WriteQueue.send(): "temporaryId": needs createWriteQueue({ temporaryIds: temporaryIdSupport() })',
      details: { field: 'temporaryId' },
    });
    expect(plain.api.requests).toHaveLength(0);
    expect(() => temporaryIdSupport({ readServerId: 'id' as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(isTemporaryId(createTemporaryId())).toBe(true);
    expect(isTemporaryId(`x${createTemporaryId()}`)).toBe(false);
  });
});
