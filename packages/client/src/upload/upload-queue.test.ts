import 'fake-indexeddb/auto';
import { BallastError, type Clock, ManualClock } from '@ballast/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createFakeUploadServer,
  type FakeUploadServer,
} from '../../test/support/fake-upload-server.js';
import { createClient } from '../fetch/create-client.js';
import { createMemoryQueueStorage } from '../queue/queue-storage.js';
import { createUploadQueue, type UploadQueue } from './upload-queue.js';
import type { UploadQueueOptions } from './upload-queue-options.js';

const open: UploadQueue[] = [];
afterEach(() => {
  for (const queue of open.splice(0)) queue.close();
});

const bytes = new TextEncoder().encode('photo of a delivery note '.repeat(100));
const photo = () => new File([bytes], 'note.jpg', { type: 'image/jpeg' });

function queueFor(server: FakeUploadServer, options: Partial<UploadQueueOptions> = {}) {
  const queue = createUploadQueue({
    client: createClient({ baseUrl: 'http://api.test', fetch: server.fetch, retry: { writes: 0 } }),
    requestUrl: '/uploads',
    confirmUrl: '/uploads/confirm',
    fetch: server.fetch,
    transport: 'fetch',
    retries: 0,
    retryDelaysMs: [60_000],
    storage: 'memory',
    ...options,
  });
  open.push(queue);
  return queue;
}

async function confirmedObjects(server: FakeUploadServer) {
  return server.storage.keys().filter((key) => !key.includes('.upload-'));
}

