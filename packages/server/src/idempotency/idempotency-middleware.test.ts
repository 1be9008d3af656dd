import {
  BallastError,
  type IdempotencyStore,
  ManualClock,
  MemoryIdempotencyStore,
} from '@ballast/core';
import {
  defaultRecordedHeaders,
  defaultReleaseStatuses,
  idempotencyKeyHeader,
  idempotentReplayedHeader,
} from '@ballast/server';
import { createIdempotencyGuard } from '@ballast/server/adapter-kit';
import { describe, expect, it, vi } from 'vitest';
import { type IdempotencyMiddlewareOptions, idempotency } from './idempotency-middleware.js';

const url = 'http://api.test/sales';

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A sales endpoint whose side effect (a row) we can count. */
function salesApp(options: Partial<IdempotencyMiddlewareOptions> = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const store = new MemoryIdempotencyStore();
  const sales: unknown[] = [];
  let hold: Promise<void> | undefined;
  let held = gate();
  let respond: (request: Request, sale: Record<string, unknown>) => Response | Promise<Response> = (
    _request,
    sale,
  ) => {
    const id = sales.length;
    return Response.json(
      { id, ...sale },
      {
        status: 201,
        headers: {
          location: `/sales/${id}`,
          etag: `"${id}"`,
          'set-cookie': 'session=first-client',
        },
      },
    );
  };
  const handler = vi.fn(async (request: Request) => {
    const sale = (await request.json()) as Record<string, unknown>;
    // One-shot: only the call that was told to hold waits.
    const waitFor = hold;
    hold = undefined;
    if (waitFor) {
      held.open();
      await waitFor;
    }
    sales.push(sale);
    return respond(request, sale);
  });
  const fetch = idempotency({ store, clock, scope: 'global', ...options })(handler);
  const send = (
    body: unknown,
    key: string | null = 'key-1',
    init: { headers?: Record<string, string>; url?: string; method?: string } = {},
  ) =>
    fetch(
      new Request(init.url ?? url, {
        method: init.method ?? 'POST',
        headers: {
          'content-type': 'application/json',
          ...(key === null ? {} : { 'idempotency-key': key }),
          ...init.headers,
        },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    );
  return {
    clock,
    store,
    sales,
    handler,
    send,
    fetch,
    holdNext: () => {
      const g = gate();
      hold = g.promise;
      held = gate();
      return g.open;
    },
    /**
     * Resolves once the held request is inside the handler, i.e. it holds the key. Digests run
     * on the thread pool, so a fixed number of ticks is not enough under load.
     */
    untilHeld: () => held.promise,
    /** Resolves once a waiting duplicate has scheduled its next poll on the manual clock. */
    untilPolling: () => vi.waitFor(() => expect(clock.pendingTimers).toBeGreaterThan(0)),
    respondWith: (fn: typeof respond) => {
      respond = fn;
    },
  };
}

async function problem(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as { code: string; status: number };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('idempotency() middleware: the semantics table', () => {
  it('first request runs; a retry gets the replay with allow-listed headers and Idempotent-Replayed', async () => {
    const app = salesApp();
    const first = await app.send({ total: 10 }, '"key-1"');
    expect(first.status).toBe(201);
    expect(first.headers.get('set-cookie')).toBe('session=first-client');
    expect(first.headers.has('idempotent-replayed')).toBe(false);
    const firstBody = await first.text();

    const replay = await app.send({ total: 10 }, 'key-1');
    expect(replay.status).toBe(201);
    expect(await replay.text()).toBe(firstBody);
    expect(Object.fromEntries(replay.headers)).toEqual({
      'content-type': 'application/json',
      location: '/sales/1',
      etag: '"1"',
      'idempotent-replayed': 'true',
    });
    expect(app.sales).toHaveLength(1);
  });

  it('replays a retry whose JSON has other member order and whitespace', async () => {
    const app = salesApp();
    await app.send('{"total":10,"items":[{"sku":"a","qty":1}]}');
    const retry = await app.send('{ "items": [ { "qty": 1, "sku": "a" } ], "total": 10 }');
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(app.sales).toHaveLength(1);
  });

  it('passes other methods and keyless requests through (key optional by default)', async () => {
    const app = salesApp();
    await app.send({ total: 1 }, null);
    await app.send({ total: 1 }, null);
    await app.send({ total: 1 }, 'key-put', { method: 'PUT' });
    await app.send({ total: 1 }, 'key-put', { method: 'PUT' });
    expect(app.sales).toHaveLength(4);
  });

  it('400 IDEMPOTENCY_KEY_MISSING when required, per route; the handler does not run', async () => {
    const app = salesApp({ required: (request) => new URL(request.url).pathname === '/sales' });
    const missing = await app.send({ total: 1 }, null);
    expect(missing.status).toBe(400);
    expect(await problem(missing)).toMatchObject({ code: 'IDEMPOTENCY_KEY_MISSING' });
    const otherRoute = await app.send({ total: 1 }, null, { url: 'http://api.test/notes' });
    expect(otherRoute.status).toBe(201);
    expect(app.sales).toHaveLength(1);
  });

  it.each(['', '"a", "b"', '"unterminated', 'two words', 'x'.repeat(256), '"\u00e9"'])(
    '400 IDEMPOTENCY_KEY_INVALID for the header %j; the handler does not run',
    async (header) => {
      const app = salesApp();
      const response = await app.send({ total: 1 }, header);
      expect(response.status).toBe(400);
      expect(await problem(response)).toMatchObject({ code: 'IDEMPOTENCY_KEY_INVALID' });
      expect(app.handler).not.toHaveBeenCalled();
    },
  );

  it('413 PAYLOAD_TOO_LARGE before the handler runs (declared or streamed length)', async () => {
    const app = salesApp({ maxBodyBytes: 64 });
    const declared = await app.send({ note: 'x'.repeat(100) });
    expect(declared.status).toBe(413);
    expect(await problem(declared)).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const chunks = [
      new TextEncoder().encode('{"note":"'),
      new TextEncoder().encode(`${'y'.repeat(80)}"}`),
    ];
    const streamed = await app.fetch(
      new Request(url, {
        method: 'POST',
        headers: { 'idempotency-key': 'key-2', 'content-type': 'application/json' },
        body: new ReadableStream({
          pull(controller) {
            const next = chunks.shift();
            if (next) controller.enqueue(next);
            else controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit),
    );
    expect(streamed.status).toBe(413);
    expect(app.handler).not.toHaveBeenCalled();
    // The refused key was never claimed: the same key with a small body runs.
    expect((await app.send({ ok: true }, 'key-2')).status).toBe(201);
  });

  it('409 IDEMPOTENCY_IN_FLIGHT with Retry-After from the remaining lease while the first runs', async () => {
    const app = salesApp();
    const release = app.holdNext();
    const first = app.send({ total: 10 });
    await app.untilHeld();
    await app.clock.advance(12_000);
    const duplicate = await app.send({ total: 10 });
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers.get('retry-after')).toBe('18');
    expect(await problem(duplicate)).toMatchObject({
      code: 'IDEMPOTENCY_IN_FLIGHT',
      retryable: true,
    });
    release();
    expect((await first).status).toBe(201);
    expect(app.sales).toHaveLength(1);
  });

  it('wait mode holds the duplicate until the first finishes, then replays it', async () => {
    const app = salesApp({ wait: { timeoutMs: 5_000, pollMs: 50 } });
    const release = app.holdNext();
    const first = app.send({ total: 10 });
    await app.untilHeld();
    const duplicate = app.send({ total: 10 });
    await app.untilPolling();
    await app.clock.advance(200);
    release();
    await first;
    await app.clock.advance(50);
    const replay = await duplicate;
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(app.sales).toHaveLength(1);
  });

  it('422 IDEMPOTENCY_KEY_REUSED for another body, path or method with the same key', async () => {
    const app = salesApp();
    await app.send({ total: 10 });
    for (const response of [
      await app.send({ total: 11 }),
      await app.send({ total: 10 }, 'key-1', { url: 'http://api.test/sales/other' }),
      await app.send({ total: 10 }, 'key-1', { method: 'PATCH' }),
    ]) {
      expect(response.status).toBe(422);
      expect(await problem(response)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    }
    expect(app.sales).toHaveLength(1);
  });

  it('never records a 409 or 422 over the original: a correct retry still gets the original', async () => {
    const app = salesApp();
    const release = app.holdNext();
    const first = app.send({ total: 10 });
    await app.untilHeld();
    expect((await app.send({ total: 10 })).status).toBe(409);
    expect((await app.send({ total: 99 })).status).toBe(422);
    release();
    const original = await first;
    expect((await app.send({ total: 99 })).status).toBe(422);
    const retry = await app.send({ total: 10 });
    expect(retry.status).toBe(201);
    expect(await retry.json()).toEqual(await original.json());
  });

  it('records 4xx answers of the handler and replays them', async () => {
    const app = salesApp();
    app.respondWith(() => Response.json({ error: 'stock insuficiente' }, { status: 409 }));
    expect((await app.send({ total: 10 })).status).toBe(409);
    const replay = await app.send({ total: 10 });
    expect(replay.status).toBe(409);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual({ error: 'stock insuficiente' });
    expect(app.handler).toHaveBeenCalledTimes(1);
  });

  it('records a 303 redirect with its Location', async () => {
    const app = salesApp();
    app.respondWith(() => new Response(null, { status: 303, headers: { location: '/sales/1' } }));
    await app.send({ total: 10 });
    const replay = await app.send({ total: 10 });
    expect(replay.status).toBe(303);
    expect(replay.headers.get('location')).toBe('/sales/1');
    expect(app.handler).toHaveBeenCalledTimes(1);
  });

  it('answers 409 at the wait deadline instead of hanging', async () => {
    const app = salesApp({ wait: { timeoutMs: 1_000, pollMs: 100 } });
    app.holdNext();
    void app.send({ total: 10 });
    await app.untilHeld();
    const duplicate = app.send({ total: 10 });
    await app.untilPolling();
    await app.clock.advance(1_000);
    const response = await duplicate;
    expect(response.status).toBe(409);
    expect(response.headers.get('retry-after')).toBe('29');
  });

  it('releases the key on 5xx so the retry runs again', async () => {
    const app = salesApp();
    app.respondWith(() => new Response('upstream down', { status: 503 }));
    expect((await app.send({ total: 10 })).status).toBe(503);
    app.respondWith(() => Response.json({ ok: true }, { status: 201 }));
    expect((await app.send({ total: 10 })).status).toBe(201);
    expect(app.handler).toHaveBeenCalledTimes(2);
  });

  it('releases the key when the handler throws, and rethrows', async () => {
    const app = salesApp();
    const failure = new Error('db down');
    app.respondWith(() => {
      throw failure;
    });
    await expect(app.send({ total: 10 })).rejects.toBe(failure);
    app.respondWith(() => Response.json({ ok: true }, { status: 201 }));
    expect((await app.send({ total: 10 })).status).toBe(201);
  });

  it('a crashed holder blocks its key only until the lease ends, then a retry runs once', async () => {
    const app = salesApp({ leaseMs: 10_000 });
    // The first holder never answers (a hung process); the key must not stay blocked for a day.
    app.holdNext();
    void app.send({ total: 10 });
    await app.untilHeld();
    expect((await app.send({ total: 10 })).status).toBe(409);
    await app.clock.advance(10_000);
    const retry = await app.send({ total: 10 });
    expect(retry.status).toBe(201);
    expect(retry.headers.has('idempotent-replayed')).toBe(false);
    const replay = await app.send({ total: 10 });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(app.handler).toHaveBeenCalledTimes(2);
    expect(app.sales).toHaveLength(1);
  });

  it('keeps tenants apart with `scope`', async () => {
    const app = salesApp({ scope: (request) => request.headers.get('x-tenant') ?? 'none' });
    await app.send({ total: 10 }, 'key-1', { headers: { 'x-tenant': 'a' } });
    const other = await app.send({ total: 99 }, 'key-1', { headers: { 'x-tenant': 'b' } });
    expect(other.status).toBe(201);
    expect(app.sales).toHaveLength(2);
  });

  it('503 IDEMPOTENCY_STORE_UNAVAILABLE when the store is down; the handler does not run', async () => {
    const broken: IdempotencyStore = {
      claim: () => Promise.reject(new Error('ECONNREFUSED')),
      complete: () => Promise.resolve(false),
      release: () => Promise.resolve(false),
      extendLease: () => Promise.resolve(false),
      deleteExpired: () => Promise.resolve(0),
    };
    const handler = vi.fn(async () => new Response('x'));
    const response = await idempotency({ store: broken, scope: 'global' })(handler)(
      new Request(url, { method: 'POST', headers: { 'idempotency-key': 'k' }, body: '{}' }),
    );
    expect(response.status).toBe(503);
    expect(await problem(response)).toMatchObject({ code: 'IDEMPOTENCY_STORE_UNAVAILABLE' });
    expect(handler).not.toHaveBeenCalled();
  });

  it('answers problems in the configured locale', async () => {
    const app = salesApp({ required: true, locale: 'es' });
    const response = await app.send({}, null);
    expect(await response.json()).toMatchObject({
      detail: 'Esta solicitud necesita un encabezado Idempotency-Key.',
      instance: '/sales',
    });
  });
});

describe('idempotency() middleware: response capture', () => {
  const streamOf = (parts: string[]) => {
    const encoder = new TextEncoder();
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = parts.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(encoder.encode(next));
      },
    });
  };

  it('records a streamed response that fits maxResponseBytes and replays it whole', async () => {
    const app = salesApp();
    app.respondWith(
      () =>
        new Response(streamOf(['line 1\n', 'line 2\n']), {
          headers: { 'content-type': 'text/plain' },
        }),
    );
    expect(await (await app.send({ total: 1 })).text()).toBe('line 1\nline 2\n');
    const replay = await app.send({ total: 1 });
    expect(await replay.text()).toBe('line 1\nline 2\n');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });

  it('streams a response over maxResponseBytes untouched and releases the key when it ends', async () => {
    const app = salesApp({ maxResponseBytes: 10 });
    app.respondWith(() => new Response(streamOf(['0123456789', 'abcdef', 'ghij'])));
    const response = await app.send({ total: 1 });
    // While the body is still streaming, the key is held: a duplicate is refused.
    expect((await app.send({ total: 1 })).status).toBe(409);
    expect(await response.text()).toBe('0123456789abcdefghij');
    await tick();
    // Not recordable, so released explicitly (not left in flight until the TTL): a retry runs.
    expect((await app.send({ total: 1 })).headers.has('idempotent-replayed')).toBe(false);
    expect(app.handler).toHaveBeenCalledTimes(2);
  });

  it('releases the key when the client cancels an uncapturable stream', async () => {
    const app = salesApp({ maxResponseBytes: 4 });
    app.respondWith(() => new Response(streamOf(['aaaaa', 'bbbbb', 'ccccc'])));
    const response = await app.send({ total: 1 });
    await response.body?.cancel('client went away');
    await tick();
    app.respondWith(() => Response.json({ again: true }, { status: 201 }));
    expect((await app.send({ total: 1 })).status).toBe(201);
  });

  it('replays binary bodies byte for byte', async () => {
    const app = salesApp();
    const bytes = new Uint8Array([0, 255, 1, 254, 128]);
    app.respondWith(
      () => new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }),
    );
    await app.send({ total: 1 });
    const replay = await app.send({ total: 1 });
    expect(new Uint8Array(await replay.arrayBuffer())).toEqual(bytes);
  });

  it('replays 204 without a body', async () => {
    const app = salesApp();
    app.respondWith(() => new Response(null, { status: 204 }));
    expect((await app.send({ total: 1 })).status).toBe(204);
    const replay = await app.send({ total: 1 });
    expect(replay.status).toBe(204);
    expect(await replay.text()).toBe('');
  });

  it('runs a keyed POST with a present but empty body (Content-Length: 0, body ""), then replays it', async () => {
    const store = new MemoryIdempotencyStore();
    let runs = 0;
    const handler = idempotency({ store, scope: 'global' })(async (request) => {
      runs++;
      return Response.json({ text: await request.text() }, { status: 201 });
    });
    const post = () =>
      handler(
        new Request('http://api.test/sales', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': 'empty-1' },
          body: '',
        }),
      );
    const first = await post();
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ text: '' });
    const again = await post();
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(runs).toBe(1);
  });

  it('answers a BallastError the handler throws with its status (recorded when 4xx)', async () => {
    const app = salesApp();
    app.respondWith(() => {
      throw new BallastError('VALIDATION_FAILED');
    });
    const first = await app.send({ total: 1 });
    expect((await problem(first)).code).toBe('VALIDATION_FAILED');
    const again = await app.send({ total: 1 });
    expect(again.status).toBe(400);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('idempotency(): scope is required', () => {
  it('refuses a missing or null options argument with INVALID_OPTIONS, never a TypeError', () => {
    for (const options of [undefined, null]) {
      expect(() => idempotency(options as unknown as Parameters<typeof idempotency>[0])).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS' }),
      );
    }
  });

  it('refuses construction without scope with INVALID_OPTIONS naming scope', () => {
    for (const scope of [undefined, 'tenant-a', '', null, 42]) {
      expect(() =>
        idempotency({
          store: new MemoryIdempotencyStore(),
          scope: scope as unknown as 'global',
        }),
      ).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          details: expect.objectContaining({ field: 'scope' }),
        }),
      );
    }
    expect(() =>
      idempotency({ store: new MemoryIdempotencyStore(), scope: 'global' }),
    ).not.toThrow();
    expect(() =>
      idempotency({ store: new MemoryIdempotencyStore(), scope: (request) => request.url }),
    ).not.toThrow();
  });
});

