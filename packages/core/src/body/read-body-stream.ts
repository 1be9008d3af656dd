/**
 * Reading a body stream into memory, with a bound. Every Ballast layer that must hold a whole
 * body — fingerprinting an idempotent request, verifying a signature, hashing or buffering an
 * object before it is stored — reads it here, so a size limit means the same everywhere and no
 * body, chunked or not, gets past it: the bytes actually received are counted, and reading
 * stops (the stream is cancelled) as soon as they exceed the bound, before they fill memory.
 */
import { BallastError } from '../errors/ballast-error.js';
import { invalidArgument } from '../options/invalid-argument.js';

/** Options for {@link readBodyStream}. */
export interface ReadBodyStreamOptions {
  /** Largest body read, in bytes; more throws `PAYLOAD_TOO_LARGE` (413). Default: no bound. */
  readonly maxBytes?: number;
  /** Stops reading with the signal's reason when aborted. */
  readonly signal?: AbortSignal;
  /** The error thrown past `maxBytes`. Default {@link payloadTooLarge}. */
  readonly tooLarge?: (maxBytes: number) => Error;
}

/**
 * The `PAYLOAD_TOO_LARGE` error (413) every body reader throws past its bound, with
 * `details.maxBytes`.
 */
export function payloadTooLarge(maxBytes: number): BallastError {
  return new BallastError('PAYLOAD_TOO_LARGE', {
    message: `The request body is larger than ${maxBytes} bytes`,
    details: { maxBytes },
  });
}

/**
 * All bytes of `stream`, as one `Uint8Array` (one chunk backed by a plain `ArrayBuffer` is
 * returned as it is, without a copy). Past `maxBytes` the stream is cancelled and
 * `PAYLOAD_TOO_LARGE` thrown; an aborted `signal` cancels it and throws the signal's reason.
 *
 * @example
 * ```ts
 * const bytes = await readBodyStream(request.body, { maxBytes: 1_048_576 });
 * ```
 */
export async function readBodyStream(
  stream: ReadableStream<Uint8Array>,
  options: ReadBodyStreamOptions = {},
): Promise<Uint8Array<ArrayBuffer>> {
  if (typeof (stream as Partial<ReadableStream> | null)?.getReader !== 'function') {
    throw invalidArgument('readBodyStream()', 'stream', 'a ReadableStream');
  }
  // A stream another reader holds would fail with a bare TypeError from getReader().
  if (stream.locked) {
    throw invalidArgument('readBodyStream()', 'stream', 'a ReadableStream not being read already');
  }
  const { maxBytes = Number.POSITIVE_INFINITY, signal } = options;
  // NaN or a string would compare false against every count: a body read with no bound at all.
  if (typeof maxBytes !== 'number' || !(maxBytes >= 0)) {
    throw invalidArgument('readBodyStream()', 'maxBytes', 'a number of bytes, 0 or more');
  }
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const stop = async (error: unknown): Promise<never> => {
    await reader.cancel(error).catch(() => {
      // The stream is abandoned either way; the error below is what the caller needs.
    });
    throw error;
  };
  for (;;) {
    if (signal?.aborted) await stop(signal.reason);
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) await stop((options.tooLarge ?? payloadTooLarge)(maxBytes));
    chunks.push(value);
  }
  reader.releaseLock();
  const only = chunks.length === 1 ? chunks[0] : undefined;
  if (only && only.buffer instanceof ArrayBuffer) return only as Uint8Array<ArrayBuffer>;
  const body = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
