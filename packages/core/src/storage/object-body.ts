/**
 * Reading a put body into memory, for the stores that keep objects in memory or hash them with
 * WebCrypto (which has no incremental digest).
 */
import { readBodyStream } from '../body/read-body-stream.js';
import type { ObjectStorage } from './object-storage.js';

/** Every body shape `ObjectStorage.put` accepts. */
export type ObjectBody = Parameters<ObjectStorage['put']>[1];

const encoder = /* @__PURE__ */ new TextEncoder();

/** The body's bytes; a `Uint8Array` is copied so later changes by the caller do not leak in. */
export async function readObjectBody(body: ObjectBody, signal?: AbortSignal): Promise<Uint8Array> {
  if (typeof body === 'string') return encoder.encode(body);
  if (body instanceof Uint8Array) return body.slice();
  // A fresh copy: the caller may reuse the chunks it enqueued.
  return (await readBodyStream(body, signal ? { signal } : {})).slice();
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
