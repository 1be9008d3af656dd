import { isBallastError } from '@ballast/core';
import { payloadTooLarge, readBodyStream } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';

const bytes = (...values: number[]) => new Uint8Array(values);

/** A stream of `chunks` that records how many were pulled and whether it was cancelled. */
function chunked(chunks: Uint8Array[]) {
  const seen = { pulled: 0, cancelled: false as boolean, reason: undefined as unknown };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks[seen.pulled];
      seen.pulled += 1;
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
    cancel(reason) {
      seen.cancelled = true;
      seen.reason = reason;
    },
  });
  return { stream, seen };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
}

describe('readBodyStream', () => {
  it('joins every chunk into one Uint8Array', async () => {
    const { stream } = chunked([bytes(1, 2), bytes(3), bytes(4, 5, 6)]);
    expect([...(await readBodyStream(stream))]).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await readBodyStream(chunked([]).stream)).byteLength).toBe(0);
  });

  it('returns a single chunk as it is, without a copy', async () => {
    const only = bytes(7, 8, 9);
    expect(await readBodyStream(chunked([only]).stream)).toBe(only);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const { stream } = chunked([bytes(1, 2), bytes(3, 4)]);
    expect((await readBodyStream(stream, { maxBytes: 4 })).byteLength).toBe(4);
  });

  it('past maxBytes, cancels the stream at once and throws PAYLOAD_TOO_LARGE (413)', async () => {
    const { stream, seen } = chunked([bytes(1, 2, 3), bytes(4, 5, 6), bytes(7), bytes(8)]);
    const error = await rejection(readBodyStream(stream, { maxBytes: 5 }));
    expect(isBallastError(error, 'PAYLOAD_TOO_LARGE')).toBe(true);
    expect(error).toMatchObject({ status: 413, details: { maxBytes: 5 } });
    expect(seen.cancelled).toBe(true);
    expect(seen.reason).toBe(error);
    // The chunk that crossed the bound was the last one read.
    expect(seen.pulled).toBeLessThanOrEqual(3);
  });

  it('throws what tooLarge builds instead, when given', async () => {
    const custom = new Error('too big for this route');
    const { stream } = chunked([bytes(1, 2, 3)]);
    const error = await rejection(
      readBodyStream(stream, { maxBytes: 2, tooLarge: (max) => Object.assign(custom, { max }) }),
    );
    expect(error).toBe(custom);
    expect(custom).toMatchObject({ max: 2 });
  });

  it("stops with the signal's reason when aborted, and cancels the stream", async () => {
    const controller = new AbortController();
    const reason = new Error('client went away');
    controller.abort(reason);
    const { stream, seen } = chunked([bytes(1)]);
    expect(await rejection(readBodyStream(stream, { signal: controller.signal }))).toBe(reason);
    expect(seen.cancelled).toBe(true);
  });

  it('rejects with INVALID_OPTIONS naming itself for a stream that is not one', async () => {
    for (const value of [undefined, null, 'body', bytes(1), new Blob(['x'])]) {
      const error = await rejection(readBodyStream(value as never));
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      expect((error as Error).message).toBe(
        'Invalid options for readBodyStream(): "stream": expected a ReadableStream',
      );
    }
  });

  it('rejects a maxBytes that is not a number of bytes, rather than read without a bound', async () => {
    for (const maxBytes of [Number.NaN, -1, '10', null]) {
      const error = await rejection(
        readBodyStream(chunked([bytes(1)]).stream, { maxBytes } as never),
      );
      expect(isBallastError(error, 'INVALID_OPTIONS'), String(maxBytes)).toBe(true);
      expect((error as { details: { field?: string } }).details.field).toBe('maxBytes');
    }
  });
});

describe('payloadTooLarge', () => {
  it('builds the 413 PAYLOAD_TOO_LARGE error with details.maxBytes', () => {
    const error = payloadTooLarge(1_048_576);
    expect(isBallastError(error, 'PAYLOAD_TOO_LARGE')).toBe(true);
    expect(error.status).toBe(413);
    expect(error.retryable).toBe(false);
    expect(error.details).toEqual({ maxBytes: 1_048_576 });
    expect(error.message).toBe('The request body is larger than 1048576 bytes');
  });
});

describe('readBodyStream on a stream another reader holds', () => {
  it('rejects with INVALID_OPTIONS, not the stream’s own TypeError', async () => {
    const { stream } = chunked([bytes(1)]);
    const reader = stream.getReader();
    const error = await rejection(readBodyStream(stream));
    expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as { details: { field?: string } }).details.field).toBe('stream');
    // The other reader still owns the stream and reads it whole.
    expect((await reader.read()).value).toEqual(bytes(1));
  });
});
