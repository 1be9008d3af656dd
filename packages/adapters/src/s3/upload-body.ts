/**
 * Turns a port `put` body into something a single S3 PutObject can send. S3 needs the length
 * of the body before it starts, so a stream is sent as it is only when the caller states
 * `contentLength` (and the stream is held to exactly that many bytes, so a wrong length fails
 * with a clear error instead of a hung request or a truncated object); otherwise it is read
 * into memory up to a limit and sent as bytes.
 */
import { Readable } from 'node:stream';
import { BallastError } from '@ballast/core';
import { contentLengthMismatch, putStreamFailed, readBodyStream } from '@ballast/core/adapter-kit';

/** A body ready for PutObject, with its size in bytes. */
export interface UploadBody {
  readonly body: string | Uint8Array | Readable;
  readonly size: number;
  /** The caller's stream failed while being sent (not S3's fault): its error, else undefined. */
  readonly sourceError: () => unknown;
  /** Calls `listener` when the caller's stream fails, so the request can be aborted at once. */
  readonly onSourceError: (listener: () => void) => void;
  /** Stops reading the caller's stream (after a failed call). */
  readonly discard: () => void;
}

function inMemory(bytes: Uint8Array): UploadBody {
  return {
    body: bytes,
    size: bytes.byteLength,
    sourceError: () => undefined,
    onSourceError: () => {},
    discard: () => {},
  };
}

export async function prepareUploadBody(
  key: string,
  body: Uint8Array | string | ReadableStream<Uint8Array>,
  contentLength: number | undefined,
  maxBufferedBytes: number,
): Promise<UploadBody> {
  if (typeof body === 'string') return inMemory(new TextEncoder().encode(body));
  if (body instanceof Uint8Array) return inMemory(body);
  if (contentLength !== undefined) return streamOfExactLength(body, contentLength);
  try {
    return inMemory(await readWithin(body, maxBufferedBytes));
  } catch (error) {
    // The caller's stream failed before anything was sent: not S3's fault.
    throw putStreamFailed(key, error);
  }
}

function streamOfExactLength(stream: ReadableStream<Uint8Array>, length: number): UploadBody {
  let failure: unknown;
  const listeners: Array<() => void> = [];
  const reader = stream.getReader();
  async function* exactly(): AsyncGenerator<Uint8Array> {
    let sent = 0;
    let finished = false;
    // The chunk that completes the declared length waits until the stream is known to end
    // there: sent at once, it would give the server a whole body to store even when more bytes
    // follow and put() then fails.
    let last: Uint8Array | undefined;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (value.byteLength === 0) continue;
        if (last !== undefined) throw contentLengthMismatch(length, `more than ${length}`);
        sent += value.byteLength;
        if (sent > length) throw contentLengthMismatch(length, `more than ${length}`);
        if (sent === length) last = value;
        else yield value;
      }
      if (sent !== length) throw contentLengthMismatch(length, String(sent));
      if (last !== undefined) yield last;
      finished = true;
    } catch (error) {
      failure ??= error;
      throw error;
    } finally {
      // Ended early (failure, or the request was abandoned): release the caller's source.
      if (!finished) {
        await reader.cancel(failure).catch(() => {
          // An errored stream rejects cancel(); the first error is the one that matters.
        });
      }
    }
  }
  const readable = Readable.from(exactly());
  // Without a listener a failing source would be an uncaught exception: `pipe` into the HTTP
  // request does not forward errors. The listener also aborts the request, which would
  // otherwise wait for the rest of a body that never comes.
  readable.on('error', (error) => {
    failure ??= error;
    for (const listener of listeners) listener();
  });
  return {
    body: readable,
    size: length,
    sourceError: () => failure,
    onSourceError: (listener) => listeners.push(listener),
    discard: () => readable.destroy(),
  };
}

function readWithin(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  return readBodyStream(stream, {
    maxBytes: limit,
    tooLarge: () =>
      new BallastError('PAYLOAD_TOO_LARGE', {
        message: `put() buffers a stream without contentLength up to ${limit} bytes; pass contentLength to stream larger bodies`,
        details: { limit },
      }),
  });
}

/** A put whose body stream (the caller's) failed, carried out of the breaker as a value. */
export class SourceStreamFailed {
  constructor(readonly error: unknown) {}
}

export async function sha256Base64(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>),
  );
  let binary = '';
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary);
}
