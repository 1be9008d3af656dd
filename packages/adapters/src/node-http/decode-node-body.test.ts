import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { isBallastError } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { decodeNodeBody } from './decode-node-body.js';

const text = '{"item":"café","quantity":2}';
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error) => error,
  );

describe('decodeNodeBody', () => {
  it('returns identity bytes and an empty body as they are', async () => {
    const bytes = Buffer.from(text);
    expect(await decodeNodeBody(bytes, 'identity', 1)).toBe(bytes);
    const empty = Buffer.alloc(0);
    expect(await decodeNodeBody(empty, 'gzip', 10)).toBe(empty);
  });

  it.each([
    ['gzip', gzipSync(text)],
    ['deflate', deflateSync(text)],
    ['deflate', deflateRawSync(text)],
    ['br', brotliCompressSync(text)],
  ] as const)('inflates %s', async (coding, bytes) => {
    expect((await decodeNodeBody(bytes, coding, 1_000)).toString()).toBe(text);
  });

  it('holds the inflated size to maxBytes: exactly the limit passes, one byte more is 413', async () => {
    const size = Buffer.byteLength(text);
    expect((await decodeNodeBody(gzipSync(text), 'gzip', size)).length).toBe(size);
    const error = await rejection(decodeNodeBody(gzipSync(text), 'gzip', size - 1));
    expect(isBallastError(error, 'PAYLOAD_TOO_LARGE')).toBe(true);
    expect(await rejection(decodeNodeBody(gzipSync(text), 'gzip', 0))).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
  });

  it('stops a zip bomb at the limit: 10 MB of zeros from about 10 kB is 413', async () => {
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024), { level: 9 });
    expect(bomb.length).toBeLessThan(20 * 1024);
    const error = await rejection(decodeNodeBody(bomb, 'gzip', 64 * 1024));
    expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { maxBytes: 65_536 } });
  });

  it.each([
    ['gzip', Buffer.from('not gzip')],
    ['gzip', gzipSync(text).subarray(0, 12)],
    ['deflate', Buffer.from('not deflate')],
    ['br', Buffer.from('not brotli at all')],
  ] as const)('refuses a corrupt %s body with 400 VALIDATION_FAILED', async (coding, bytes) => {
    const error = await rejection(decodeNodeBody(bytes, coding, 1_000));
    expect(error).toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
      details: { reason: 'not-decodable' },
    });
  });
});
