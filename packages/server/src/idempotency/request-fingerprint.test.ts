import { fingerprint } from '@ballast/core';
import { fingerprintPartsInSameTick } from '@ballast/server/adapter-kit';
import { describe, expect, it } from 'vitest';
import {
  fingerprintRequestParts,
  isJsonContentType,
  requestFingerprint,
} from './request-fingerprint.js';

const encoder = new TextEncoder();
const post = (body: string, contentType = 'application/json', url = 'http://h/sales?x=1') =>
  new Request(url, { method: 'POST', body, headers: { 'content-type': contentType } });

describe('requestFingerprint', () => {
  it('canonicalises JSON bodies: member order and whitespace do not matter', async () => {
    const a = await requestFingerprint(
      post('{"a":1,"b":[1,2]}'),
      encoder.encode('{"a":1,"b":[1,2]}'),
    );
    const b = await requestFingerprint(post(''), encoder.encode(' { "b" : [1, 2], "a": 1 } '));
    expect(a).toBe(b);
    // …and it equals what an adapter with a parsed body computes.
    expect(
      await fingerprintRequestParts({
        method: 'POST',
        path: '/sales?x=1',
        json: { b: [1, 2], a: 1 },
      }),
    ).toBe(a);
    expect(
      await fingerprint({ method: 'POST', path: '/sales?x=1', json: { a: 1, b: [1, 2] } }),
    ).toBe(a);
  });

  it('tells values apart and covers the query', async () => {
    const base = await requestFingerprint(post(''), encoder.encode('{"a":1}'));
    expect(await requestFingerprint(post(''), encoder.encode('{"a":"1"}'))).not.toBe(base);
    expect(
      await requestFingerprint(
        post('', 'application/json', 'http://h/sales'),
        encoder.encode('{"a":1}'),
      ),
    ).not.toBe(base);
  });

  it('hashes raw bytes for other types and for JSON that does not parse', async () => {
    const text = await requestFingerprint(post('', 'text/plain'), encoder.encode('{"a":1}'));
    expect(text).toBe(await fingerprint({ method: 'POST', path: '/sales?x=1', body: '{"a":1}' }));
    const broken = await requestFingerprint(post(''), encoder.encode('{"a":'));
    expect(broken).toBe(await fingerprint({ method: 'POST', path: '/sales?x=1', body: '{"a":' }));
  });

  it('treats an empty body as no body, whatever the content type', async () => {
    expect(await requestFingerprint(post(''), new Uint8Array())).toBe(
      await fingerprintRequestParts({ method: 'POST', path: '/sales?x=1' }),
    );
  });

  it('recognises JSON media types', () => {
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/merge-patch+json')).toBe(true);
    expect(isJsonContentType('Application/JSON')).toBe(true);
    expect(isJsonContentType('text/json')).toBe(false);
    expect(isJsonContentType(null)).toBe(false);
  });
});

describe('fingerprintPartsInSameTick', () => {
  const parts = { method: 'POST', path: '/sales?x=1', contentType: 'application/json' };

  it('answers with the string itself on Node, not a promise', () => {
    const result = fingerprintPartsInSameTick({ ...parts, body: '{"a":1}' });
    expect(typeof result).toBe('string');
  });

  it("equals fingerprintRequestParts's and requestFingerprint's answer for the same request", async () => {
    const raw = ' { "b": [1, 2], "a": 1 } ';
    const sameTick = fingerprintPartsInSameTick({ ...parts, body: raw });
    expect(sameTick).toBe(await fingerprintRequestParts({ ...parts, body: raw }));
    expect(sameTick).toBe(await requestFingerprint(post(raw), encoder.encode(raw)));
    // A body the framework already parsed, in another member order, is the same request.
    expect(fingerprintPartsInSameTick({ ...parts, body: { a: 1, b: [1, 2] } })).toBe(sameTick);
    expect(fingerprintPartsInSameTick({ ...parts, body: '{"a":2,"b":[1,2]}' })).not.toBe(sameTick);
    expect(fingerprintPartsInSameTick({ ...parts, path: '/sales?x=2', body: raw })).not.toBe(
      sameTick,
    );
  });

  it('throws INVALID_OPTIONS at once (no promise to reject) for parts that are not an object', () => {
    for (const value of [undefined, null, 'POST /sales']) {
      expect(() => fingerprintPartsInSameTick(value as never)).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          message: expect.stringContaining('fingerprintPartsInSameTick()'),
        }),
      );
    }
    expect(() => fingerprintPartsInSameTick({ method: 'GET /', path: '/' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});
