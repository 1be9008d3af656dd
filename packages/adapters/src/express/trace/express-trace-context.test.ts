import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { isBallastError, type Logger, parseTraceparent } from '@ballast/core';
import { currentTraceContext } from '@ballast/server';
import express from 'express';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expressTraceContext, expressTraceScope } from './express-trace-context.js';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const lines: Array<Record<string, unknown>> = [];
const logger: Logger = pino(
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  }),
);

let server: ReturnType<ReturnType<typeof express>['listen']>;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(expressTraceContext({ logger }));
  app.use(express.json());
  app.post('/orders', async (req, res) => {
    const { trace, logger: log } = expressTraceScope(res);
    await new Promise((resolve) => setTimeout(resolve, 2));
    log.info({ body: req.body as unknown }, 'order');
    res.json({ scoped: trace.traceId, ambient: currentTraceContext()?.traceId ?? null });
  });
  app.get('/own', (_req, res) => {
    res.setHeader('x-request-id', 'route-chose');
    res.send('ok');
  });
  await new Promise<void>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('expressTraceContext', () => {
  it('continues the trace through body parsing, the route, its log lines and the response', async () => {
    lines.length = 0;
    const response = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
        'x-request-id': 'req-77',
      },
      body: JSON.stringify({ sku: 'a' }),
    });
    expect(await response.json()).toEqual({ scoped: traceId, ambient: traceId });
    expect(parseTraceparent(response.headers.get('traceparent'))?.traceId).toBe(traceId);
    expect(response.headers.get('x-request-id')).toBe('req-77');
    expect(lines).toEqual([
      expect.objectContaining({ traceId, requestId: 'req-77', body: { sku: 'a' }, msg: 'order' }),
    ]);
  });

  it('starts a trace when none is sent and lets a route override the header', async () => {
    const fresh = await fetch(`${base}/orders`, { method: 'POST' });
    const body = (await fresh.json()) as { scoped: string; ambient: string };
    expect(body.scoped).toMatch(/^[0-9a-f]{32}$/);
    expect(body.ambient).toBe(body.scoped);
    expect(fresh.headers.get('x-request-id')).toBe(body.scoped);
    const own = await fetch(`${base}/own`);
    expect(own.headers.get('x-request-id')).toBe('route-chose');
  });

  it('refuses a missing middleware loudly and bad options at construction', () => {
    const res = { locals: {} } as unknown as express.Response;
    expect(() => expressTraceScope(res)).toThrow(/not installed/);
    try {
      expressTraceContext({ requestIdHeader: 'no spaces allowed' });
      expect.unreachable();
    } catch (error) {
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
    }
  });
});
