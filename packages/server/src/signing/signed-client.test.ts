import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createSigner,
  createTraceContext,
  isBallastError,
  type Logger,
  ManualClock,
  MemoryNonceStore,
  parseTraceparent,
  withTraceLogger,
} from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { problemResponse } from '../errors/problem-response.js';
import { runWithTrace } from '../trace/async-trace-storage.js';
import { SignedCallError } from './signed-call-error.js';
import { createSignedClient } from './signed-client.js';
import { verifySignature } from './verify-signature.js';

const secret = 'signed-client-test-secret-0123456789-abcdef';

interface Seen {
  method: string;
  path: string;
  body: string;
  tenant: string | null;
  idempotencyKey: string | null;
  traceparent: string | null;
  requestId: string | null;
  timestamp: string | null;
  nonce: string | null;
}

/** An in-process edge: verifySignature in front of a handler that records what it received. */
function edge(options: { clock?: ManualClock; answers?: Array<() => Response> } = {}) {
  const seen: Seen[] = [];
  const attempts: string[] = [];
  const answers = options.answers ?? [];
  const handler = verifySignature({
    secret,
    canonical: 'strict',
    nonceStore: new MemoryNonceStore(options.clock ? { clock: options.clock } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  })(async (request) => {
    const url = new URL(request.url);
    seen.push({
      method: request.method,
      path: `${url.pathname}${url.search}`,
      body: await request.text(),
      tenant: request.headers.get('x-tenant-id'),
      idempotencyKey: request.headers.get('idempotency-key'),
      traceparent: request.headers.get('traceparent'),
      requestId: request.headers.get('x-request-id'),
      timestamp: request.headers.get('x-timestamp'),
      nonce: request.headers.get('x-nonce'),
    });
    const answer = answers.shift();
    return answer ? answer() : Response.json({ ok: true });
  });
  const fetch = async (request: Request) => {
    attempts.push(request.headers.get('x-timestamp') ?? '');
    return handler(request);
  };
  return { seen, attempts, fetch };
}

const strict = { secret, canonical: 'strict' as const, nonce: true };

async function settle(): Promise<void> {
  for (let index = 0; index < 5; index++) await new Promise((resolve) => setTimeout(resolve, 0));
}

describe('createSignedClient()', () => {
  it('signs a call that the edge verifies, with tenant, key, trace and body intact', async () => {
    const { seen, fetch } = edge();
    const client = createSignedClient({
      ...strict,
      baseUrl: 'http://edge.internal/v1/',
      fetch,
      tenantId: 'tenant-a',
      generateIdempotencyKeys: true,
    });
    const trace = createTraceContext();
    const result = await client
      .post('/contracts?source=api', { json: { plan: 'pro' }, trace })
      .json<{ ok: boolean }>();
    expect(result).toEqual({ ok: true });
    expect(seen).toHaveLength(1);
    const [call] = seen;
    expect(call).toMatchObject({
      method: 'POST',
      path: '/v1/contracts?source=api',
      body: '{"plan":"pro"}',
      tenant: 'tenant-a',
      requestId: trace.traceId,
    });
    expect(call!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    const parent = parseTraceparent(call!.traceparent);
    expect(parent?.traceId).toBe(trace.traceId);
    expect(parent?.parentId).not.toBe(trace.spanId);
  });

  it('continues the ambient trace when no trace is given', async () => {
    const { seen, fetch } = edge();
    const client = createSignedClient({ ...strict, baseUrl: 'http://edge.internal', fetch });
    const trace = createTraceContext({ requestId: 'req-from-browser' });
    const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
    await runWithTrace({ trace, logger: withTraceLogger(logger, trace) }, () =>
      client.get('/status'),
    );
    await client.get('/status');
    expect(parseTraceparent(seen[0]!.traceparent)?.traceId).toBe(trace.traceId);
    expect(seen[0]!.requestId).toBe('req-from-browser');
    const outside = parseTraceparent(seen[1]!.traceparent)?.traceId;
    expect(outside).toMatch(/^[0-9a-f]{32}$/);
    expect(outside).not.toBe(trace.traceId);
  });

  it('re-signs every attempt with a fresh timestamp and nonce, keeping one idempotency key', async () => {
    const clock = new ManualClock(Date.UTC(2025, 5, 1));
    const { seen, fetch } = edge({
      clock,
      answers: [() => new Response('busy', { status: 503 })],
    });
    const client = createSignedClient({
      ...strict,
      clock,
      baseUrl: 'http://edge.internal',
      fetch,
      retry: { delays: [20_000], jitter: 'none' },
    });
    const pending = client.post('/payments', { json: { amount: 5 }, idempotencyKey: true });
    await settle();
    // 20 s later the first signature is still valid, but the retry must not reuse it.
    await clock.advance(20_000);
    const response = await pending;
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(Number(seen[1]!.timestamp) - Number(seen[0]!.timestamp)).toBe(20_000);
    expect(seen[1]!.nonce).not.toBe(seen[0]!.nonce);
    expect(seen[1]!.idempotencyKey).toBe(seen[0]!.idempotencyKey);
    expect(seen[1]!.traceparent).toBe(seen[0]!.traceparent);
  });

  it('never retries a POST without an idempotency key', async () => {
    const { seen, fetch } = edge({ answers: [() => new Response('busy', { status: 503 })] });
    const client = createSignedClient({ ...strict, baseUrl: 'http://edge.internal', fetch });
    const failure = await client.post('/payments', { json: { amount: 5 } }).catch((e) => e);
    expect(seen).toHaveLength(1);
    expect(failure).toBeInstanceOf(SignedCallError);
    expect(failure).toMatchObject({ code: 'UPSTREAM_ERROR', status: 503, retryable: true });
    expect(failure.upstreamStatus).toBe(503);
    expect(await (failure as SignedCallError).response.text()).toBe('busy');
  });

  it("turns the edge's problem+json into a BallastError with its code, not retried", async () => {
    const { fetch } = edge();
    const calls: number[] = [];
    const client = createSignedClient({
      secret: 'a-different-secret-that-is-long-enough-01234',
      canonical: 'strict',
      nonce: true,
      baseUrl: 'http://edge.internal',
      fetch: (request) => {
        calls.push(1);
        return fetch(request);
      },
    });
    try {
      await client.put('/contracts/1', { json: { plan: 'pro' } });
      expect.unreachable();
    } catch (error) {
      expect(isBallastError(error, 'SIGNATURE_INVALID')).toBe(true);
      expect(error).toBeInstanceOf(SignedCallError);
      const failure = error as SignedCallError;
      // The edge's 403 is this service's fault: its own caller is answered 502.
      expect(failure.status).toBe(502);
      expect(failure.upstreamStatus).toBe(403);
      expect(failure.retryable).toBe(false);
      expect(failure.details).toEqual({ status: 403 });
      expect(failure.request).toEqual({ method: 'PUT', url: 'http://edge.internal/contracts/1' });
      expect((await failure.response.json()) as unknown).toMatchObject({
        code: 'SIGNATURE_INVALID',
      });
    }
    expect(calls).toHaveLength(1);
  });

  it('honours Retry-After and logs each retry with the trace', async () => {
    const clock = new ManualClock(Date.UTC(2025, 5, 1));
    const warnings: Array<Record<string, unknown>> = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn: (fields) => warnings.push(fields),
      error() {},
    };
    const { seen, fetch } = edge({
      clock,
      answers: [
        () =>
          Response.json(
            { code: 'RATE_LIMITED', retryable: true, status: 429 },
            {
              status: 429,
              headers: { 'retry-after': '3', 'content-type': 'application/problem+json' },
            },
          ),
      ],
    });
    const client = createSignedClient({
      ...strict,
      clock,
      logger,
      baseUrl: 'http://edge.internal',
      fetch,
      retry: { delays: [100], jitter: 'none' },
    });
    const pending = client.get('/quota');
    await settle();
    await clock.advance(2_999);
    expect(seen).toHaveLength(1);
    await clock.advance(1);
    expect((await pending).status).toBe(200);
    expect(seen).toHaveLength(2);
    const retries = warnings.filter((fields) => fields.attempt !== undefined);
    expect(retries).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/quota',
        attempt: 1,
        delayMs: 3_000,
        code: 'RATE_LIMITED',
      }),
    ]);
    expect(retries[0]!.traceId).toBe(parseTraceparent(seen[0]!.traceparent)?.traceId);
  });

  it.each([
    ['on.retry', (listener: () => void) => ({ on: { retry: listener } })],
    ['the deprecated onRetry', (listener: () => void) => ({ onRetry: listener })],
  ])("calls the caller's %s listener next to its own log line", async (_, listenerOption) => {
    let calls = 0;
    const heard: number[] = [];
    const client = createSignedClient({
      ...strict,
      baseUrl: 'http://edge.internal',
      fetch: async () => {
        calls += 1;
        return calls === 1 ? new Response('', { status: 503 }) : new Response('ok');
      },
      retry: {
        delaysMs: [0],
        jitter: 'none',
        ...listenerOption(() => heard.push(calls)),
      },
    });
    expect((await client.get('/quota')).status).toBe(200);
    expect(heard).toEqual([1]);
  });

  it('reports a network failure as NETWORK_ERROR after its retries', async () => {
    let calls = 0;
    const client = createSignedClient({
      ...strict,
      baseUrl: 'http://edge.internal',
      fetch: async () => {
        calls += 1;
        throw new TypeError('fetch failed');
      },
      retry: { delays: [0, 0], jitter: 'none' },
    });
    const failure = await client.get('/x').catch((e) => e);
    expect(isBallastError(failure, 'NETWORK_ERROR')).toBe(true);
    expect(calls).toBe(3);
  });

  it('stops at once when the caller aborts', async () => {
    const controller = new AbortController();
    const client = createSignedClient({
      ...strict,
      baseUrl: 'http://edge.internal',
      fetch: (request) =>
        new Promise((_resolve, reject) => {
          request.signal.addEventListener('abort', () => reject(request.signal.reason));
        }),
    });
    const pending = client.get('/slow', { signal: controller.signal });
    controller.abort(new Error('user left'));
    await expect(pending).rejects.toThrow('user left');
  });

  it('keeps every call under the base URL, whatever the path says', async () => {
    const { seen, fetch } = edge();
    const client = createSignedClient({ ...strict, baseUrl: 'http://edge.internal/api', fetch });
    await client.get('//evil.example/steal');
    expect(seen[0]!.path).toBe('/api/evil.example/steal');
  });

  it('validates options at construction and calls before sending', async () => {
    const bad = [
      {},
      { secret, baseUrl: 'not a url' },
      { secret, baseUrl: 'ftp://edge.internal' },
      { secret: 'short', baseUrl: 'http://edge.internal' },
      { secret, baseUrl: 'http://edge.internal', tenantId: 'a\r\nb' },
      { signer: createSigner({ secret }), secret, baseUrl: 'http://edge.internal' },
    ];
    for (const options of bad) {
      expect(() => createSignedClient(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS' }),
      );
    }
    let sent = 0;
    const client = createSignedClient({
      secret,
      baseUrl: 'http://edge.internal',
      fetch: async () => {
        sent += 1;
        return new Response();
      },
    });
    await expect(client.get('/x', { body: 'x' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    await expect(
      client.post('/x', { body: new ReadableStream() as unknown as string }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'body' } });
    await expect(client.post('/x', { body: 'a', json: {} })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    expect(sent).toBe(0);
  });

  it("keeps only the upstream problem's code and status; the rest is logged, never answered", async () => {
    const logged: Array<Record<string, unknown>> = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn: (fields) => logged.push(fields),
      error() {},
    };
    const upstream = {
      type: 'about:blank',
      title: 'DB_FAILURE',
      status: 409,
      code: 'VERSION_CONFLICT',
      detail: 'duplicate key value violates unique constraint "contracts_pkey"',
      sql: 'insert into contracts (id) values ($1)',
      stack: 'Error: boom\n    at /srv/app/db.js:10:5',
      field: 'id',
    };
    const client = createSignedClient({
      ...strict,
      baseUrl: 'http://edge.internal',
      retry: false,
      logger,
      fetch: async () =>
        Response.json(upstream, {
          status: 409,
          headers: { 'content-type': 'application/problem+json' },
        }),
    });
    const failure = (await client
      .put('/contracts/1', { json: {} })
      .catch((e) => e)) as SignedCallError;
    expect(failure).toMatchObject({ code: 'VERSION_CONFLICT', status: 502, upstreamStatus: 409 });
    expect(failure.details).toEqual({ status: 409 });
    const answered = await problemResponse(failure).text();
    for (const secretPart of ['contracts_pkey', 'insert into', '/srv/app', 'DB_FAILURE']) {
      expect(answered).not.toContain(secretPart);
    }
    expect(logged).toContainEqual(expect.objectContaining({ upstreamProblem: upstream }));
    // The caller can still read the whole upstream answer.
    expect(await failure.response.json()).toEqual(upstream);
  });

  it('never follows a redirect, so the signed body never reaches another origin', async () => {
    const received: string[] = [];
    const listen = (server: Server) =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
        ),
      );
    const other = createServer((request, response) => {
      received.push(`${request.method} ${request.url}`);
      response.end('stolen');
    });
    const otherUrl = await listen(other);
    const redirecting = createServer((_request, response) => {
      response.writeHead(307, { location: `${otherUrl}/collect` }).end();
    });
    const baseUrl = await listen(redirecting);
    try {
      const client = createSignedClient({ ...strict, baseUrl, generateIdempotencyKeys: true });
      for (const call of [
        () => client.post('/contracts', { json: { plan: 'pro' } }),
        () => client.get('/contracts'),
      ]) {
        const failure = await call().catch((e) => e);
        expect(failure).toBeInstanceOf(SignedCallError);
        expect(failure).toMatchObject({
          code: 'UPSTREAM_ERROR',
          status: 502,
          retryable: false,
          details: { reason: 'redirect', upstreamStatus: 307 },
        });
      }
      expect(received).toEqual([]);
    } finally {
      redirecting.close();
      other.close();
    }
  });
});
