/**
 * SHA-256 and byte count of a stream as it passes through, so a backup is hashed while it is
 * written instead of read a second time. WebCrypto has no incremental digest, so this uses the
 * runtime's native one (Node, Deno and Bun provide `node:crypto`); elsewhere it fails with
 * `INVALID_OPTIONS` rather than buffering a whole dump.
 */
import { nativeCrypto } from '../crypto/native-crypto.js';
import { BallastError } from '../errors/ballast-error.js';
import { invalidArgument } from '../options/invalid-argument.js';

/** Running digest of the bytes seen so far. */
export interface StreamDigest {
  /** Bytes seen. */
  readonly bytes: number;
  /** Lower-case hex SHA-256; call once the stream has ended. */
  hex(): string;
}

function createSha256(): { update(data: Uint8Array): unknown; digest(encoding: 'hex'): string } {
  if (!nativeCrypto.createHash) {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'Backups need an incremental SHA-256 (node:crypto), which this runtime lacks.',
    });
  }
  return nativeCrypto.createHash('sha256');
}

/** A pass-through stream that hashes and counts what flows through it. */
export function digestingStream(onChunk?: (bytesSoFar: number) => void): {
  readonly stream: TransformStream<Uint8Array, Uint8Array>;
  readonly digest: StreamDigest;
} {
  const hash = createSha256();
  let bytes = 0;
  let hex: string | undefined;
  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      hash.update(chunk);
      bytes += chunk.byteLength;
      controller.enqueue(chunk);
      onChunk?.(bytes);
    },
  });
  return {
    stream,
    digest: {
      get bytes() {
        return bytes;
      },
      hex() {
        hex ??= hash.digest('hex');
        return hex;
      },
    },
  };
}

/** SHA-256 (hex) and size of everything `body` yields, reading it once. */
export async function digestStream(
  body: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): Promise<{ readonly checksum: string; readonly bytes: number }> {
  if (typeof (body as Partial<ReadableStream> | null)?.getReader !== 'function') {
    throw invalidArgument('digestStream()', 'body', 'a ReadableStream');
  }
  const hash = createSha256();
  let bytes = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      bytes += value.byteLength;
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
  return { checksum: hash.digest('hex'), bytes };
}
