import { describe, expect, it } from 'vitest';
import { hasZlibHeader, requestContentCoding, undecodableBody } from '../adapter-kit/index.js';

const refusal = (header: Parameters<typeof requestContentCoding>[0]) => {
  try {
    requestContentCoding(header);
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('requestContentCoding', () => {
  it('names identity, gzip, deflate and br, in any case; absent or empty is identity', () => {
    expect(requestContentCoding(undefined)).toBe('identity');
    expect(requestContentCoding(null)).toBe('identity');
    expect(requestContentCoding(' ')).toBe('identity');
    expect(requestContentCoding('GZip')).toBe('gzip');
    expect(requestContentCoding(' deflate ')).toBe('deflate');
    expect(requestContentCoding('br')).toBe('br');
    expect(requestContentCoding(['gzip'])).toBe('gzip');
  });

  it('refuses another coding, and several, with 415 UNSUPPORTED_MEDIA_TYPE', () => {
    expect(refusal('compress')).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      status: 415,
      details: { reason: 'unsupported-content-coding' },
    });
    expect(refusal('x-gzip')).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(refusal('gzip, br')).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      details: { reason: 'several-content-codings' },
    });
    expect(refusal(['gzip', 'gzip'])).toMatchObject({
      details: { reason: 'several-content-codings' },
    });
  });
});

describe('hasZlibHeader', () => {
  it('tells a zlib-wrapped deflate stream from a raw one', () => {
    expect(hasZlibHeader(Uint8Array.of(0x78, 0x9c, 0x01))).toBe(true);
    expect(hasZlibHeader(Uint8Array.of(0x78, 0x01))).toBe(true);
    expect(hasZlibHeader(Uint8Array.of(0xab, 0x56))).toBe(false);
    expect(hasZlibHeader(Uint8Array.of(0x78))).toBe(false);
  });
});

describe('undecodableBody', () => {
  it("is the client's 400 VALIDATION_FAILED, naming the coding and keeping the cause", () => {
    const cause = new Error('incorrect header check');
    const error = undecodableBody('gzip', cause);
    expect(error).toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
      details: { reason: 'not-decodable' },
      message: 'The request body is not valid gzip data',
    });
    expect(error.cause).toBe(cause);
  });
});
