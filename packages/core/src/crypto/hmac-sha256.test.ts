import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacSha256Key, webCryptoHmacSha256Key } from './hmac-sha256.js';

// Node computes HMACs natively and other runtimes through WebCrypto; both must give the same
// bytes, or a signature made in a browser or a Worker would fail to verify on Node.
describe('hmacSha256Key', () => {
  it('gives the same MAC on the native and the WebCrypto path', async () => {
    const encoder = new TextEncoder();
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 32, maxLength: 80 }),
        fc.uint8Array({ maxLength: 4096 }),
        async (secret, data) => {
          const bytes = encoder.encode(secret.padEnd(32, 'x'));
          const payload = new Uint8Array(data);
          const native = await hmacSha256Key(bytes).sign(payload);
          const web = await webCryptoHmacSha256Key(bytes).sign(payload);
          expect(Buffer.from(native).toString('hex')).toBe(Buffer.from(web).toString('hex'));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('verifies its own MAC and nothing else', async () => {
    const key = hmacSha256Key(new TextEncoder().encode('k'.repeat(32)));
    const data = new TextEncoder().encode('payload');
    const mac = await key.sign(data);
    expect(await key.verify(mac, data)).toBe(true);
    const flipped = mac.slice();
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(await key.verify(flipped, data)).toBe(false);
    expect(await key.verify(mac.subarray(1), data)).toBe(false);
  });
});
