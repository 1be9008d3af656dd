import { createHmac } from 'node:crypto';
import {
  createSigner,
  createVerifier,
  isBallastError,
  type Logger,
  ManualClock,
  MemoryNonceStore,
  type NonceStore,
} from '@ballast/core';
import { payloadTooLarge } from '@ballast/core/adapter-kit';
import { defaultMaxSignedBodyBytes } from '@ballast/server';
import { createSignatureGuard } from '@ballast/server/adapter-kit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TraceScope } from '../trace/async-trace-storage.js';
import { traceContext } from '../trace/trace-context-middleware.js';
import { verifySignature } from './verify-signature.js';

const secret = 'a-test-secret-that-is-long-enough-0123456789';
const start = Date.UTC(2025, 5, 1);

function setup(options: { nonceStore?: NonceStore; logger?: Logger } = {}) {
  const clock = new ManualClock(start);
  const nonceStore = options.nonceStore ?? new MemoryNonceStore({ clock });
  const signer = createSigner({ secret, canonical: 'strict', nonce: true, clock });
  const calls: Array<{ body: unknown; tenant: string | null; keyId: string | undefined }> = [];
  const handler = verifySignature({
    secret,
    canonical: 'strict',
    nonceStore,
    clock,
    ...(options.logger ? { logger: options.logger } : {}),
  })(async (request, { signature, rawBody }) => {
    const body = request.method === 'GET' ? null : await request.json();
    expect(new TextDecoder().decode(rawBody)).toBe(body === null ? '' : JSON.stringify(body));
    calls.push({ body, tenant: request.headers.get('x-tenant-id'), keyId: signature.keyId });
    return Response.json({ ok: true });
  });
  async function signedRequest(
    init: { method?: string; path?: string; body?: string; tenant?: string } = {},
  ) {
    const method = init.method ?? 'POST';
    const path = init.path ?? '/contracts?x=1';
    const body = init.body ?? (method === 'GET' ? '' : JSON.stringify({ plan: 'pro' }));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-tenant-id': init.tenant ?? 'tenant-a',
    };
    const signature = await signer.sign({ method, path, headers, body });
    return { method, path, body, headers: { ...headers, ...signature } };
  }
  const send = (
    request: { method: string; path: string; body: string; headers: Record<string, string> },
    headers: HeadersInit = request.headers,
  ) =>
    handler(
      new Request(`http://edge.internal${request.path}`, {
        method: request.method,
        headers,
        ...(request.method === 'GET' || request.method === 'HEAD' ? {} : { body: request.body }),
      }),
    );
  return { clock, handler, calls, signedRequest, send };
}

async function problemOf(response: Response) {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as { code: string; status: number; reason?: string };
}

