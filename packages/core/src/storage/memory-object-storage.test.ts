import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { LocalPresigner } from './local-presigner.js';
import { MemoryObjectStorage } from './memory-object-storage.js';

describe('MemoryObjectStorage', () => {
  it('stamps lastModified from its clock and reports a SHA-256 checksum', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const storage = new MemoryObjectStorage({ clock });
    const info = await storage.put('a', 'abc');
    expect(info.lastModified).toBe(1_700_000_000_000);
    // SHA-256("abc"), base64.
    expect(info.checksumSha256).toBe('ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=');
    expect(info.etag).toBe('"ba7816bf8f01cfea414140de5dae2223"');
  });

  it('keeps its own copy of a byte body', async () => {
    const storage = new MemoryObjectStorage();
    const bytes = new Uint8Array([1, 2, 3]);
    await storage.put('k', bytes);
    bytes[0] = 9;
    const stored = await storage.get('k');
    expect([...new Uint8Array(await new Response(stored!.body).arrayBuffer())]).toEqual([1, 2, 3]);
  });

  it('lists keys and counts objects for assertions', async () => {
    const storage = new MemoryObjectStorage();
    await storage.put('b', 'x');
    await storage.put('a', 'x');
    await storage.put('a', 'y');
    expect(storage.keys()).toEqual(['a', 'b']);
    expect(storage.objectCount).toBe(2);
    await storage.delete('a');
    expect(storage.keys()).toEqual(['b']);
  });

  it('serves presigned requests only for its own URLs, the signed method and content type, until expiry', async () => {
    const clock = new ManualClock(0);
    const storage = new MemoryObjectStorage({ clock, bucket: 'uploads' });
    const other = new MemoryObjectStorage({ clock, bucket: 'uploads' });
    const put = await storage.presignPut('docs/a b.pdf', {
      expiresInSeconds: 60,
      contentType: 'application/pdf',
    });
    expect(put.url.startsWith('memory://uploads/docs/a%20b.pdf?')).toBe(true);
    expect(put.expiresAt).toBe(60_000);
    const send = (target: MemoryObjectStorage, url: string, init: RequestInit) =>
      target.handlePresigned(new Request(url, init));

    expect(
      (await send(other, put.url, { method: 'PUT', headers: put.headers, body: 'x' })).status,
    ).toBe(403);
    expect(
      (
        await send(storage, put.url, {
          method: 'PUT',
          headers: { 'content-type': 'text/html' },
          body: 'x',
        })
      ).status,
    ).toBe(403);
    expect((await send(storage, put.url, { method: 'GET' })).status).toBe(403);
    const ok = await send(storage, put.url, { method: 'PUT', headers: put.headers, body: 'pdf' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toMatch(/^"[0-9a-f]{32}"$/);
    expect(await storage.head('docs/a b.pdf')).toMatchObject({
      size: 3,
      contentType: 'application/pdf',
    });

    const get = await storage.presignGet('docs/a b.pdf', { expiresInSeconds: 30 });
    const missing = await storage.presignGet('docs/none', { expiresInSeconds: 30 });
    expect((await send(storage, missing.url, { method: 'GET' })).status).toBe(404);
    await clock.advance(30_000);
    const late = await send(storage, get.url, { method: 'GET' });
    expect(late.status).toBe(403);
    expect(await late.json()).toMatchObject({ code: 'SIGNATURE_EXPIRED' });
  });

  it('answers a presigned PUT whose body broke off with 499 ABORTED, storing nothing', async () => {
    // The uploader's connection dropped mid-PUT: its doing, not the storage failing (was a 500).
    const storage = new MemoryObjectStorage();
    const { url, headers } = await storage.presignPut('docs/a', { expiresInSeconds: 60 });
    let chunks = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (chunks++ === 0) controller.enqueue(new Uint8Array(4));
        else controller.error(new Error('connection reset'));
      },
    });
    const response = await storage.handlePresigned(
      new Request(url, { method: 'PUT', headers, body, duplex: 'half' } as RequestInit),
    );
    expect(response.status).toBe(499);
    expect(await response.json()).toMatchObject({ code: 'ABORTED' });
    expect(storage.keys()).toEqual([]);
  });

  it('rejects presign lifetimes outside 1 s..7 days', async () => {
    const storage = new MemoryObjectStorage();
    for (const expiresInSeconds of [0, 1.5, 8 * 24 * 3600]) {
      await expect(storage.presignPut('k', { expiresInSeconds })).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        details: { field: 'expiresInSeconds' },
      });
    }
  });
});

