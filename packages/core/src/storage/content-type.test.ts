import { describe, expect, it } from 'vitest';
import { assertContentType, maxContentTypeLength } from './content-type.js';

describe('assertContentType', () => {
  it('accepts no content type and any header value up to the limit', () => {
    for (const contentType of [undefined, 'application/pdf', 'text/plain; charset=utf-8', 'é/ü']) {
      expect(() => assertContentType(contentType)).not.toThrow();
    }
    expect(() => assertContentType('x'.repeat(maxContentTypeLength))).not.toThrow();
  });

  it('refuses control characters and overlong values with VALIDATION_FAILED on contentType', () => {
    for (const contentType of [
      'text/html\r\nx-amz-acl: public-read',
      'a\u0000b',
      'a\u007fb',
      'x'.repeat(maxContentTypeLength + 1),
    ]) {
      expect(() => assertContentType(contentType)).toThrow(
        expect.objectContaining({
          code: 'VALIDATION_FAILED',
          status: 400,
          details: { field: 'contentType' },
        }),
      );
    }
  });

  it("refuses a value that is not a string as the calling code's mistake", () => {
    for (const contentType of [null, 5, {}]) {
      expect(() => assertContentType(contentType as unknown as string)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS', details: { field: 'contentType' } }),
      );
    }
  });
});
