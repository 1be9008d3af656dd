import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSystemObjectStorage } from '@ballast/adapters/fs';
import { ManualClock, MemoryObjectStorage } from '@ballast/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeObjectStorageContract } from './support/object-storage-contract.js';

describeObjectStorageContract(
  'MemoryObjectStorage',
  async () => {
    const storage = new MemoryObjectStorage();
    return { storage, send: (request) => storage.handlePresigned(request) };
  },
  { reportsChecksum: true },
);

describeObjectStorageContract(
  'FileSystemObjectStorage',
  async () => {
    const directory = await mkdtemp(join(tmpdir(), 'ballast-fs-contract-'));
    const storage = new FileSystemObjectStorage({ directory });
    return {
      storage,
      send: (request) => storage.handlePresigned(request),
      cleanup: () => rm(directory, { recursive: true, force: true }),
    };
  },
  { reportsChecksum: true },
);

describe('local stores: the options bag of every call', () => {
  it('answers a null bag, a signal that is no AbortSignal and a non-string prefix with INVALID_OPTIONS naming the method', async () => {
    // Each threw a raw TypeError ("Cannot read properties of null"); a list prefix of 5 named
    // compareObjectKeys(), and a string signal was silently ignored.
    const directory = await mkdtemp(join(tmpdir(), 'ballast-fs-options-'));
    try {
      const fs = new FileSystemObjectStorage({ directory });
      for (const storage of [new MemoryObjectStorage(), fs]) {
        await storage.put('k', 'x');
        const calls: Array<[string, () => Promise<unknown>]> = [
          ['put()', () => storage.put('k2', 'x', null as never)],
          ['get()', () => storage.get('k', null as never)],
          ['head()', () => storage.head('k', null as never)],
          ['delete()', () => storage.delete('k', null as never)],
          ['list()', () => storage.list(null as never)],
          ['move()', () => storage.move('k', 'k3', null as never)],
          ['list()', () => storage.list({ signal: 'x' as never })],
          ['put()', () => storage.put('k4', 'x', { signal: {} as never })],
          ['list()', () => storage.list({ prefix: 5 as never })],
          ['list()', () => storage.list({ cursor: 5 as never })],
        ];
        if (storage === fs) {
          calls.push([
            'removeStaleTemporaryFiles()',
            () => fs.removeStaleTemporaryFiles(null as never),
          ]);
        }
        for (const [method, call] of calls) {
          await expect(call(), method).rejects.toMatchObject({
            code: 'INVALID_OPTIONS',
            message: expect.stringContaining(method),
          });
        }
        expect((await storage.list()).objects.map((o) => o.key)).toEqual(['k']);
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('FileSystemObjectStorage on disk', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ballast-fs-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('moves of one source racing each other: one wins, the others find no source or a taken target', async () => {
    // Two confirmations of one signed upload promote the same staged object at once.
    const raceDirectory = await mkdtemp(join(tmpdir(), 'ballast-fs-race-'));
    const storage = new FileSystemObjectStorage({ directory: raceDirectory });
    for (let round = 0; round < 25; round++) {
      await storage.put(`staged/${round}`, 'bytes');
      const outcomes = await Promise.allSettled(
        Array.from({ length: 6 }, () => storage.move(`staged/${round}`, `final/${round}`)),
      );
      // An unexpected code carries its cause's (`STORAGE_UNAVAILABLE:ENOENT`), to say which
      // step of the move lost the race.
      const codes = outcomes.map((outcome) => {
        if (outcome.status === 'fulfilled') return 'moved';
        const { code, cause } = outcome.reason as { code?: string; cause?: { code?: string } };
        return code === 'STORAGE_UNAVAILABLE' ? `${code}:${cause?.code}` : code;
      });
      expect(codes.filter((code) => code === 'moved')).toHaveLength(1);
      for (const code of codes)
        expect(['moved', 'OBJECT_NOT_FOUND', 'PRECONDITION_FAILED']).toContain(code);
    }
    expect((await storage.list({ prefix: 'staged/' })).objects).toEqual([]);
    expect((await storage.list({ prefix: 'final/' })).objects).toHaveLength(25);
    await rm(raceDirectory, { recursive: true, force: true });
  });

  it('keeps every key inside its directory, whatever the key says', async () => {
    const root = join(directory, 'escape');
    const storage = new FileSystemObjectStorage({ directory: root });
    const keys = ['../outside', '../../etc/passwd', 'a/../../b', '/abs', '.hidden', 'a\\..\\b'];
    for (const key of keys) await storage.put(key, key);
    expect((await readdir(directory)).sort()).toEqual(['escape']);
    const listed = (await storage.list()).objects.map((o) => o.key);
    expect(listed.sort()).toEqual([...keys].sort());
    for (const key of keys)
      expect(await new Response((await storage.get(key))!.body).text()).toBe(key);
  });

  it('rejects keys a file system cannot hold, lone surrogates included, with INVALID_KEY', async () => {
    const storage = new FileSystemObjectStorage({ directory: join(directory, 'invalid') });
    for (const key of ['', 'x'.repeat(300), 'nul\u0000byte', '\ud800', 'a/\udfff/b']) {
      for (const call of [
        () => storage.put(key, 'x'),
        () => storage.get(key),
        () => storage.head(key),
        () => storage.delete(key),
        () => storage.presignPut(key, { expiresInSeconds: 60 }),
      ]) {
        await expect(call()).rejects.toMatchObject({
          code: 'INVALID_KEY',
          status: 400,
          details: { field: 'key' },
        });
      }
    }
  });

  it('never follows a symbolic link inside its directory to a file or directory outside it', async () => {
    const outside = join(directory, 'outside');
    await mkdir(outside, { recursive: true });
    await writeFile(join(outside, 'secret'), 'outside secret');
    const root = join(directory, 'links');
    const storage = new FileSystemObjectStorage({ directory: root });
    await storage.put('kept', 'inside');
    // What an attacker with write access to the directory (or a careless deploy) could plant.
    await symlink(join(outside, 'secret'), join(root, 'file-link'));
    await symlink(outside, join(root, 'dir~'));
    for (const key of ['file-link', 'dir/secret']) {
      expect(await storage.head(key)).toBeUndefined();
      expect(await storage.get(key)).toBeUndefined();
    }
    expect((await storage.list()).objects.map((o) => o.key)).toEqual(['kept']);
    await expect(storage.put('dir/planted', 'x')).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
      retryable: false,
    });
    await storage.delete('dir/secret');
    expect((await readdir(outside)).sort()).toEqual(['secret']);
    expect(await readFile(join(outside, 'secret'), 'utf8')).toBe('outside secret');
  });

  it('removes temporary files of interrupted writes once older than the grace period', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const root = join(directory, 'stale');
    await new FileSystemObjectStorage({ directory: root, clock }).put('a', 'kept');
    const temp = join(root, '.ballast-tmp');
    const hourAgo = new Date(clock.now() - 3_600_000);
    await writeFile(join(temp, 'crashed-old'), 'half an object');
    await utimes(join(temp, 'crashed-old'), hourAgo, hourAgo);
    await writeFile(join(temp, 'in-progress'), 'a write still running');
    const recent = new Date(clock.now() - 60_000);
    await utimes(join(temp, 'in-progress'), recent, recent);
    // Opening a store and writing sweeps once; the write in progress is left alone.
    const reopened = new FileSystemObjectStorage({ directory: root, clock });
    await reopened.put('b', 'new');
    expect(await readdir(temp)).toEqual(['in-progress']);
    await clock.advance(3_600_000);
    expect(await reopened.removeStaleTemporaryFiles()).toBe(1);
    expect(await readdir(temp)).toEqual([]);
    expect((await reopened.list()).objects.map((o) => o.key)).toEqual(['a', 'b']);
  });

  it('skips names it never writes instead of failing the listing', async () => {
    const root = join(directory, 'foreign');
    const storage = new FileSystemObjectStorage({ directory: root });
    await storage.put('ok', 'x');
    await writeFile(join(root, '%E0%A4%A'), 'not percent-encoding');
    expect((await storage.list()).objects.map((o) => o.key)).toEqual(['ok']);
  });

  it('skips a file without a trailer it wrote instead of failing the listing', async () => {
    // Notes dropped into the directory whose last eight bytes happen to read as hex: the
    // listing failed (STORAGE_UNAVAILABLE, a SyntaxError) and every reconciliation pass with it.
    const root = join(directory, 'foreign-trailer');
    const storage = new FileSystemObjectStorage({ directory: root });
    await storage.put('ok', 'x');
    await writeFile(join(root, 'notes'), 'not json here!0000000e');
    await writeFile(join(root, 'number'), '1234567800000008');
    expect((await storage.list()).objects.map((o) => o.key)).toEqual(['ok']);
    expect(await storage.head('notes')).toBeUndefined();
    expect(await storage.get('number')).toBeUndefined();
  });

  it('persists across instances and ignores leftovers of a crashed write', async () => {
    const root = join(directory, 'persist');
    await new FileSystemObjectStorage({ directory: root }).put('docs/a.txt', 'kept');
    // A crash between writing the temporary file and the rename leaves this behind.
    await writeFile(join(root, '.ballast-tmp', 'crashed-write'), 'half an object');
    const reopened = new FileSystemObjectStorage({ directory: root });
    expect((await reopened.list()).objects.map((o) => o.key)).toEqual(['docs/a.txt']);
    expect(await new Response((await reopened.get('docs/a.txt'))!.body).text()).toBe('kept');
  });

  it('stamps lastModified from its clock, so grace periods follow a ManualClock', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const storage = new FileSystemObjectStorage({ directory: join(directory, 'clock'), clock });
    const info = await storage.put('k', 'x');
    expect(info.lastModified).toBe(Date.UTC(2030, 0, 1));
    expect((await storage.list()).objects[0]?.lastModified).toBe(Date.UTC(2030, 0, 1));
  });

  it('removes directories a delete emptied and keeps the rest', async () => {
    const root = join(directory, 'tidy');
    const storage = new FileSystemObjectStorage({ directory: root });
    await storage.put('a/b/c', '1');
    await storage.put('a/d', '2');
    await storage.delete('a/b/c');
    expect((await readdir(join(root, 'a~'))).sort()).toEqual(['d']);
    expect((await storage.list()).objects.map((o) => o.key)).toEqual(['a/d']);
  });

  it('writes concurrently to the same key atomically: one whole version wins', async () => {
    const storage = new FileSystemObjectStorage({ directory: join(directory, 'race') });
    const versions = Array.from({ length: 20 }, (_, i) => `version-${i}-`.repeat(500));
    await Promise.all(versions.map((v) => storage.put('same', v)));
    const text = await new Response((await storage.get('same'))!.body).text();
    expect(versions).toContain(text);
    expect((await readdir(join(directory, 'race', '.ballast-tmp'))).length).toBe(0);
  });

  it('rejects an expired presigned URL with 403', async () => {
    const clock = new ManualClock(1_000_000);
    const storage = new FileSystemObjectStorage({ directory: join(directory, 'expiry'), clock });
    const put = await storage.presignPut('late', { expiresInSeconds: 60 });
    await clock.advance(60_000);
    const response = await storage.handlePresigned(
      new Request(put.url, { method: 'PUT', body: 'x' }),
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'SIGNATURE_EXPIRED' });
    expect(await storage.head('late')).toBeUndefined();
  });
});
