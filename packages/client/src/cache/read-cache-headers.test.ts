/**
 * The read cache never answers one request with what another got: answers kept for a request
 * with its own headers (another user's `authorization`, another tenant) are only served to a
 * request with the same headers, and are found by `peek` only with those headers.
 */
import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { createClient } from '../fetch/create-client.js';
import { createReadCache } from './read-cache.js';

function setup() {
  let online = true;
  const fetchImpl = (async (_input: RequestInfo | URL, init?: RequestInit) => {
    if (!online) throw new TypeError('Failed to fetch');
    const who = new Headers(init?.headers).get('authorization') ?? 'nobody';
    return Response.json({ account: who });
  }) as typeof fetch;
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch: fetchImpl,
    retry: { reads: 0 },
  });
  const cache = createReadCache({ client, storage: 'memory', clock: new ManualClock(1_000) });
  return { cache, goOffline: () => (online = false) };
}

describe('createReadCache and request headers', () => {
  it('does not serve an answer kept for one authorization to another', async () => {
    const { cache, goOffline } = setup();
    const ana = { headers: { authorization: 'Bearer ana' } };
    const bob = { headers: { authorization: 'Bearer bob' } };
    expect((await cache.get('/account', ana)).data).toEqual({ account: 'Bearer ana' });
    goOffline();
    await expect(cache.get('/account', bob)).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    await expect(cache.get('/account')).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(await cache.get('/account', ana)).toMatchObject({
      fromCache: true,
      data: { account: 'Bearer ana' },
    });
    expect(await cache.peek('/account')).toBeUndefined();
    expect(await cache.peek('/account', bob)).toBeUndefined();
    expect(await cache.peek('/account', ana)).toMatchObject({ data: { account: 'Bearer ana' } });
  });

  it('header names are case-insensitive and their order does not matter', async () => {
    const { cache, goOffline } = setup();
    await cache.get('/account', { headers: { Authorization: 'Bearer ana', 'X-Tenant': 't1' } });
    goOffline();
    expect(
      await cache.get('/account', { headers: { 'x-tenant': 't1', authorization: 'Bearer ana' } }),
    ).toMatchObject({ fromCache: true });
    await expect(
      cache.get('/account', { headers: { 'x-tenant': 't2', authorization: 'Bearer ana' } }),
    ).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
  });
});
