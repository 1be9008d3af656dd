import { createTraceReader, defaultMaxRequestIdLength } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { parseRequestId, traceIdFromRequestId } from './request-id.js';

describe('parseRequestId', () => {
  it('accepts common id shapes', () => {
    for (const id of [
      '7b0e9c4e-2f0a-4d39-9b1e-0c1e6a3d5f21',
      '01HZX3Q4J6R8W9Y2B5C7D0E1F3',
      'Root=1-5759e988-bd862e3fe1be46a994272793',
      'req_abc.123:4+5/6@7',
    ]) {
      expect(parseRequestId(id)).toBe(id);
    }
  });

  it('trims surrounding whitespace', () => {
    expect(parseRequestId('  abc  ')).toBe('abc');
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['CR/LF injection', 'abc\r\nset-cookie: x=1'],
    ['space inside', 'a b'],
    ['quote', 'a"b'],
    ['comma (two headers joined)', 'a, b'],
    ['non-ASCII', 'café'],
    ['too long', 'a'.repeat(129)],
  ])('rejects %s', (_name, value) => {
    expect(parseRequestId(value)).toBeUndefined();
  });

  it('honours a custom length bound', () => {
    expect(parseRequestId('abcd', 3)).toBeUndefined();
    expect(parseRequestId('abc', 3)).toBe('abc');
  });
});

describe('traceIdFromRequestId', () => {
  it('maps a UUID and 32 hex digits to a trace id', () => {
    expect(traceIdFromRequestId('7B0E9C4E-2F0A-4D39-9B1E-0C1E6A3D5F21')).toBe(
      '7b0e9c4e2f0a4d399b1e0c1e6a3d5f21',
    );
    expect(traceIdFromRequestId('4bf92f3577b34da6a3ce929d0e0e4736')).toBe(
      '4bf92f3577b34da6a3ce929d0e0e4736',
    );
  });

  it('refuses other shapes and the zero id', () => {
    expect(traceIdFromRequestId('req-123')).toBeUndefined();
    expect(traceIdFromRequestId('00000000-0000-0000-0000-000000000000')).toBeUndefined();
  });
});

describe('defaultMaxRequestIdLength', () => {
  it('is 128, the bound of parseRequestId and of a trace reader given no maxRequestIdLength', () => {
    expect(defaultMaxRequestIdLength).toBe(128);
    const longest = 'r'.repeat(defaultMaxRequestIdLength);
    const tooLong = `${longest}r`;
    expect(parseRequestId(longest)).toBe(longest);
    expect(parseRequestId(tooLong)).toBeUndefined();
    const readTrace = createTraceReader();
    expect(readTrace(new Headers({ 'x-request-id': longest })).requestId).toBe(longest);
    expect(readTrace(new Headers({ 'x-request-id': tooLong })).requestId).toBeUndefined();
    // A larger bound is the caller's choice, up to 1024.
    const wider = createTraceReader({ maxRequestIdLength: 1_024 });
    expect(wider(new Headers({ 'x-request-id': tooLong })).requestId).toBe(tooLong);
    expect(() => createTraceReader({ maxRequestIdLength: 1_025 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});
