/**
 * Every public factory of the client refuses unknown option keys, wrong types and missing
 * arguments with `INVALID_OPTIONS` naming the function, instead of a `TypeError` from deep
 * inside or an option silently ignored.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
  createClient,
  createConnectivity,
  createIndexedDbQueueStorage,
  createReadCache,
  createUploadQueue,
  createWriteQueue,
  mergeChanges,
  temporaryIdSupport,
  uploadFile,
} from './index.js';

const client = createClient({
  baseUrl: 'http://api.test',
  fetch: (async () => Response.json({})) as typeof fetch,
});

async function refusal(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  return undefined;
}

const cases: [string, string, () => unknown][] = [
  ['createClient', 'unknown key', () => createClient({ baseURL: 'http://x' } as never)],
  ['createClient', 'null', () => createClient(null as never)],
  ['createClient', 'retry unknown key', () => createClient({ retry: { read: 1 } } as never)],
  ['createConnectivity', 'unknown key', () => createConnectivity({ pingUrl: '/h' } as never)],
  ['createConnectivity', 'null', () => createConnectivity(null as never)],
  ['createWriteQueue', 'missing', () => (createWriteQueue as (o?: unknown) => unknown)()],
  [
    'createWriteQueue',
    'unknown key',
    () => createWriteQueue({ client, storage: 'memory', retries: 3 } as never),
  ],
  ['createReadCache', 'missing', () => (createReadCache as (o?: unknown) => unknown)()],
  ['createReadCache', 'unknown key', () => createReadCache({ client, ttlMs: 5 } as never)],
  ['createUploadQueue', 'missing', () => (createUploadQueue as (o?: unknown) => unknown)()],
  [
    'createUploadQueue',
    'unknown key',
    () =>
      createUploadQueue({
        requestUrl: '/u',
        confirmUrl: '/c',
        client,
        storage: 'memory',
        maxSize: 1,
      } as never),
  ],
  [
    'uploadFile',
    'missing options',
    () => (uploadFile as (f: Blob, o?: unknown) => unknown)(new Blob(['x'])),
  ],
  [
    'uploadFile',
    'unknown key',
    () => uploadFile(new Blob(['x']), { requestUrl: '/u', confirmUrl: '/c', url: '/x' } as never),
  ],
  [
    'uploadFile',
    'not a file',
    () => uploadFile('x' as never, { requestUrl: '/u', confirmUrl: '/c' }),
  ],
  ['temporaryIdSupport', 'unknown key', () => temporaryIdSupport({ readId: () => 1 } as never)],
  ['temporaryIdSupport', 'null', () => temporaryIdSupport(null as never)],
  [
    'createIndexedDbQueueStorage',
    'unknown key',
    () => createIndexedDbQueueStorage({ db: 'x' } as never),
  ],
  ['createIndexedDbQueueStorage', 'an empty name', () => createIndexedDbQueueStorage('')],
  ['mergeChanges', 'unknown key', () => mergeChanges({ field: 'x' } as never)],
];

describe('client option validation', () => {
  it.each(cases)('%s with %s → INVALID_OPTIONS naming it', async (name, _label, run) => {
    const error = await refusal(run);
    expect(error, String(error)).toMatchObject({ code: 'INVALID_OPTIONS' });
    expect((error as Error).message).toContain(`${name}()`);
  });
});
