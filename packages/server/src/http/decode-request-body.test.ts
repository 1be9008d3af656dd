import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeRequestBody } from './decode-request-body.js';

const text = '{"item":"café","quantity":2}';
const bytes = (buffer: Buffer) => new Uint8Array(buffer) as Uint8Array<ArrayBuffer>;
const decoded = async (body: Buffer, coding: string | null, maxBytes = 1_000) =>
  new TextDecoder().decode(await decodeRequestBody(bytes(body), coding, maxBytes));
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error) => error,
  );

describe('decodeRequestBody', () => {
  it('returns identity bytes as they are and inflates gzip and deflate, zlib-wrapped or raw', async () => {
    const plain = bytes(Buffer.from(text));
    expect(await decodeRequestBody(plain, null, 1_000)).toBe(plain);
    expect(await decoded(gzipSync(text), 'gzip')).toBe(text);
    expect(await decoded(deflateSync(text), 'deflate')).toBe(text);
    expect(await decoded(deflateRawSync(text), 'Deflate')).toBe(text);
  });

  it('holds the inflated size to maxBytes: a zip bomb is 413', async () => {
    const size = Buffer.byteLength(text);
    expect(await decoded(gzipSync(text), 'gzip', size)).toBe(text);
    expect(await rejection(decoded(gzipSync(text), 'gzip', size - 1))).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024), { level: 9 });
    expect(await rejection(decoded(bomb, 'gzip', 64 * 1024))).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      status: 413,
    });
  });

  it('refuses a corrupt body with 400 and another coding with 415', async () => {
    expect(await rejection(decoded(Buffer.from('not gzip'), 'gzip'))).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { reason: 'not-decodable' },
    });
    expect(await rejection(decoded(gzipSync(text).subarray(0, 15), 'gzip'))).toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(await rejection(decoded(Buffer.from(text), 'compress'))).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      status: 415,
    });
  });

  it('decodes br where the runtime does, and answers 415 where it does not', async () => {
    let runtimeDecodesBrotli = true;
    try {
      new DecompressionStream('brotli' as CompressionFormat);
    } catch {
      runtimeDecodesBrotli = false;
    }
    const attempt = decoded(brotliCompressSync(text), 'br');
    if (runtimeDecodesBrotli) expect(await attempt).toBe(text);
    else {
      expect(await rejection(attempt)).toMatchObject({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        details: { reason: 'not-decoded-by-this-runtime' },
      });
    }
  });
});
