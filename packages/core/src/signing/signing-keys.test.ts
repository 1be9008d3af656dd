import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmacSha256, resolveKeys, webCryptoHmacSha256 } from './signing-keys.js';

// Node computes HMACs natively and other runtimes through WebCrypto; both must give the same
// bytes, or a signature made in a browser or a Worker would fail to verify on Node.
describe('hmacSha256', () => {
  it('gives the same MAC on the native and the WebCrypto path', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 32, maxLength: 80 }),
        fc.uint8Array({ maxLength: 4096 }),
        async (secret, data) => {
          const [key] = resolveKeys({ secret: secret.padEnd(32, 'x') }, 'ballast');
          const payload = new Uint8Array(data);
          const native = await hmacSha256(key!, payload);
          const web = await webCryptoHmacSha256(key!, payload);
          expect(Buffer.from(native).toString('hex')).toBe(Buffer.from(web).toString('hex'));
        },
      ),
      { numRuns: 200 },
    );
  });
});
