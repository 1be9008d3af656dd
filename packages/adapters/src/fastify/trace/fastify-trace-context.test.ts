import { Writable } from 'node:stream';
import { parseTraceparent } from '@ballast/core';
import { currentTraceContext, currentTraceScope } from '@ballast/server';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastifyTraceContext } from './fastify-trace-context.js';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const lines: Array<Record<string, unknown>> = [];
const stream = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  },
});

let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  app = Fastify({ logger: { level: 'info', stream } });
  await app.register(fastifyTraceContext);
  app.post('/orders', async (request) => {
    await new Promise((resolve) => setTimeout(resolve, 2));
    request.log.info({ body: request.body }, 'order');
    currentTraceScope()?.logger.warn({}, 'ambient logger');
    return { scoped: request.trace.traceId, ambient: currentTraceContext()?.traceId ?? null };
  });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await app.close();
});

describe('fastifyTraceContext', () => {
  it('continues the trace through body parsing, the route, request.log and the response', async () => {
    const response = await fetch(`${base}/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({ sku: 'a' }),
    });
    expect(await response.json()).toEqual({ scoped: traceId, ambient: traceId });
    expect(parseTraceparent(response.headers.get('traceparent'))?.traceId).toBe(traceId);
    expect(response.headers.get('x-request-id')).toBe(traceId);
    const ours = lines.filter((line) => line.msg === 'order' || line.msg === 'ambient logger');
    expect(ours).toEqual([
      expect.objectContaining({ traceId, body: { sku: 'a' }, msg: 'order' }),
      expect.objectContaining({ traceId, msg: 'ambient logger' }),
    ]);
    // Fastify's own "request completed" line is written through the same child logger.
    const completed = lines.find(
      (line) => line.msg === 'request completed' && line.traceId === traceId,
    );
    expect(completed).toBeDefined();
  });

  it('gives each request its own fresh trace when none is sent', async () => {
    const [a, b] = await Promise.all([
      fetch(`${base}/orders`, { method: 'POST' }).then((r) => r.json()),
      fetch(`${base}/orders`, { method: 'POST' }).then((r) => r.json()),
    ]);
    const first = a as { scoped: string; ambient: string };
    const second = b as { scoped: string; ambient: string };
    expect(first.ambient).toBe(first.scoped);
    expect(second.ambient).toBe(second.scoped);
    expect(first.scoped).not.toBe(second.scoped);
  });
});

describe('fastifyTraceContext, options', () => {
  it('reports bad options through app.register() and app.ready(), where they can be caught', async () => {
    const bad = { responseHeaders: 'yes' } as unknown as { responseHeaders: boolean };
    const first = Fastify();
    await expect(first.register(fastifyTraceContext, bad)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
    await first.close();
    const second = Fastify();
    second.register(fastifyTraceContext, { maxRequestIdLength: -1 });
    await expect(second.ready()).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await second.close();
  });
});
