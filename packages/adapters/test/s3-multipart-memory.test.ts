/**
 * Review finding: a multipart put holds at most two part buffers, but they must be sized for the
 * object, not only for the setting: with `partSizeBytes: 512 MiB` a 6 MiB stream allocated two
 * 512 MiB buffers (1 GiB) for one small object.
 */
import { randomBytes } from 'node:crypto';
import { S3ObjectStorage } from '@ballast/adapters/s3';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { type S3TestServer, s3TestCredentials, startS3Server } from './support/s3-server.js';

const MiB = 1024 * 1024;
let s3: S3TestServer;

beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.close();
});

it('sizes the part buffers for the object when it is smaller than partSizeBytes', async () => {
  const storage = new S3ObjectStorage({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    credentials: s3TestCredentials,
    multipartThresholdBytes: 5 * MiB,
    partSizeBytes: 512 * MiB,
    timeoutMs: 3_000,
    uploadTimeoutMs: 10_000,
  });
  const bytes = randomBytes(6 * MiB);
  const allocations: number[] = [];
  const allocUnsafe = Buffer.allocUnsafe.bind(Buffer);
  const spy = vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
    allocations.push(size);
    return allocUnsafe(size);
  });
  try {
    await storage.put('review/small-multipart.bin', new Blob([bytes]).stream(), {
      contentLength: bytes.byteLength,
    });
  } finally {
    spy.mockRestore();
  }
  try {
    const stored = await storage.get('review/small-multipart.bin');
    expect(Buffer.from(await new Response(stored?.body).arrayBuffer()).equals(bytes)).toBe(true);
    expect(Math.max(0, ...allocations)).toBeLessThanOrEqual(bytes.byteLength);
  } finally {
    storage.client.destroy();
  }
});
