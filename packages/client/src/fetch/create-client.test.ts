import { BallastError, ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { createFakeApi } from '../../test/support/fake-api.js';
import { createClient } from './create-client.js';

const baseUrl = 'http://api.test';

function cyclicBody() {
  const body: Record<string, unknown> = {};
  body.self = body;
  return body;
}

describe('createClient', () => {
  it('sends JSON and parses JSON answers, adding an Idempotency-Key to writes', async () => {
    const api = createFakeApi();
    const client = createClient({ baseUrl, fetch: api.fetch });
    const sale = await client.post<{ id: number }>('/sales', { item: 'coffee', quantity: 1 });
    expect(sale.id).toBe(1);
    expect(api.requests[0]?.key).toMatch(/^"[0-9a-f-]{36}"$/);
  });

  it('resolves an empty answer (204, or 200 with no body) with undefined data', async () => {
    const answers = [new Response(null, { status: 204 }), new Response('', { status: 200 })];
    const client = createClient({
      baseUrl,
      fetch: async () => answers.shift() ?? new Response(null, { status: 500 }),
    });
    await expect(client.request('/a', { method: 'DELETE' })).resolves.toMatchObject({
      status: 204,
      data: undefined,
    });
    await expect(client.get('/b')).resolves.toBeUndefined();
  });

  it('turns a problem+json answer into a BallastError with the server message and extensions', async () => {
    const api = createFakeApi();
    const client = createClient({ baseUrl, fetch: api.fetch });
    const error = await client
      .patch<never>('/products/p1', { priceCents: 1 }, { ifMatch: 0 })
      .catch((e: unknown) => e as BallastError);
    expect(error).toBeInstanceOf(BallastError);
    expect(error).toMatchObject({ code: 'PRECONDITION_FAILED', status: 412 });
    expect(error.message).toBe('This record changed since you loaded it.');
    expect(error.details).toMatchObject({ currentVersion: 1, current: { name: 'Coffee' } });
    expect(api.requests[0]?.ifMatch).toBe('"0"');
  });

  it('maps a non-problem error page from its status and never uses its text as a message', async () => {
    const client = createClient({
      baseUrl,
      fetch: async () => new Response('<html>Bad gateway at 10.0.0.3</html>', { status: 404 }),
    });
    const error = await client.get<never>('/x').catch((e: unknown) => e as BallastError);
    expect(error).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect(error.message).not.toContain('10.0.0.3');
  });

  it('retries a read twice with backoff on 5xx, then succeeds', async () => {
    const api = createFakeApi();
    api.failNext(2);
    const clock = new ManualClock();
    const client = createClient({ baseUrl, fetch: api.fetch, clock, random: () => 0 });
    const result = client.request('/health');
    await clock.advance(500); // equal jitter with random 0: half of 1 s
    await clock.advance(1_000); // half of 2 s
    await expect(result).resolves.toMatchObject({ status: 200 });
    expect(api.requests).toHaveLength(3);
  });

  it('retries a read on 408 and 429 but not on another 4xx, and never after its own signal aborts', async () => {
    const statuses: number[] = [];
    const answers = [408, 429, 200, 422];
    const client = createClient({
      baseUrl,
      retry: { delaysMs: [0] },
      fetch: async () => {
        const status = answers.shift() ?? 500;
        statuses.push(status);
        return Response.json(status === 200 ? {} : null, { status });
      },
    });
    await expect(client.get('/a')).resolves.toEqual({});
    await expect(client.get('/b')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(statuses).toEqual([408, 429, 200, 422]);
    const controller = new AbortController();
    controller.abort();
    await expect(client.get('/c', { signal: controller.signal })).rejects.toMatchObject({
      code: 'ABORTED',
    });
    expect(statuses).toHaveLength(5);
  });

  it('retries a write once with the same Idempotency-Key, so the server records it once', async () => {
    const api = createFakeApi();
    api.failNext(1);
    const clock = new ManualClock();
    const client = createClient({ baseUrl, fetch: api.fetch, clock, random: () => 0 });
    const result = client.post('/sales', { item: 'tea', quantity: 2 });
    await clock.advance(500);
    await expect(result).resolves.toMatchObject({ id: 1 });
    expect(api.requests.map((request) => request.key)).toEqual([
      api.requests[0]?.key,
      api.requests[0]?.key,
    ]);
    expect(api.sales).toHaveLength(1);
  });

  it('never retries a write sent without a key', async () => {
    const api = createFakeApi();
    api.failNext(1);
    const client = createClient({ baseUrl, fetch: api.fetch });
    await expect(
      client.post('/sales', { quantity: 1 }, { idempotencyKey: false }),
    ).rejects.toMatchObject({
      code: 'UPSTREAM_ERROR',
    });
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]?.key).toBeNull();
  });

  it('honours Retry-After as the least wait, and gives up at once past maxRetryAfterMs', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const client = createClient({
      baseUrl,
      clock,
      random: () => 0,
      retry: { maxRetryAfterMs: 10_000 },
      fetch: async () => {
        calls += 1;
        return new Response(null, {
          status: 429,
          headers: { 'retry-after': calls === 1 ? '3' : '60' },
        });
      },
    });
    const result = client.get<never>('/x').catch((e: unknown) => e as BallastError);
    await clock.advance(2_999);
    expect(calls).toBe(1);
    await clock.advance(1);
    expect(calls).toBe(2);
    expect(await result).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterMs: 60_000 } });
  });

  it('times an attempt out with TIMEOUT and reports failures and answers to connectivity', async () => {
    const clock = new ManualClock();
    const reports: string[] = [];
    const client = createClient({
      baseUrl,
      clock,
      timeoutMs: 1_000,
      retry: { reads: 0 },
      connectivity: {
        reportSuccess: () => reports.push('ok'),
        reportFailure: () => reports.push('fail'),
      },
      fetch: (_url, init) =>
        new Promise((_resolve, reject) =>
          init?.signal?.addEventListener('abort', () =>
            reject(new DOMException('aborted', 'AbortError')),
          ),
        ),
    });
    const result = client.get<never>('/slow').catch((e: unknown) => e as BallastError);
    await clock.advance(1_000);
    expect(await result).toMatchObject({ code: 'TIMEOUT' });
    expect(reports).toEqual(['fail']);
  });

  it('rejects wrong options with INVALID_OPTIONS naming the field', () => {
    expect(() => createClient({ timeoutMs: -1 })).toThrow(/createClient\(\).*timeoutMs/);
    // A header every request would fail on is refused once, here.
    expect(() => createClient({ headers: { 'x bad': '1' } })).toThrow(/createClient\(\).*headers/);
    expect(() => createClient({ retries: 3 } as never)).toThrow(/unknown option/);
  });

  it.each([
    ['an unknown option', { retry: 2 }, 'retry'],
    ['a method that is not a token', { method: 'GET /admin' }, 'method'],
    ['a key with a line break', { idempotencyKey: 'a\r\nx-admin: 1' }, 'idempotencyKey'],
    ['a key longer than the server reads', { idempotencyKey: 'k'.repeat(256) }, 'idempotencyKey'],
    ['a version with a quote', { ifMatch: '1" , "2' }, 'ifMatch'],
    ['a negative timeout', { timeoutMs: -1 }, 'timeoutMs'],
    ['a retry storm', { retries: 1_000 }, 'retries'],
    ['a signal that is not one', { signal: {} }, 'signal'],
    ['headers with a non-string value', { headers: { 'x-n': 1 } }, 'headers'],
    ['a header name that is not a token', { headers: { 'x bad': '1' } }, 'headers'],
    ['a header value with a line break', { headers: { 'x-a': '1\r\nx-admin: 1' } }, 'headers'],
    ['a header value with a NUL', { headers: { 'x-a': 'a\u0000' } }, 'headers'],
    ['a header value beyond Latin-1', { headers: { 'x-a': '\u20ac' } }, 'headers'],
    ['a body JSON cannot encode (BigInt)', { body: { amount: 1n } }, 'body'],
    ['a body JSON cannot encode (cycle)', { body: cyclicBody() }, 'body'],
    ['a body JSON cannot encode (Symbol)', { body: Symbol('sale') }, 'body'],
    ['a body JSON cannot encode (function)', { body: () => 1 }, 'body'],
  ])(
    'refuses %s in a call with INVALID_OPTIONS, before sending anything',
    async (_, options, field) => {
      const api = createFakeApi();
      const client = createClient({ baseUrl, fetch: api.fetch });
      const error = await client
        .request('/sales', { method: 'POST', body: {}, ...options } as never)
        .then(
          () => undefined,
          (e: unknown) => e as BallastError,
        );
      expect(error).toBeInstanceOf(BallastError);
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS', details: { field } });
      expect(error?.message).toContain('request()');
      expect(api.requests).toHaveLength(0);
    },
  );

  it('refuses a body on GET or HEAD with INVALID_OPTIONS, not a network error that marks the client offline', async () => {
    // fetch itself rejects such a request (a TypeError) before any network I/O.
    const reports: string[] = [];
    const client = createClient({
      baseUrl: 'http://127.0.0.1:9',
      retry: { reads: 0 },
      connectivity: {
        reportSuccess: () => reports.push('ok'),
        reportFailure: () => reports.push('fail'),
      },
    });
    for (const method of ['GET', 'head']) {
      const error = await client.request('/sales', { method, body: { a: 1 } }).catch((e) => e);
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'body' } });
    }
    expect(reports).toEqual([]);
  });

  it.each(['mailto:sales@example.com', 'sales:today', 'javascript:alert(1)'])(
    'refuses the path %s, which fetch could only reject as a network failure',
    async (path) => {
      const api = createFakeApi();
      const client = createClient({ baseUrl, fetch: api.fetch });
      await expect(client.post(path, {})).rejects.toMatchObject({
        code: 'INVALID_OPTIONS',
        details: { field: 'path' },
      });
      expect(api.requests).toHaveLength(0);
    },
  );

  it('refuses a relative path with no base URL outside a browser, naming path and baseUrl, instead of a network error', async () => {
    // Node has no page location to resolve `/sales` against: fetch would reject it as a TypeError.
    expect(globalThis.location).toBeUndefined();
    const reports: string[] = [];
    const connectivity = {
      reportSuccess: () => reports.push('ok'),
      reportFailure: () => reports.push('fail'),
    };
    for (const options of [{}, { baseUrl: '/api' }]) {
      const client = createClient({ ...options, connectivity, retry: { writes: 3 } });
      for (const path of ['/sales', 'sales']) {
        const error = (await client.post(path, {}).catch((e: unknown) => e)) as BallastError;
        expect(error).toBeInstanceOf(BallastError);
        expect(error).toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'path' } });
        expect(error.message).toMatch(/request\(\).*baseUrl/);
      }
    }
    expect(reports).toEqual([]);
    // A fetch of the caller's own may resolve relative paths itself (a framework's server fetch).
    const api = createFakeApi();
    const own = createClient({
      fetch: (input, init) => api.fetch(new URL(String(input), baseUrl), init),
    });
    await expect(own.get('/health')).resolves.toEqual({ status: 'ok' });
  });

  it('refuses a relative path the same way in Deno without --location, whose location getter throws', async () => {
    Object.defineProperty(globalThis, 'location', {
      configurable: true,
      get() {
        throw new ReferenceError('Access to "location", run again with --location <href>.');
      },
    });
    try {
      const error = await createClient()
        .post('/sales', {})
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'path' } });
    } finally {
      Reflect.deleteProperty(globalThis, 'location');
    }
  });

  it('takes every valid call option', async () => {
    const api = createFakeApi();
    const client = createClient({ baseUrl, fetch: api.fetch });
    await client.request('/sales', {
      method: 'post',
      body: { item: 'tea', quantity: 1 },
      headers: { 'x-tenant': 't1' },
      idempotencyKey: 'order-42',
      timeoutMs: 5_000,
      retries: 0,
      signal: new AbortController().signal,
    });
    expect(api.requests[0]?.key).toBe('"order-42"');
  });
});
