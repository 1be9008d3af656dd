import { Writable } from 'node:stream';
import { isBallastError, type Logger, ManualClock, parseTraceparent } from '@ballast/core';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { currentTraceContext, hasAmbientTrace } from './async-trace-storage.js';
import { traceContext } from './trace-context-middleware.js';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const incoming = `00-${traceId}-00f067aa0ba902b7-01`;

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  const logger: Logger = pino({ level: 'debug' }, stream);
  return { logger, lines };
}

describe('traceContext()', () => {
  it('continues the caller trace, hands it to the handler and echoes it', async () => {
    const { logger, lines } = capture();
    const handler = traceContext({ logger })(async (_request, { trace, logger: log }) => {
      log.info({ step: 'inside' }, 'handling');
      return Response.json({ traceId: trace.traceId, parentId: trace.parentId });
    });
    const response = await handler(
      new Request('http://edge.test/orders', { headers: { traceparent: incoming } }),
    );
    expect(await response.json()).toEqual({ traceId, parentId: '00f067aa0ba902b7' });
    const echoed = parseTraceparent(response.headers.get('traceparent'));
    expect(echoed?.traceId).toBe(traceId);
    expect(echoed?.parentId).not.toBe('00f067aa0ba902b7');
    expect(response.headers.get('x-request-id')).toBe(traceId);
    expect(lines).toEqual([
      expect.objectContaining({
        traceId,
        spanId: echoed?.parentId,
        step: 'inside',
        msg: 'handling',
      }),
    ]);
  });

  it('creates a trace when the caller sent none, and a different one per request', async () => {
    const handler = traceContext()((_request, { trace }) => new Response(trace.traceId));
    const first = await handler(new Request('http://edge.test/'));
    const second = await handler(new Request('http://edge.test/'));
    const firstId = await first.text();
    expect(firstId).toMatch(/^[0-9a-f]{32}$/);
    expect(firstId).not.toBe(await second.text());
    expect(first.headers.get('x-request-id')).toBe(firstId);
  });

  it('echoes the caller request id as sent', async () => {
    const handler = traceContext()((_request, { trace }) => new Response(trace.traceId));
    const uuid = '7b0e9c4e-2f0a-4d39-9b1e-0c1e6a3d5f21';
    const response = await handler(
      new Request('http://edge.test/', { headers: { 'x-request-id': uuid } }),
    );
    expect(await response.text()).toBe('7b0e9c4e2f0a4d399b1e0c1e6a3d5f21');
    expect(response.headers.get('x-request-id')).toBe(uuid);
  });

  it('makes the trace ambient for everything the handler awaits', async () => {
    expect(hasAmbientTrace()).toBe(true);
    const deep = async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return currentTraceContext()?.traceId;
    };
    const handler = traceContext()(async () => new Response((await deep()) ?? 'none'));
    const [a, b] = await Promise.all([
      handler(new Request('http://edge.test/', { headers: { traceparent: incoming } })),
      handler(new Request('http://edge.test/')),
    ]);
    expect(await a.text()).toBe(traceId);
    const other = await b.text();
    expect(other).toMatch(/^[0-9a-f]{32}$/);
    expect(other).not.toBe(traceId);
    expect(currentTraceContext()).toBeUndefined();
  });

  it('keeps headers the handler set and copes with immutable response headers', async () => {
    const own = traceContext()(() => new Response('x', { headers: { 'x-request-id': 'mine' } }));
    expect((await own(new Request('http://edge.test/'))).headers.get('x-request-id')).toBe('mine');

    const redirect = traceContext()(() => Response.redirect('http://elsewhere.test/', 302));
    const response = await redirect(new Request('http://edge.test/'));
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('http://elsewhere.test/');
    expect(response.headers.get('traceparent')).toMatch(/^00-/);
  });

  it('can leave responses alone', async () => {
    const handler = traceContext({ responseHeaders: false })(() => new Response('x'));
    const response = await handler(new Request('http://edge.test/'));
    expect(response.headers.has('traceparent')).toBe(false);
    expect(response.headers.has('x-request-id')).toBe(false);
  });

  it('passes an outer context through', async () => {
    const handler = traceContext()<{ tenant: string }>((_request, { tenant, trace }) =>
      Response.json({ tenant, traced: trace.traceId.length }),
    );
    const response = await handler(new Request('http://edge.test/'), { tenant: 't-1' });
    expect(await response.json()).toEqual({ tenant: 't-1', traced: 32 });
  });

  it('logs each request with its duration, and failures with the trace', async () => {
    const { logger, lines } = capture();
    const clock = new ManualClock(1_000);
    const handler = traceContext({ logger, logRequests: true, clock })(async (request) => {
      clock.setNow(1_025);
      if (request.method === 'DELETE') throw new Error('boom');
      return new Response(null, { status: 204 });
    });
    await handler(new Request('http://edge.test/a?b=1', { headers: { traceparent: incoming } }));
    await expect(
      handler(
        new Request('http://edge.test/x', { method: 'DELETE', headers: { traceparent: incoming } }),
      ),
    ).rejects.toThrow('boom');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      traceId,
      method: 'GET',
      path: '/a',
      status: 204,
      durationMs: 25,
      msg: 'request completed',
      level: 30,
    });
    expect(lines[1]).toMatchObject({ traceId, method: 'DELETE', path: '/x', level: 50 });
  });

  it('validates its options', () => {
    try {
      traceContext({ logger: {} as Logger });
      expect.unreachable();
    } catch (error) {
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      if (isBallastError(error)) expect(error.details.field).toBe('logger');
    }
    expect(() => traceContext({ maxRequestIdLength: -1 })).toThrow(/maxRequestIdLength/);
  });
});
