import 'fake-indexeddb/auto';
import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { createFakeApi } from '../../test/support/fake-api.js';
import { createClient } from '../fetch/create-client.js';
import { createReadCache, type ReadCacheOptions } from './read-cache.js';

function setup(options: Partial<ReadCacheOptions> = {}) {
  const api = createFakeApi();
  const clock = new ManualClock(1_000_000);
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch: api.fetch,
    retry: { reads: 0 },
  });
  const cache = createReadCache({ client, storage: 'memory', clock, ...options });
  return { api, clock, client, cache };
}

describe('createReadCache', () => {
  it('answers from the network, and from the last answer with its age when offline', async () => {
    const { api, clock, cache } = setup();
    const fresh = await cache.get('/health');
    expect(fresh).toEqual({
      data: { status: 'ok' },
      fromCache: false,
      storedAt: 1_000_000,
      ageMs: 0,
    });
    api.online = false;
    await clock.advance(12 * 60_000);
    expect(await cache.get('/health')).toEqual({
      data: { status: 'ok' },
      fromCache: true,
      storedAt: 1_000_000,
      ageMs: 12 * 60_000,
    });
    expect(await cache.peek('/health')).toMatchObject({ fromCache: true, ageMs: 12 * 60_000 });
  });

  it('serves the cache for a 5xx, never for a 4xx, and rethrows with nothing kept', async () => {
    const { api, cache } = setup();
    await expect(cache.get('/health')).resolves.toMatchObject({ fromCache: false });
    api.failNext(1, 503);
    await expect(cache.get('/health')).resolves.toMatchObject({ fromCache: true });
    await expect(cache.get('/missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    api.online = false;
    await expect(cache.get('/never-read')).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  });

  it('never serves an answer older than maxAgeMs, keeps at most maxEntries, clears', async () => {
    const { api, clock, cache } = setup({ maxAgeMs: 60_000, maxEntries: 1 });
    await cache.get('/health');
    await clock.advance(61_000);
    api.online = false;
    await expect(cache.get('/health')).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    api.online = true;
    await cache.get('/health');
    await cache.get('/health?probe=2');
    expect(await cache.peek('/health')).toBeUndefined();
    expect(await cache.peek('/health?probe=2')).toBeDefined();
    await cache.clear();
    expect(await cache.peek('/health?probe=2')).toBeUndefined();
  });

  it("does not keep a redirected answer (a captive portal's page) over the last good one", async () => {
    const api = createFakeApi();
    let behindPortal = false;
    const portalPage = () => {
      const page = new Response('<html>Sign in to Airport Wi-Fi</html>', {
        headers: { 'content-type': 'text/html' },
      });
      // What fetch resolves with after following the portal's 302 to its login page.
      Object.defineProperty(page, 'redirected', { value: true });
      return page;
    };
    const client = createClient({
      baseUrl: 'http://api.test',
      fetch: async (input, init) => (behindPortal ? portalPage() : api.fetch(input, init)),
      retry: { reads: 0 },
    });
    const cache = createReadCache({ client, storage: 'memory' });
    await cache.get('/health');
    behindPortal = true;
    await expect(cache.get('/health')).resolves.toMatchObject({
      data: '<html>Sign in to Airport Wi-Fi</html>',
      fromCache: false,
    });
    expect(await cache.peek('/health')).toMatchObject({ data: { status: 'ok' } });
    behindPortal = false;
    api.online = false;
    await expect(cache.get('/health')).resolves.toMatchObject({
      data: { status: 'ok' },
      fromCache: true,
    });
  });

  it('keeps answers in IndexedDB across instances (a reload)', async () => {
    const { api, client, clock } = setup();
    const name = `reads-${crypto.randomUUID()}`;
    await createReadCache({ client, clock, name, storage: 'indexeddb' }).get('/health');
    api.online = false;
    const reloaded = createReadCache({ client, clock, name, storage: 'indexeddb' });
    expect(await reloaded.get('/health')).toMatchObject({
      data: { status: 'ok' },
      fromCache: true,
    });
  });

  it('refuses wrong options and an empty path', async () => {
    expect(() => createReadCache({} as ReadCacheOptions)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    const { cache } = setup();
    await expect(cache.get('')).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });
});
