import { pickTraceFromHeadersOptions } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';
import { isBallastError } from '../errors/ballast-error.js';
import { childSpan, createTraceContext } from './trace-context.js';
import { createTraceReader, traceContextFromHeaders, traceHeaders } from './trace-headers.js';
import { isValidSpanId, isValidTraceId } from './trace-ids.js';
import { parseTraceparent } from './traceparent.js';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const parentId = '00f067aa0ba902b7';

describe('traceContextFromHeaders', () => {
  it('continues a valid traceparent with a new span', () => {
    const trace = traceContextFromHeaders(
      new Headers({ traceparent: `00-${traceId}-${parentId}-00` }),
    );
    expect(trace.traceId).toBe(traceId);
    expect(trace.parentId).toBe(parentId);
    expect(trace.sampled).toBe(false);
    expect(isValidSpanId(trace.spanId)).toBe(true);
    expect(trace.spanId).not.toBe(parentId);
    expect(trace.requestId).toBeUndefined();
  });

  it('uses a UUID x-request-id as the trace id and keeps it as the request id', () => {
    const uuid = '7b0e9c4e-2f0a-4d39-9b1e-0c1e6a3d5f21';
    const trace = traceContextFromHeaders(new Headers({ 'x-request-id': uuid }));
    expect(trace.traceId).toBe('7b0e9c4e2f0a4d399b1e0c1e6a3d5f21');
    expect(trace.requestId).toBe(uuid);
    expect(trace.parentId).toBeUndefined();
  });

  it('keeps an opaque request id beside a new trace id', () => {
    const trace = traceContextFromHeaders(new Headers({ 'x-request-id': 'req-42' }));
    expect(isValidTraceId(trace.traceId)).toBe(true);
    expect(trace.requestId).toBe('req-42');
  });

  it('prefers traceparent over x-request-id and keeps both', () => {
    const trace = traceContextFromHeaders(
      new Headers({
        traceparent: `00-${traceId}-${parentId}-01`,
        'x-request-id': '7b0e9c4e-2f0a-4d39-9b1e-0c1e6a3d5f21',
      }),
    );
    expect(trace.traceId).toBe(traceId);
    expect(trace.requestId).toBe('7b0e9c4e-2f0a-4d39-9b1e-0c1e6a3d5f21');
  });

  it('starts a new trace for invalid headers, never throwing', () => {
    const trace = traceContextFromHeaders(
      new Headers({
        traceparent: `00-${'0'.repeat(32)}-${parentId}-01`,
        'x-request-id': 'evil;drop',
      }),
    );
    expect(isValidTraceId(trace.traceId)).toBe(true);
    expect(trace.traceId).not.toBe('0'.repeat(32));
    expect(trace.parentId).toBeUndefined();
    expect(trace.requestId).toBeUndefined();
    expect(trace.sampled).toBe(true);
  });

  it('ignores incoming ids when told not to trust them', () => {
    const read = createTraceReader({ trustIncoming: false, sampled: false });
    const trace = read(
      new Headers({ traceparent: `00-${traceId}-${parentId}-01`, 'x-request-id': 'req-1' }),
    );
    expect(trace.traceId).not.toBe(traceId);
    expect(trace.requestId).toBeUndefined();
    expect(trace.sampled).toBe(false);
  });

  it('reads a custom request id header, case-insensitively', () => {
    const read = createTraceReader({ requestIdHeader: 'X-Correlation-Id' });
    expect(read(new Headers({ 'x-correlation-id': 'c-1' })).requestId).toBe('c-1');
  });

  it('validates its options', () => {
    try {
      createTraceReader({ maxRequestIdLength: 0 });
      expect.unreachable();
    } catch (error) {
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      if (isBallastError(error)) expect(error.details.field).toBe('maxRequestIdLength');
    }
    expect(() => createTraceReader({ requestIdHeader: 'bad header' })).toThrow(/requestIdHeader/);
  });
});

describe('traceHeaders and childSpan', () => {
  it('announce the current span and the request id', () => {
    const root = createTraceContext({ traceId, requestId: 'req-7' });
    const child = childSpan(root);
    expect(child).toMatchObject({
      traceId,
      parentId: root.spanId,
      sampled: true,
      requestId: 'req-7',
    });
    expect(child.spanId).not.toBe(root.spanId);
    const headers = traceHeaders(child);
    expect(parseTraceparent(headers.traceparent)).toMatchObject({
      traceId,
      parentId: child.spanId,
      sampled: true,
    });
    expect(headers['x-request-id']).toBe('req-7');
  });

  it('fall back to the trace id as request id', () => {
    const root = createTraceContext({ traceId });
    expect(traceHeaders(root, 'x-correlation-id')).toEqual({
      traceparent: `00-${traceId}-${root.spanId}-01`,
      'x-correlation-id': traceId,
    });
  });

  it('carry a trace across a hop unchanged', () => {
    const sender = childSpan(createTraceContext());
    const receiver = traceContextFromHeaders(new Headers(traceHeaders(sender)));
    expect(receiver.traceId).toBe(sender.traceId);
    expect(receiver.parentId).toBe(sender.spanId);
  });
});

describe('pickTraceFromHeadersOptions', () => {
  const middlewareOptions = {
    trustIncoming: false,
    requestIdHeader: 'x-correlation-id',
    maxRequestIdLength: 64,
    sampled: false,
    logger: console,
    logRequests: true,
  };

  it('keeps the four trace fields of a larger options object and drops the rest', () => {
    const picked = pickTraceFromHeadersOptions(middlewareOptions);
    expect(Object.keys(picked).sort()).toEqual([
      'maxRequestIdLength',
      'requestIdHeader',
      'sampled',
      'trustIncoming',
    ]);
    expect(picked).toEqual({
      trustIncoming: false,
      requestIdHeader: 'x-correlation-id',
      maxRequestIdLength: 64,
      sampled: false,
    });
  });

  it('hands createTraceReader options it accepts, where the whole object is refused', () => {
    expect(() => createTraceReader(middlewareOptions)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    const readTrace = createTraceReader(
      pickTraceFromHeadersOptions({ ...middlewareOptions, trustIncoming: true }),
    );
    const trace = readTrace(new Headers({ 'x-correlation-id': 'corr-1', 'x-request-id': 'other' }));
    expect(trace.requestId).toBe('corr-1');
    expect(trace.sampled).toBe(false);
    // Fields left out stay absent, so the reader's defaults apply.
    const defaults = createTraceReader(pickTraceFromHeadersOptions({}));
    expect(defaults(new Headers({ 'x-request-id': 'req-7' })).requestId).toBe('req-7');
  });

  it('refuses anything but an options object with INVALID_OPTIONS naming itself', () => {
    for (const value of [undefined, null, 'trustIncoming', 1]) {
      let error: unknown;
      try {
        pickTraceFromHeadersOptions(value as never);
      } catch (caught) {
        error = caught;
      }
      expect(isBallastError(error, 'INVALID_OPTIONS'), String(value)).toBe(true);
      expect((error as Error).message).toContain('pickTraceFromHeadersOptions()');
    }
  });
});
