import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordResponse, replayResponse } from './recorded-response.js';

const encoder = new TextEncoder();

function parts(headers: HeadersInit, body: Uint8Array | string, status = 201) {
  return {
    status,
    headers: new Headers(headers),
    body: typeof body === 'string' ? encoder.encode(body) : body,
  };
}

const fullHeaders: Array<[string, string]> = [
  ['Content-Type', 'application/json'],
  ['Location', '/sales/7'],
  ['ETag', '"v1"'],
  ['Set-Cookie', 'session=secret'],
  ['Connection', 'keep-alive'],
  ['Transfer-Encoding', 'chunked'],
  ['X-Request-Id', 'r-1'],
  ['Content-Length', '11'],
];

describe('recordResponse', () => {
  it('keeps the default allow-list only: no Set-Cookie, no hop-by-hop, no others', () => {
    const recorded = recordResponse(parts(fullHeaders, '{"id":7}'));
    expect(recorded).toEqual({
      status: 201,
      headers: [
        ['content-type', 'application/json'],
        ['etag', '"v1"'],
        ['location', '/sales/7'],
      ],
      body: { encoding: 'text', data: '{"id":7}' },
    });
  });

  it('keeps Set-Cookie and custom headers only when listed; hop-by-hop never', () => {
    const withCookies = new Headers(fullHeaders);
    withCookies.append('Set-Cookie', 'theme=dark');
    const recorded = recordResponse({ status: 200, headers: withCookies, body: new Uint8Array() }, [
      'Set-Cookie',
      'x-request-id',
      'connection',
      'transfer-encoding',
      'content-length',
    ]);
    expect(recorded.headers).toEqual([
      ['set-cookie', 'session=secret'],
      ['set-cookie', 'theme=dark'],
      ['x-request-id', 'r-1'],
    ]);
    expect(recorded.body).toBeNull();
  });

  it('keeps binary and non-UTF-8 bodies as base64, exactly', async () => {
    const bytes = new Uint8Array(70_000).map((_, index) => (index * 31) % 256);
    const binary = recordResponse(parts({ 'content-type': 'application/octet-stream' }, bytes));
    expect(binary.body?.encoding).toBe('base64');
    const mislabelled = recordResponse(
      parts({ 'content-type': 'text/plain' }, new Uint8Array([0xff, 0xfe])),
    );
    expect(mislabelled.body).toEqual({ encoding: 'base64', data: '//4=' });
    const replayed = replayResponse(JSON.parse(JSON.stringify(binary)));
    expect(new Uint8Array(await replayed.arrayBuffer())).toEqual(bytes);
  });

  it('keeps text bodies as text for text/*, JSON, +json, XML and forms', () => {
    for (const type of [
      'text/html; charset=utf-8',
      'application/problem+json',
      'application/xml',
      'application/x-www-form-urlencoded',
    ]) {
      expect(recordResponse(parts({ 'content-type': type }, 'ñandú ✓')).body).toEqual({
        encoding: 'text',
        data: 'ñandú ✓',
      });
    }
  });
});

describe('recordResponse with a plain header record', () => {
  it('records what the same headers as a Headers would give, text bodies as they are', () => {
    const record = {
      'Content-Type': ' application/json ',
      location: '/sales/7',
      etag: '"v1"',
      'set-cookie': ['a=1', 'b=2'],
      'x-many': ['1', '2'],
      'content-length': 11,
      'x-skip': undefined,
    };
    const names = ['content-type', 'location', 'etag', 'set-cookie', 'x-many', 'content-length'];
    const asHeaders = new Headers();
    for (const [name, value] of Object.entries(record)) {
      if (value === undefined) continue;
      for (const item of Array.isArray(value) ? value : [value])
        asHeaders.append(name, String(item));
    }
    const fromRecord = recordResponse({ status: 201, headers: record, body: '{"id":7}' }, names);
    expect(fromRecord).toEqual(recordResponse(parts(asHeaders, '{"id":7}'), names));
    expect(fromRecord.headers).toEqual([
      ['content-type', 'application/json'],
      ['etag', '"v1"'],
      ['location', '/sales/7'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['x-many', '1, 2'],
    ]);
  });

  it('agrees with Headers for any record: names in any case, repeats, lists, numbers, spaces (property)', () => {
    const name = fc.constantFrom(
      'Content-Type',
      'content-type',
      'Location',
      'LOCATION',
      'set-cookie',
      'Set-Cookie',
      'x-many',
      'etag',
      'x-other',
    );
    const text = fc.stringMatching(/^[ \t]?[!-~]{0,6}(?: [!-~]{1,4})?[ \t]?$/);
    const value = fc.oneof(
      text,
      fc.nat(),
      fc.array(text, { maxLength: 3 }),
      fc.constant(undefined),
    );
    const names = ['content-type', 'location', 'etag', 'set-cookie', 'x-many'];
    fc.assert(
      fc.property(fc.dictionary(name, value), (record) => {
        const asHeaders = new Headers();
        for (const [key, item] of Object.entries(record)) {
          if (item === undefined) continue;
          for (const one of Array.isArray(item) ? item : [item]) asHeaders.append(key, String(one));
        }
        expect(recordResponse({ status: 200, headers: record, body: 'x' }, names)).toEqual(
          recordResponse({ status: 200, headers: asHeaders, body: 'x' }, names),
        );
      }),
    );
  });

  it('records text as its UTF-8 bytes: base64 for binary types, U+FFFD for a lone surrogate', () => {
    const binary = recordResponse({
      status: 200,
      headers: { 'content-type': 'application/octet-stream' },
      body: 'hé',
    });
    expect(binary.body).toEqual({ encoding: 'base64', data: btoa('h\xc3\xa9') });
    const lone = recordResponse({
      status: 200,
      headers: { 'content-type': 'text/plain' },
      body: 'a\ud800b',
    });
    expect(lone.body).toEqual({ encoding: 'text', data: 'a\ufffdb' });
    expect(recordResponse({ status: 200, headers: {}, body: '' }).body).toBeNull();
  });
});

describe('replayResponse', () => {
  it('replays status, recorded headers and body, with Idempotent-Replayed: true', async () => {
    const recorded = JSON.parse(JSON.stringify(recordResponse(parts(fullHeaders, '{"id":7}'))));
    const response = replayResponse(recorded);
    expect(response.status).toBe(201);
    expect(Object.fromEntries(response.headers)).toEqual({
      'content-type': 'application/json',
      etag: '"v1"',
      location: '/sales/7',
      'idempotent-replayed': 'true',
    });
    expect(await response.text()).toBe('{"id":7}');
  });

  it('sends no body for 204 and empty records', async () => {
    const noContent = replayResponse({ status: 204, headers: [], body: null });
    expect(noContent.status).toBe(204);
    expect(await noContent.text()).toBe('');
  });

  it('refuses something that is not a recorded response', () => {
    expect(() => replayResponse({ status: 99, headers: [], body: null })).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
  });
});
