import { Writable } from 'node:stream';
import { traceLogFields } from '@ballast/core';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../logging/logger.js';
import { createTraceContext } from './trace-context.js';
import { withTraceLogger } from './trace-logger.js';

function pinoLines() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  // pino's own types are the proof of compatibility: it is passed where a Logger is expected.
  const logger: Logger = pino({ level: 'debug' }, stream);
  return { logger, lines };
}

describe('withTraceLogger', () => {
  it('binds the trace to every line of a real pino logger through child()', () => {
    const { logger, lines } = pinoLines();
    const trace = createTraceContext({ requestId: 'req-9' });
    const log = withTraceLogger(logger, trace);
    log.info({ orderId: 7 }, 'order accepted');
    log.warn({}, 'slow');
    log.child?.({ step: 'charge' }).error({ code: 'X' }, 'failed');
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).toMatchObject({
        traceId: trace.traceId,
        spanId: trace.spanId,
        requestId: 'req-9',
      });
    }
    expect(lines[0]).toMatchObject({ orderId: 7, msg: 'order accepted', level: 30 });
    expect(lines[2]).toMatchObject({ step: 'charge', code: 'X', level: 50 });
  });

  it('wraps a logger without child(), letting explicit fields win', () => {
    const calls: Array<[string, Record<string, unknown>, string | undefined]> = [];
    const record = (level: string) => (fields: Record<string, unknown>, message?: string) =>
      calls.push([level, fields, message]);
    const plain: Logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    const trace = createTraceContext();
    const log = withTraceLogger(plain, trace);
    log.debug({ a: 1 }, 'one');
    log.error({ spanId: 'explicit' });
    log.child?.({ job: 'sync' }).info({}, 'three');
    expect(calls).toEqual([
      ['debug', { traceId: trace.traceId, spanId: trace.spanId, a: 1 }, 'one'],
      ['error', { traceId: trace.traceId, spanId: 'explicit' }, undefined],
      ['info', { traceId: trace.traceId, spanId: trace.spanId, job: 'sync' }, 'three'],
    ]);
  });

  it('omits requestId when it is the trace id itself', () => {
    const { logger, lines } = pinoLines();
    const trace = createTraceContext();
    withTraceLogger(logger, { ...trace, requestId: trace.traceId }).info({}, 'x');
    expect(lines[0]).not.toHaveProperty('requestId');
  });
});

describe('traceLogFields', () => {
  it('gives traceId and spanId, and requestId only when it differs from the trace id', () => {
    const trace = createTraceContext();
    expect(traceLogFields(trace)).toEqual({ traceId: trace.traceId, spanId: trace.spanId });
    const withRequest = { ...trace, requestId: 'req-42' };
    expect(traceLogFields(withRequest)).toEqual({
      traceId: trace.traceId,
      spanId: trace.spanId,
      requestId: 'req-42',
    });
    expect(traceLogFields({ ...trace, requestId: trace.traceId })).toEqual({
      traceId: trace.traceId,
      spanId: trace.spanId,
    });
  });

  it('are the fields withTraceLogger binds to every line', () => {
    const trace = { ...createTraceContext(), requestId: 'req-1' };
    const lines: Array<Record<string, unknown>> = [];
    const write = (fields: Record<string, unknown>) => lines.push(fields);
    const logger: Logger = { debug: write, info: write, warn: write, error: write };
    withTraceLogger(logger, trace).info({ orderId: 7 }, 'accepted');
    expect(lines).toEqual([{ ...traceLogFields(trace), orderId: 7 }]);
  });

  it('refuses anything but a TraceContext with INVALID_OPTIONS naming itself', () => {
    for (const value of [undefined, null, 'trace']) {
      expect(() => traceLogFields(value as never)).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          message: expect.stringContaining('traceLogFields()'),
        }),
      );
    }
  });
});
