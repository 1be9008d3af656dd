/**
 * Reading a Node request stream to the end, with a bound: the one Node body reader, used by the
 * Express and Fastify idempotency and signature adapters alike (the web-stream counterpart is
 * `readRequestBody` in `@ballast/server`). The bytes received are counted, so a chunked body is
 * held to the bound as a declared one is. Over the bound it stops reading without destroying
 * the socket, so the 413 answer still reaches the client (Node discards the unread rest once
 * the response ends).
 */
import { BallastError } from '@ballast/core';
import { payloadTooLarge } from '@ballast/core/adapter-kit';

/** The part of a Node readable the reader uses (IncomingMessage and Fastify payloads). */
export interface ReadableBody {
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'data' | 'end' | 'error', listener: (...args: never[]) => void): unknown;
  pause(): unknown;
}

/**
 * The raw bytes of `stream`. Rejects with `PAYLOAD_TOO_LARGE` as soon as `declaredLength`
 * (the `content-length` header) or the bytes received exceed `maxBytes`.
 *
 * @internal
 */
export function readNodeBody(
  stream: ReadableBody,
  maxBytes: number,
  declaredLength?: string | string[],
): Promise<Buffer> {
  if (typeof declaredLength === 'string' && /^[0-9]+$/.test(declaredLength)) {
    if (Number(declaredLength) > maxBytes) return Promise.reject(payloadTooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += bytes.length;
      if (total > maxBytes) {
        stop();
        stream.pause();
        reject(payloadTooLarge(maxBytes));
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onError = (error: Error) => {
      stop();
      // A client that hangs up mid-body: nothing to verify, nobody to answer.
      reject(
        new BallastError('ABORTED', { message: 'The request body was cut off', cause: error }),
      );
    };
    // Only this reader's own listeners go: the server's stay attached.
    const stop = () => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}
