/**
 * Reading what passes through Fastify for the idempotency plugin: the request body held to
 * `maxBodyBytes` while Fastify reads it, and the reply payload captured up to
 * `maxResponseBytes` so it can be recorded (or found too large, so the key is released).
 */
import { Readable, Transform } from 'node:stream';
import type { BallastError } from '@ballast/core';
import { payloadTooLarge } from '@ballast/core/adapter-kit';

/** `PAYLOAD_TOO_LARGE`, with the `statusCode` Fastify's error handler answers with. */
export function tooLarge(maxBytes: number): BallastError & { statusCode: number } {
  // Fastify's error handler answers with `statusCode` when the bound is hit mid-stream.
  return Object.assign(payloadTooLarge(maxBytes), { statusCode: 413 });
}

/** Passes the body through, failing with 413 as soon as more than `maxBytes` went by. */
export function boundedBody(maxBytes: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      if (total > maxBytes) callback(tooLarge(maxBytes));
      else callback(null, chunk);
    },
  });
}

export type Captured =
  | { readonly bytes: Buffer | string }
  | { readonly stream: Readable }
  | { readonly uncapturable: true };

/**
 * Reads a Node stream payload up to `maxBytes`. Within the bound the bytes replace the stream;
 * past it, a stream that replays the bytes read so far and then the rest is returned.
 */
export async function captureStream(stream: Readable, maxBytes: number): Promise<Captured> {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return { bytes: Buffer.concat(chunks, total) };
    const chunk =
      typeof next.value === 'string' ? Buffer.from(next.value) : Buffer.from(next.value);
    chunks.push(chunk);
    total += chunk.length;
    if (total > maxBytes) break;
  }
  async function* rest(): AsyncGenerator<Buffer> {
    yield* chunks;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  return { stream: Readable.from(rest(), { objectMode: false }) };
}

/** True when `text` takes more than `maxBytes` as UTF-8 (counted only when it might). */
export function textTooLarge(text: string, maxBytes: number): boolean {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short text needs no counting.
  return text.length * 3 > maxBytes && Buffer.byteLength(text) > maxBytes;
}

/** The payload to record, for the payloads onSend cannot capture synchronously. */
export async function capturePayload(payload: unknown, maxBytes: number): Promise<Captured> {
  if (payload === undefined || payload === null) return { bytes: '' };
  if (payload instanceof Uint8Array) {
    return payload.length > maxBytes ? { uncapturable: true } : { bytes: Buffer.from(payload) };
  }
  if (payload instanceof Readable) return captureStream(payload, maxBytes);
  // A web stream or a Response sent as is: streamed to the client, not recorded.
  return { uncapturable: true };
}