describe('createUploadQueue', () => {
  it.each([
    ['fields', { fields: { album: 'Notes', onDone: () => undefined } }],
    ['fields', { fields: { tag: Symbol('till') } }],
    ['meta', { meta: { label: 'Note', photo: new Map([['a', () => 1]]) } }],
    [
      'meta',
      {
        meta: {
          owner: new (class Owner {
            greet = () => 'hi';
          })(),
        },
      },
    ],
    ['meta', { meta: { pending: Promise.resolve(1) } }],
    ['fields', { fields: { count: 10n } }],
  ] as const)(
    'add() refuses %s holding what IndexedDB cannot store, naming the field',
    async (field, extra) => {
      const server = createFakeUploadServer();
      const queue = queueFor(server);
      const error = await queue.add(photo(), extra as never).catch((e) => e);
      expect(error).toBeInstanceOf(BallastError);
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS', details: { field } });
      expect(error.message).toContain('UploadQueue.add()');
      expect(await queue.list()).toEqual([]);
    },
  );

  it('takes a round backing off up at its backoff when the clock is set back, not hours later', async () => {
    const server = createFakeUploadServer();
    // Timers count elapsed time, as the platform's do, while the wall clock is set back.
    const timers = new ManualClock(1_000_000_000);
    let setBackBy = 0;
    const clock: Clock = {
      now: () => timers.now() - setBackBy,
      sleep: (ms, signal) => timers.sleep(ms, signal),
      setTimer: (callback, ms) => timers.setTimer(callback, ms),
    };
    server.online = false;
    const queue = queueFor(server, { clock });
    await queue.add(photo());
    await vi.waitFor(async () =>
      expect(await queue.list()).toMatchObject([{ state: 'pending', attempts: 1 }]),
    );
    setBackBy = 3 * 3_600_000;
    server.online = true;
    await timers.advance(60_000); // the backoff's timer
    await vi.waitFor(() => expect(queue.counts.total).toBe(0));
    expect(server.calls.confirm).toBe(1);
  });

  it('stores a file added offline and uploads it once the network returns', async () => {
    const server = createFakeUploadServer();
    server.online = false;
    const queue = queueFor(server);
    const uploaded: unknown[] = [];
    queue.on('uploaded', ({ data }) => uploaded.push(data));
    const { id } = await queue.add(photo(), { meta: { label: 'Delivery note' } });
    await queue.flush();
    expect(queue.counts).toEqual({ pending: 1, failed: 0, total: 1 });
    const [stored] = await queue.list();
    expect(stored).toMatchObject({ id, name: 'note.jpg', size: bytes.length, state: 'pending' });

    server.online = true;
    await queue.flush();
    expect(uploaded).toEqual([expect.objectContaining({ status: 'active' })]);
    expect(queue.counts).toEqual({ pending: 0, failed: 0, total: 0 });
    expect(server.calls.confirm).toBe(1);
    expect(await confirmedObjects(server)).toHaveLength(1);
  });

  it('survives a reload: the file stored in IndexedDB is uploaded by the next page, once', async () => {
    const server = createFakeUploadServer();
    server.online = false;
    const name = `uploads-${crypto.randomUUID()}`;
    const before = queueFor(server, { storage: 'indexeddb', name });
    await before.add(photo());
    await before.flush();
    before.close();

    server.online = true;
    const after = queueFor(server, { storage: 'indexeddb', name });
    await after.ready;
    await after.flush();
    expect(after.counts.total).toBe(0);
    const [key] = await confirmedObjects(server);
    const object = await server.storage.get(key ?? '');
    expect(new Uint8Array(await new Response(object?.body).arrayBuffer())).toEqual(bytes);
    expect(server.calls.confirm).toBe(1);
  });

  it('a refused upload is failed with the server message; retry sends it under a new key', async () => {
    const server = createFakeUploadServer();
    const storage = createMemoryQueueStorage();
    const refusing = queueFor(server, { storage, requestUrl: '/nowhere' });
    const failures: string[] = [];
    refusing.on('failed', ({ error }) => failures.push(error.code));
    const { id } = await refusing.add(photo());
    await refusing.flush();
    expect(failures).toEqual(['NOT_FOUND']);
    const [failed] = await refusing.list();
    expect(failed).toMatchObject({
      id,
      state: 'failed',
      error: { code: 'NOT_FOUND', status: 404 },
    });
    refusing.close();

    const fixed = queueFor(server, { storage });
    await fixed.retry(id);
    expect(fixed.counts.total).toBe(0);
    expect(await confirmedObjects(server)).toHaveLength(1);
  });

  it('reports progress per upload and removes an upload on request', async () => {
    const server = createFakeUploadServer();
    const queue = queueFor(server);
    const progress: number[] = [];
    queue.on('progress', ({ loaded }) => progress.push(loaded));
    await queue.add(photo());
    await queue.flush();
    expect(progress).toEqual([0, bytes.length]);

    server.online = false;
    const { id } = await queue.add(photo());
    expect(await queue.remove(id)).toBe(true);
    expect(await queue.remove(id)).toBe(false);
    expect(queue.counts.total).toBe(0);
  });

  it('remove() stops an upload in flight, and it does not come back as failed', async () => {
    const server = createFakeUploadServer();
    const stalled: typeof fetch = async (input, init) => {
      if (String(input).startsWith('memory://')) {
        await new Promise((_, reject) =>
          init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))),
        );
      }
      return server.fetch(input, init);
    };
    const queue = queueFor(server, { fetch: stalled });
    const failed: unknown[] = [];
    queue.on('failed', (event) => failed.push(event));
    const { id } = await queue.add(photo());
    await vi.waitFor(async () => expect((await queue.list())[0]?.state).toBe('uploading'));
    expect(await queue.remove(id)).toBe(true);
    await queue.flush();
    expect(await queue.list()).toEqual([]);
    expect(failed).toEqual([]);
    expect(server.calls.confirm).toBe(0);
  });

  it('refuses wrong options and a file that is not a Blob', async () => {
    expect(() => createUploadQueue({ requestUrl: '/u' } as UploadQueueOptions)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    const queue = queueFor(createFakeUploadServer());
    await expect(queue.add('x' as unknown as Blob)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      details: { field: 'file' },
    });
  });
});
