/**
 * Reading a put body into memory, for the stores that keep objects in memory or hash them with
 * WebCrypto (which has no incremental digest).
 */
import type { ObjectStorage } from './object-storage.js';

/** Every body shape `ObjectStorage.put` accepts. */
export type ObjectBody = Parameters<ObjectStorage['put']>[1];

const encoder = new TextEncoder();

/** The body's bytes; a `Uint8Array` is copied so later changes by the caller do not leak in. */
export async function readObjectBody(body: ObjectBody, signal?: AbortSignal): Promise<Uint8Array> {
  if (typeof body === 'string') return encoder.encode(body);
  if (body instanceof Uint8Array) return body.slice();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      length += value.length;
    }
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/** A stream of `bytes`, as `get` returns bodies. */
export function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(bytes.slice());
      controller.close();
    },
  });
}
