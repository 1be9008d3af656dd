import { assertPutBody, contentLengthMismatch, putStreamFailed } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';
import { MemoryObjectStorage } from './memory-object-storage.js';

describe('put bodies, alike in every storage', () => {
  it('assertPutBody accepts the three body shapes and a whole contentLength', () => {
    for (const body of ['text', new Uint8Array(2), new Blob(['x']).stream()]) {
      expect(() => assertPutBody(body, undefined)).not.toThrow();
    }
    expect(() => assertPutBody('abc', 3)).not.toThrow();
  });

  it('assertPutBody refuses a Blob and a contentLength that is no size, naming put()', () => {
    expect(() => assertPutBody(new Blob(['x']), undefined)).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        details: expect.objectContaining({ field: 'body' }),
      }),
    );
    for (const contentLength of [Number.NaN, -1, 1.5, '3']) {
      expect(() => assertPutBody('abc', contentLength)).toThrow(/put\(\).*"contentLength"/);
    }
  });

  it('contentLengthMismatch is a 400 on contentLength', () => {
    expect(contentLengthMismatch(3, '5')).toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
      details: { field: 'contentLength' },
    });
  });

  it("putStreamFailed: the caller's stream failing is UPLOAD_FAILED, not retryable; an abort stays ABORTED", () => {
    const cause = new Error('source broke off');
    expect(putStreamFailed('k', cause)).toMatchObject({
      code: 'UPLOAD_FAILED',
      retryable: false,
      cause,
    });
    const mismatch = contentLengthMismatch(3, '5');
    expect(putStreamFailed('k', mismatch)).toBe(mismatch);
    const controller = new AbortController();
    controller.abort();
    expect(putStreamFailed('k', cause, controller.signal)).toMatchObject({ code: 'ABORTED' });
  });

  it('MemoryObjectStorage holds a stream to its contentLength and stores nothing otherwise', async () => {
    const storage = new MemoryObjectStorage();
    await expect(
      storage.put('k', new Blob(['hello']).stream(), { contentLength: 3 }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'contentLength' } });
    expect(storage.objectCount).toBe(0);
    expect((await storage.put('k', new Blob(['hello']).stream(), { contentLength: 5 })).size).toBe(
      5,
    );
  });
});