describe('verifySignature()', () => {
  it('runs the handler for a signed request, with its body still readable', async () => {
    const { calls, signedRequest, send } = setup();
    const response = await send(await signedRequest());
    expect(response.status).toBe(200);
    expect(calls).toEqual([{ body: { plan: 'pro' }, tenant: 'tenant-a', keyId: undefined }]);
  });

  it('passes bodiless requests through untouched', async () => {
    const { calls, signedRequest, send } = setup();
    const response = await send(await signedRequest({ method: 'GET', path: '/contracts/1' }));
    expect(response.status).toBe(200);
    expect(calls).toEqual([{ body: null, tenant: 'tenant-a', keyId: undefined }]);
  });

  it('refuses a direct (unsigned) call with 403 SIGNATURE_MISSING', async () => {
    const { calls, handler } = setup();
    const response = await handler(
      new Request('http://edge.internal/contracts', { method: 'POST', body: '{}' }),
    );
    expect(response.status).toBe(403);
    expect(await problemOf(response)).toMatchObject({
      code: 'SIGNATURE_MISSING',
      status: 403,
      reason: 'header-missing',
      instance: '/contracts',
    });
    expect(calls).toHaveLength(0);
  });

  it.each([
    ['body', { body: JSON.stringify({ plan: 'free' }) }],
    ['method', { method: 'PUT' }],
    ['path', { path: '/contracts?x=2' }],
    ['tenant header', { headers: { 'x-tenant-id': 'tenant-b' } }],
  ])('refuses a tampered %s with SIGNATURE_INVALID', async (_name, change) => {
    const { calls, signedRequest, send } = setup();
    const original = await signedRequest();
    const tampered = {
      ...original,
      ...('body' in change ? { body: change.body } : {}),
      ...('method' in change ? { method: change.method } : {}),
      ...('path' in change ? { path: change.path } : {}),
      headers: { ...original.headers, ...('headers' in change ? change.headers : {}) },
    };
    const response = await send(tampered);
    expect(response.status).toBe(403);
    expect(await problemOf(response)).toMatchObject({
      code: 'SIGNATURE_INVALID',
      reason: 'signature-mismatch',
    });
    expect(calls).toHaveLength(0);
  });

  it('refuses a changed timestamp, an expired one and a future one', async () => {
    const { clock, signedRequest, send } = setup();
    const request = await signedRequest();
    const signedNow = await signedRequest();
    const shifted = { ...request.headers, 'x-timestamp': String(start + 1) };
    expect((await problemOf(await send(request, shifted))).code).toBe('SIGNATURE_INVALID');
    await clock.advance(5 * 60 * 1000 + 1);
    expect(await problemOf(await send(request))).toMatchObject({
      code: 'SIGNATURE_EXPIRED',
      reason: 'too-old',
    });
    // The verifier's clock now lags the signer's by more than the future tolerance.
    clock.setNow(start - 5 * 60 * 1000 - 1);
    expect(await problemOf(await send(signedNow))).toMatchObject({
      code: 'SIGNATURE_EXPIRED',
      reason: 'in-future',
    });
  });

  it('refuses a replay with SIGNATURE_REPLAYED', async () => {
    const { calls, signedRequest, send } = setup();
    const request = await signedRequest();
    expect((await send(request)).status).toBe(200);
    const replay = await send(request);
    expect(replay.status).toBe(403);
    expect((await problemOf(replay)).code).toBe('SIGNATURE_REPLAYED');
    expect(calls).toHaveLength(1);
  });

  it.each([
    ['a non-numeric timestamp', { 'x-timestamp': 'yesterday' }, 'SIGNATURE_INVALID'],
    ['a huge timestamp', { 'x-timestamp': '9'.repeat(400) }, 'SIGNATURE_INVALID'],
    ['a negative timestamp', { 'x-timestamp': '-1' }, 'SIGNATURE_INVALID'],
    ['wrong base64', { 'x-internal-signature': '!!!not base64!!!' }, 'SIGNATURE_INVALID'],
    ['a short signature', { 'x-internal-signature': 'AAAA' }, 'SIGNATURE_INVALID'],
    ['a huge signature', { 'x-internal-signature': 'A'.repeat(60_000) }, 'SIGNATURE_INVALID'],
    ['an empty signature', { 'x-internal-signature': '' }, 'SIGNATURE_MISSING'],
    ['a bad nonce', { 'x-nonce': 'a b' }, 'SIGNATURE_INVALID'],
  ])('answers %s with 403 and a code, never 500', async (_name, override, code) => {
    const { signedRequest, send } = setup();
    const request = await signedRequest();
    const response = await send(request, { ...request.headers, ...override });
    expect(response.status).toBe(403);
    expect((await problemOf(response)).code).toBe(code);
  });

  it('refuses duplicated signature headers', async () => {
    const { signedRequest, send } = setup();
    const request = await signedRequest();
    for (const name of ['x-timestamp', 'x-internal-signature', 'x-nonce']) {
      const headers = new Headers(request.headers);
      headers.append(name, request.headers[name]!);
      const response = await send(request, headers);
      expect(response.status).toBe(403);
      expect((await problemOf(response)).code).toBe('SIGNATURE_INVALID');
    }
  });

  it('answers random header garbage with 403, never 500 or a handler call', async () => {
    const { calls, signedRequest, send } = setup();
    const request = await signedRequest();
    const headerValue = fc
      .string({ unit: 'grapheme-ascii', maxLength: 80 })
      .map((value) => value.trim())
      .filter((value) => !/[\r\n\0]/.test(value));
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            'x-timestamp': headerValue,
            'x-internal-signature': headerValue,
            'x-nonce': headerValue,
            // An empty key id means "no key id" (try every active key), and the real id is
            // no garbage: both leave the request valid, so neither may be drawn here.
            'x-key-id': headerValue.filter(
              (value) => value !== '' && value !== request.headers['x-key-id'],
            ),
          },
          { requiredKeys: [] },
        ),
        async (garbage) => {
          const response = await send(request, { ...request.headers, ...garbage });
          if (Object.keys(garbage).length === 0) return;
          expect(response.status).toBe(403);
        },
      ),
      { numRuns: 300 },
    );
    expect(calls.length).toBeLessThanOrEqual(1);
  });

  it('refuses an oversized body with 413 before verifying, declared or streamed', async () => {
    const handler = verifySignature({ secret, maxBodyBytes: 10 })(() => new Response('ran'));
    const declared = await handler(
      new Request('http://edge.internal/', { method: 'POST', body: 'x'.repeat(11) }),
    );
    expect(declared.status).toBe(413);
    expect((await problemOf(declared)).code).toBe('PAYLOAD_TOO_LARGE');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let index = 0; index < 5; index++) controller.enqueue(new Uint8Array(4));
        controller.close();
      },
    });
    const streamed = await handler(
      new Request('http://edge.internal/', {
        method: 'POST',
        body: stream,
        duplex: 'half',
      } as RequestInit),
    );
    expect(streamed.status).toBe(413);
  });

  it('accepts the seed sender byte for byte (crypto.createHmac over timestamp.body) when asked to', async () => {
    const handler = verifySignature({ secret, canonical: 'seed' })(
      async (request) => new Response(await request.text()),
    );
    const body = JSON.stringify({ customer_id: 'c1' });
    const timestamp = Date.now().toString();
    const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('base64');
    const response = await handler(
      new Request('http://edge.internal/contracts', {
        method: 'POST',
        body,
        headers: { 'x-timestamp': timestamp, 'x-internal-signature': signature },
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(body);
  });

  it('fails closed, logged, when the nonce store cannot answer', async () => {
    const lines: Array<[string, Record<string, unknown>]> = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: (fields) => lines.push(['warn', fields]),
      error: (fields) => lines.push(['error', fields]),
    };
    const broken: NonceStore = {
      checkAndStore: () => Promise.reject(new Error('connection refused 10.0.0.3:6379')),
    };
    const { calls, signedRequest, send } = setup({ nonceStore: broken, logger });
    const response = await send(await signedRequest());
    expect(response.status).toBe(500);
    const problem = await problemOf(response);
    expect(problem.code).toBe('INTERNAL');
    expect(JSON.stringify(problem)).not.toContain('10.0.0.3');
    expect(calls).toHaveLength(0);
    expect(lines).toEqual([
      ['error', expect.objectContaining({ code: 'INTERNAL', path: '/contracts?x=1' })],
    ]);
  });

  it('logs refusals with the trace when nested in traceContext()', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: (fields, message) => lines.push({ ...fields, message }),
      error: () => {},
    };
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const edge = traceContext({ logger })(
      verifySignature({ secret })<TraceScope>((_request, { trace }) => new Response(trace.traceId)),
    );
    const response = await edge(
      new Request('http://edge.internal/x', {
        method: 'POST',
        body: 'x',
        headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      }),
    );
    expect(response.status).toBe(403);
    expect(response.headers.get('x-request-id')).toBe(traceId);
    expect(lines).toEqual([
      expect.objectContaining({
        traceId,
        code: 'SIGNATURE_MISSING',
        header: 'x-internal-signature',
        method: 'POST',
        path: '/x',
        message: 'request refused',
      }),
    ]);
  });

  it('validates its options at construction', () => {
    for (const options of [{}, { secret: 'short' }, { secret, maxBodyBytes: 0 }]) {
      try {
        verifySignature(options);
        expect.unreachable();
      } catch (error) {
        expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      }
    }
    const verifier = createVerifier({ secret });
    expect(() => verifySignature({ verifier, secret })).toThrow(/either a verifier/);
    expect(() => verifySignature({ verifier })).not.toThrow();
  });
});