describe('the header names and defaults the middleware uses', () => {
  it('reads the key from idempotencyKeyHeader and marks replays with idempotentReplayedHeader', async () => {
    expect(idempotencyKeyHeader).toBe('idempotency-key');
    expect(idempotentReplayedHeader).toBe('idempotent-replayed');
    const app = salesApp();
    const request = () =>
      app.fetch(
        new Request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [idempotencyKeyHeader]: 'named-key' },
          body: '{"total":3}',
        }),
      );
    expect((await request()).headers.has(idempotentReplayedHeader)).toBe(false);
    expect((await request()).headers.get(idempotentReplayedHeader)).toBe('true');
    expect(app.sales).toHaveLength(1);
  });

  it('replays exactly defaultRecordedHeaders when recordHeaders is not given', async () => {
    expect(defaultRecordedHeaders).toEqual(['content-type', 'location', 'etag']);
    const app = salesApp();
    await app.send({ total: 4 }, 'headers-key');
    const replay = await app.send({ total: 4 }, 'headers-key');
    const names = [...replay.headers.keys()].filter((name) => name !== idempotentReplayedHeader);
    expect(names.sort()).toEqual([...defaultRecordedHeaders].sort());
    // The guard reports the same list, sorted, for adapters that copy only what is kept.
    const guard = createIdempotencyGuard({ store: new MemoryIdempotencyStore() });
    expect(guard.recordedHeaderNames).toEqual([...defaultRecordedHeaders].sort());
  });

  it('never records a status of defaultReleaseStatuses: the retry runs the handler again', async () => {
    expect(defaultReleaseStatuses).toEqual([401, 403, 407, 408, 429]);
    for (const status of defaultReleaseStatuses) {
      const app = salesApp();
      app.respondWith(() => Response.json({ code: 'NO' }, { status }));
      expect((await app.send({ total: 1 }, `released-${status}`)).status).toBe(status);
      app.respondWith((_request, sale) => Response.json(sale, { status: 201 }));
      const retry = await app.send({ total: 1 }, `released-${status}`);
      expect(retry.status, String(status)).toBe(201);
      expect(retry.headers.has(idempotentReplayedHeader)).toBe(false);
      expect(app.sales).toHaveLength(2);
    }
    // A 4xx outside the list is recorded and replayed.
    const app = salesApp();
    app.respondWith(() => Response.json({ code: 'GONE' }, { status: 410 }));
    await app.send({ total: 1 }, 'recorded-410');
    expect(
      (await app.send({ total: 1 }, 'recorded-410')).headers.get(idempotentReplayedHeader),
    ).toBe('true');
  });
});