describe('LocalPresigner', () => {
  it('verifies URLs signed with a shared secret across instances', async () => {
    const secret = 'shared-secret-shared-secret-shared-secret';
    const a = new LocalPresigner({ baseUrl: 'memory://x', secret });
    const b = new LocalPresigner({ baseUrl: 'memory://x', secret });
    const url = (await a.presign('GET', 'k/ü', { expiresInSeconds: 10 })).url;
    expect(await b.verify(url, 'GET')).toMatchObject({ method: 'GET', key: 'k/ü' });
    await expect(b.verify(url.replace('k/', 'j/'), 'GET')).rejects.toMatchObject({
      code: 'SIGNATURE_INVALID',
    });
  });

  it('signs URLs that survive a URL parser for keys with . and .. segments', async () => {
    // fetch and new Request() resolve dot segments: "a/../b" reached the store as "b", whose
    // signature never matched, so a valid key's presigned PUT was refused with 403 every time.
    const storage = new MemoryObjectStorage();
    const keys = ['cases/../x', 'a/./b', '..', '.', 'a/..;', 'x/%2e%2e/y'];
    for (const key of keys) {
      const put = await storage.presignPut(key, { expiresInSeconds: 60 });
      const request = new Request(put.url, { method: 'PUT', headers: put.headers, body: key });
      expect((await storage.handlePresigned(request)).status, key).toBe(200);
      const get = await storage.presignGet(key, { expiresInSeconds: 60 });
      const served = await storage.handlePresigned(new Request(get.url));
      expect(await served.text(), key).toBe(key);
    }
    expect(storage.keys().sort()).toEqual([...keys].sort());
  });

  it('reads a PUT body no further than the signed length, or maxBodyBytes when none was signed', async () => {
    // The whole body was read into memory before any length check: one URL, one endless upload.
    const storage = new MemoryObjectStorage();
    const presigner = new LocalPresigner({ baseUrl: 'memory://x', maxBodyBytes: 1024 });
    let pulled = 0;
    const endless = () =>
      new ReadableStream<Uint8Array>({
        pull(controller) {
          pulled += 256;
          controller.enqueue(new Uint8Array(256));
        },
      });
    const put = (url: string, headers: Record<string, string>) =>
      presigner.serve(
        storage,
        new Request(url, {
          method: 'PUT',
          headers,
          body: endless(),
          duplex: 'half',
        } as RequestInit),
      );

    const unbound = await presigner.presign('PUT', 'a', { expiresInSeconds: 60 });
    const tooLarge = await put(unbound.url, unbound.headers);
    expect(tooLarge.status).toBe(413);
    expect(await tooLarge.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(pulled).toBeLessThanOrEqual(2048);

    pulled = 0;
    const bound = await presigner.presign('PUT', 'b', { expiresInSeconds: 60, contentLength: 10 });
    const longer = await put(bound.url, bound.headers);
    expect(longer.status).toBe(403);
    expect(await longer.json()).toMatchObject({ code: 'SIGNATURE_INVALID' });
    expect(pulled).toBeLessThanOrEqual(1024);
    expect(storage.keys()).toEqual([]);

    const exact = await presigner.presign('PUT', 'c', { expiresInSeconds: 60 });
    const body = new Uint8Array(1024);
    const stored = await presigner.serve(
      storage,
      new Request(exact.url, { method: 'PUT', headers: exact.headers, body }),
    );
    expect(stored.status).toBe(200);
    expect(() => new LocalPresigner({ baseUrl: 'memory://x', maxBodyBytes: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });

  it('rejects a base URL with a trailing slash', () => {
    expect(() => new LocalPresigner({ baseUrl: 'memory://x/' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        details: expect.objectContaining({ field: 'baseUrl' }),
      }),
    );
  });
});
