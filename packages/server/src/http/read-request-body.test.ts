import { isBallastError } from '@ballast/core';
import { readRequestBody } from '@ballast/server/adapter-kit';
import { describe, expect, it } from 'vitest';

const url = 'http://api.test/sales';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
}

/** A chunked request body of `chunks` bytes each, recording how many chunks were pulled. */
function streamed(chunks: number[], headers: Record<string, string> = {}) {
  const seen = { pulled: 0, cancelled: false as boolean };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const size = chunks[seen.pulled];
      seen.pulled += 1;
      if (size === undefined) controller.close();
      else controller.enqueue(new Uint8Array(size).fill(120));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  const request = new Request(url, {
    method: 'POST',
    body,
    headers,
    duplex: 'half',
  } as RequestInit);
  return { request, seen };
}

describe('readRequestBody', () => {
  it('returns the raw bytes, undecoded, and an empty array for a request without a body', async () => {
    const bytes = new Uint8Array([0xff, 0x00, 0x7b]);
    const body = await readRequestBody(new Request(url, { method: 'POST', body: bytes }), 10);
    expect([...body]).toEqual([0xff, 0x00, 0x7b]);
    expect((await readRequestBody(new Request(url), 10)).byteLength).toBe(0);
  });

  it('reads a body of exactly maxBytes, chunked or not', async () => {
    const fixed = new Request(url, { method: 'POST', body: 'x'.repeat(8) });
    expect((await readRequestBody(fixed, 8)).byteLength).toBe(8);
    expect((await readRequestBody(streamed([3, 5]).request, 8)).byteLength).toBe(8);
  });

  it('refuses a declared Content-Length over the bound before reading anything', async () => {
    const { request, seen } = streamed([4, 4, 4, 4, 4, 4], { 'content-length': '24' });
    const error = await rejection(readRequestBody(request, 10));
    expect(isBallastError(error, 'PAYLOAD_TOO_LARGE')).toBe(true);
    expect(error).toMatchObject({ status: 413, details: { maxBytes: 10 } });
    expect(seen.cancelled).toBe(true);
    // At most what the stream queues ahead by itself (one chunk), never the bytes past the bound.
    expect(seen.pulled).toBeLessThanOrEqual(1);
  });

  it('counts a chunked body as it arrives and stops at the chunk past the bound', async () => {
    const { request, seen } = streamed([4, 4, 4, 4, 4, 4]);
    const error = await rejection(readRequestBody(request, 10));
    expect(isBallastError(error, 'PAYLOAD_TOO_LARGE')).toBe(true);
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThan(6);
  });

  it('refuses a request whose body was already read with INVALID_OPTIONS, not a TypeError', async () => {
    const request = new Request(url, { method: 'POST', body: 'hello' });
    await request.text();
    const error = await rejection(readRequestBody(request, 100));
    expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toContain('readRequestBody()');
  });

  it('refuses what is not a Request, or a maxBytes that is not a number of bytes', async () => {
    for (const value of [undefined, null, 'body', { headers: {} }]) {
      const error = await rejection(readRequestBody(value as never, 10));
      expect(error).toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'request' } });
    }
    for (const maxBytes of [Number.NaN, -1, '10', undefined]) {
      const error = await rejection(
        readRequestBody(new Request(url, { method: 'POST', body: 'x' }), maxBytes as never),
      );
      expect(error, String(maxBytes)).toMatchObject({
        code: 'INVALID_OPTIONS',
        details: { field: 'maxBytes' },
      });
    }
  });
});
