/**
 * Interop with seed 003 §4 as written: an API that signs with Node's `crypto.createHmac` and an
 * edge that verifies with the seed's own WebCrypto snippet must work unchanged against Ballast.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { createSigner } from './signer.js';
import { createVerifier } from './verifier.js';

const secret = 'seed-003-internal-signing-secret-0123456789';

/** The seed's EdgeClient.generateSignature, verbatim. */
function seedSignature(body: string, timestamp: string): string {
  const payload = `${timestamp}.${body}`;
  return createHmac('sha256', secret).update(payload).digest('base64');
}

/** The seed's verifyInternalSignature, minus its `===` (the comparison Ballast replaces). */
async function seedVerify(body: string, signature: string, timestamp: string, now: number) {
  const requestTime = Number.parseInt(timestamp, 10);
  if (Math.abs(now - requestTime) > 5 * 60 * 1000) return false;
  const payload = `${timestamp}.${body}`;
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const signatureBuffer = await crypto.subtle.sign('HMAC', key, encoder.encode(payload));
  const expected = btoa(String.fromCharCode(...new Uint8Array(signatureBuffer)));
  return signature === expected;
}

const bodies = ['', '{"customer_id":"c1","plan_id":"p1"}', 'ünïcødé ✓ 🚀', 'a.b.c\n\r\0'];

describe('seed 003 §4 interop', () => {
  it.each(bodies)('verifies a createHmac signature of %j', async (body) => {
    const now = Date.UTC(2025, 0, 1);
    const timestamp = String(now - 1_234);
    const headers = {
      'content-type': 'application/json',
      'x-tenant-id': 'tenant-a',
      'x-timestamp': timestamp,
      'x-internal-signature': seedSignature(body, timestamp),
    };
    const verifier = createVerifier({ canonical: 'seed', secret, clock: new ManualClock(now) });
    await expect(verifier.verify({ body, headers })).resolves.toMatchObject({
      timestamp: now - 1_234,
    });
  });

  it.each(bodies)(
    'produces what createHmac produces, and the seed edge accepts it: %j',
    async (body) => {
      const now = Date.UTC(2025, 0, 1);
      const headers = await createSigner({
        canonical: 'seed',
        secret,
        clock: new ManualClock(now),
      }).sign({ body });
      expect(headers['x-timestamp']).toBe(String(now));
      expect(headers['x-internal-signature']).toBe(seedSignature(body, String(now)));
      expect(
        await seedVerify(body, headers['x-internal-signature']!, headers['x-timestamp']!, now),
      ).toBe(true);
    },
  );

  it('matches createHmac over raw bytes too (a Uint8Array body is signed as sent)', async () => {
    const now = Date.UTC(2025, 0, 1);
    const bytes = Uint8Array.from([0, 255, 128, 10, 46, 0xc3]);
    const headers = await createSigner({
      canonical: 'seed',
      secret,
      clock: new ManualClock(now),
    }).sign({
      body: bytes,
    });
    const expected = createHmac('sha256', secret)
      .update(Buffer.concat([Buffer.from(`${now}.`), bytes]))
      .digest('base64');
    expect(headers['x-internal-signature']).toBe(expected);
  });

  it('matches createHmac hex digests', async () => {
    const now = Date.UTC(2025, 0, 1);
    const signer = createSigner({
      canonical: 'seed',
      secret,
      encoding: 'hex',
      clock: new ManualClock(now),
    });
    const headers = await signer.sign({ body: 'x' });
    expect(headers['x-internal-signature']).toBe(
      createHmac('sha256', secret).update(`${now}.x`).digest('hex'),
    );
  });
});