describe('defaultMaxSignedBodyBytes', () => {
  it('is 1 MiB, the bound verifySignature() reads a body to when maxBodyBytes is not given', async () => {
    expect(defaultMaxSignedBodyBytes).toBe(1_048_576);
    expect(createSignatureGuard({ secret }).maxBodyBytes).toBe(defaultMaxSignedBodyBytes);
    const signer = createSigner({ secret });
    const handler = verifySignature({ secret })(async (request) => {
      return new Response(String((await request.arrayBuffer()).byteLength));
    });
    const send = async (body: string) =>
      handler(
        new Request('http://edge.internal/bulk', {
          method: 'POST',
          body,
          headers: await signer.sign({ method: 'POST', path: '/bulk', headers: {}, body }),
        }),
      );
    const atBound = await send('x'.repeat(defaultMaxSignedBodyBytes));
    expect(atBound.status).toBe(200);
    expect(await atBound.text()).toBe(String(defaultMaxSignedBodyBytes));
    const over = await send('x'.repeat(defaultMaxSignedBodyBytes + 1));
    expect(over.status).toBe(413);
    expect((await problemOf(over)).code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('createSignatureGuard', () => {
  const signedInput = async (body = '{"plan":"pro"}') => {
    const signer = createSigner({ secret, canonical: 'strict' });
    const base = { method: 'POST', path: '/contracts?x=1', body };
    return { ...base, headers: await signer.sign({ ...base, headers: {} }) };
  };

  function recorder() {
    const lines: Array<{ level: string; fields: Record<string, unknown> }> = [];
    const at = (level: string) => (fields: Record<string, unknown>) =>
      lines.push({ level, fields });
    const logger: Logger = {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
    };
    return { logger, lines };
  }

  it('checks a correctly signed request and says what it proved', async () => {
    const guard = createSignatureGuard({ secret, canonical: 'strict' });
    expect(guard.locale).toBe('en');
    const outcome = await guard.check(await signedInput());
    expect(outcome.ok).toBe(true);
    if (outcome.ok) expect(outcome.signature.format).toBeDefined();
  });

  it('answers a refusal as a value (403 problem naming the path), logged without header values', async () => {
    const { logger, lines } = recorder();
    const guard = createSignatureGuard({ secret, canonical: 'strict', logger, locale: 'es' });
    const input = await signedInput();
    const tampered = await guard.check({ ...input, body: '{"plan":"enterprise"}' });
    expect(tampered.ok).toBe(false);
    if (tampered.ok) return;
    expect(tampered.status).toBe(403);
    expect(tampered.error.code).toBe('SIGNATURE_INVALID');
    expect(tampered.problem).toMatchObject({
      status: 403,
      code: 'SIGNATURE_INVALID',
      instance: '/contracts?x=1',
    });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({
          code: 'SIGNATURE_INVALID',
          method: 'POST',
          path: '/contracts?x=1',
        }),
      }),
    ]);
    const logged = JSON.stringify(lines);
    for (const value of Object.values(input.headers)) expect(logged).not.toContain(value);
    const missing = await guard.check({ method: 'POST', path: '/', headers: {}, body: '' });
    expect(missing).toMatchObject({ ok: false, status: 403, error: { code: 'SIGNATURE_MISSING' } });
  });

  it('prefers the request logger, and never throws when the nonce store fails (fails closed)', async () => {
    const guardLog = recorder();
    const requestLog = recorder();
    const failing: NonceStore = {
      checkAndStore: async () => {
        throw new Error('redis down');
      },
    };
    const signer = createSigner({ secret, canonical: 'strict', nonce: true });
    const guard = createSignatureGuard({
      secret,
      canonical: 'strict',
      nonceStore: failing,
      logger: guardLog.logger,
    });
    const base = { method: 'POST', path: '/p', body: 'x' };
    const outcome = await guard.check(
      { ...base, headers: await signer.sign({ ...base, headers: {} }) },
      requestLog.logger,
    );
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.status).toBeGreaterThanOrEqual(500);
    expect(guardLog.lines).toEqual([]);
    expect(requestLog.lines.map((line) => line.level)).toEqual(['error']);
  });

  it('turns an error met before verification into the refusal to send', () => {
    const guard = createSignatureGuard({ secret, maxBodyBytes: 10 });
    expect(guard.maxBodyBytes).toBe(10);
    const refusal = guard.refuse(payloadTooLarge(10), { method: 'POST', path: '/upload' });
    expect(refusal).toMatchObject({
      ok: false,
      status: 413,
      error: { code: 'PAYLOAD_TOO_LARGE' },
      problem: { status: 413, instance: '/upload' },
    });
  });

  it("refuses bad options at once with INVALID_OPTIONS (they are verifySignature()'s options)", () => {
    const verifier = createVerifier({ secret });
    for (const [options, field] of [
      [null, '(options)'],
      [{ verifier, secret }, 'verifier'],
      [{ secret, maxBodyBytes: 100 * 1024 * 1024 + 1 }, 'maxBodyBytes'],
      [{ secret, maxBodyBytes: 0 }, 'maxBodyBytes'],
      [{ secret, locale: 'x' }, 'locale'],
    ] as const) {
      let error: unknown;
      try {
        createSignatureGuard(options as never);
      } catch (caught) {
        error = caught;
      }
      expect(isBallastError(error, 'INVALID_OPTIONS'), field).toBe(true);
      expect((error as { details: { field?: string } }).details.field, field).toBe(field);
      expect((error as Error).message).toContain('verifySignature()');
    }
    // A missing or weak secret fails here, at start-up, not on the first request.
    expect(() => createSignatureGuard({})).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => createSignatureGuard({ secret: 'short' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(createSignatureGuard({ verifier }).maxBodyBytes).toBe(defaultMaxSignedBodyBytes);
  });
});
