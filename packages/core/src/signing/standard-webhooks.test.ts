/**
 * Interop with the `standardwebhooks` package (the reference JavaScript implementation of
 * https://www.standardwebhooks.com) in both directions, including its key-rotation scheme of
 * several space-separated signatures.
 */
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import { MemoryNonceStore } from './memory-nonce-store.js';
import { createSigner } from './signer.js';
import { generateSigningSecret } from './signing-keys.js';
import { createVerifier } from './verifier.js';

// The secret and message of the Standard Webhooks reference test vector.
const specSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const specId = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const specTimestamp = 1614265330;
const specBody = '{"test": 2432232314}';
const specSignature = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    if (!isBallastError(error)) throw error;
    return `${error.code}/${String(error.details.reason)}`;
  }
}

describe('Standard Webhooks format', () => {
  it('reproduces the specification test vector', async () => {
    const clock = new ManualClock(specTimestamp * 1000);
    const signer = createSigner({ secret: specSecret, format: 'standard-webhooks', clock });
    const headers = await signer.sign({ nonce: specId, body: specBody });
    expect(headers).toEqual({
      'webhook-id': specId,
      'webhook-timestamp': String(specTimestamp),
      'webhook-signature': specSignature,
    });
    const verifier = createVerifier({ secret: specSecret, format: 'standard-webhooks', clock });
    await expect(verifier.verify({ body: specBody, headers })).resolves.toEqual({
      format: 'standard-webhooks',
      timestamp: specTimestamp * 1000,
      keyId: undefined,
      nonce: specId,
    });
  });

  it('Ballast-signed webhooks verify with the standardwebhooks package', async () => {
    const secret = generateSigningSecret({ format: 'standard-webhooks' });
    const signer = createSigner({ secret, format: 'standard-webhooks' });
    const body = JSON.stringify({ type: 'contract.created.v1', data: { id: 'c1', name: 'Zoë' } });
    const headers = await signer.sign({ body });
    expect(headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('webhooks signed by the standardwebhooks package verify with Ballast', async () => {
    const secret = generateSigningSecret({ format: 'standard-webhooks' });
    const body = '{"type":"invoice.paid","amount":1200}';
    const now = new Date();
    const headers = {
      'webhook-id': 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign('msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', now, body),
    };
    const verifier = createVerifier({ secret, format: 'standard-webhooks' });
    await expect(verifier.verify({ body, headers })).resolves.toMatchObject({
      nonce: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
    });
    await expect(
      verifier.verify({ body: new TextEncoder().encode(body), headers }),
    ).resolves.toBeDefined();
    expect(await code(verifier.verify({ body: `${body} `, headers }))).toBe(
      'SIGNATURE_INVALID/signature-mismatch',
    );
  });

  it('rotation: signs with every secret, and each side accepts either one', async () => {
    const previous = generateSigningSecret({ format: 'standard-webhooks' });
    const current = generateSigningSecret({ format: 'standard-webhooks' });
    const signer = createSigner({
      secrets: [{ secret: current }, { secret: previous }],
      format: 'standard-webhooks',
    });
    const body = '{"ok":true}';
    const headers = await signer.sign({ body });
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    // A consumer still on the previous secret, and one already on the current, both accept.
    expect(new Webhook(previous).verify(body, headers)).toEqual({ ok: true });
    expect(new Webhook(current).verify(body, headers)).toEqual({ ok: true });
    // Ballast as a consumer accepts a sender that still signs with the previous secret only.
    const fromPeer = {
      ...headers,
      'webhook-signature': new Webhook(previous).sign(
        headers['webhook-id']!,
        new Date(Number(headers['webhook-timestamp']) * 1000),
        body,
      ),
    };
    const verifier = createVerifier({
      secrets: [
        { id: 'current', secret: current },
        { id: 'previous', secret: previous },
      ],
      format: 'standard-webhooks',
    });
    await expect(verifier.verify({ body, headers: fromPeer })).resolves.toMatchObject({
      keyId: 'previous',
    });
  });

  it('skips unknown signature schemes and accepts any matching v1 entry', async () => {
    const clock = new ManualClock(specTimestamp * 1000);
    const verifier = createVerifier({ secret: specSecret, format: 'standard-webhooks', clock });
    const headers = {
      'webhook-id': specId,
      'webhook-timestamp': String(specTimestamp),
      'webhook-signature': `v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw== v1,${'A'.repeat(43)}= ${specSignature}`,
    };
    await expect(verifier.verify({ body: specBody, headers })).resolves.toBeDefined();
  });

  it.each([
    ['missing id', { 'webhook-id': undefined }, 'SIGNATURE_MISSING/header-missing'],
    ['id with a full stop', { 'webhook-id': 'msg.1' }, 'SIGNATURE_INVALID/nonce-malformed'],
    [
      'seconds that are not digits',
      { 'webhook-timestamp': '16142653e0' },
      'SIGNATURE_INVALID/timestamp-malformed',
    ],
    ['no v1 entry', { 'webhook-signature': 'v2,abc' }, 'SIGNATURE_INVALID/signature-malformed'],
    [
      'signature without version',
      { 'webhook-signature': specSignature.slice(3) },
      'SIGNATURE_INVALID/signature-malformed',
    ],
    [
      'too many entries',
      { 'webhook-signature': Array(17).fill(specSignature).join(' ') },
      'SIGNATURE_INVALID/signature-malformed',
    ],
    [
      'a megabyte of spaces',
      { 'webhook-signature': `${specSignature}${' '.repeat(1_000_000)}${specSignature}` },
      'SIGNATURE_INVALID/signature-malformed',
    ],
    ['tampered id', { 'webhook-id': 'msg_other' }, 'SIGNATURE_INVALID/signature-mismatch'],
    [
      'tampered timestamp',
      { 'webhook-timestamp': String(specTimestamp + 1) },
      'SIGNATURE_INVALID/signature-mismatch',
    ],
  ] as const)('refuses %s', async (_name, change, expected) => {
    const clock = new ManualClock(specTimestamp * 1000);
    const verifier = createVerifier({ secret: specSecret, format: 'standard-webhooks', clock });
    const headers = {
      'webhook-id': specId,
      'webhook-timestamp': String(specTimestamp),
      'webhook-signature': specSignature,
      ...change,
    };
    expect(await code(verifier.verify({ body: specBody, headers }))).toBe(expected);
  });

  it('refuses stale and future deliveries like the package (5 minutes)', async () => {
    const clock = new ManualClock(specTimestamp * 1000 + 5 * 60_000 + 1);
    const verifier = createVerifier({ secret: specSecret, format: 'standard-webhooks', clock });
    const headers = {
      'webhook-id': specId,
      'webhook-timestamp': String(specTimestamp),
      'webhook-signature': specSignature,
    };
    expect(await code(verifier.verify({ body: specBody, headers }))).toBe(
      'SIGNATURE_EXPIRED/too-old',
    );
    clock.setNow(specTimestamp * 1000 - 5 * 60_000 - 1);
    expect(await code(verifier.verify({ body: specBody, headers }))).toBe(
      'SIGNATURE_EXPIRED/in-future',
    );
  });

  it('replay guard: an exact replay is refused, a retry of the same event is not', async () => {
    const clock = new ManualClock(specTimestamp * 1000);
    const nonceStore = new MemoryNonceStore({ clock });
    const options = { secret: specSecret, format: 'standard-webhooks', clock } as const;
    const verifier = createVerifier({ ...options, nonceStore });
    const signer = createSigner(options);
    const first = await signer.sign({ nonce: 'evt_1', body: specBody });
    expect(await code(verifier.verify({ body: specBody, headers: first }))).toBe('accepted');
    expect(await code(verifier.verify({ body: specBody, headers: first }))).toBe(
      'SIGNATURE_REPLAYED/nonce-seen',
    );
    await clock.advance(5_000);
    const retry = await signer.sign({ nonce: 'evt_1', body: specBody });
    expect(await code(verifier.verify({ body: specBody, headers: retry }))).toBe('accepted');
  });

  it('refuses a signing id that would make the payload ambiguous', async () => {
    const signer = createSigner({ secret: specSecret, format: 'standard-webhooks' });
    await expect(signer.sign({ nonce: 'a.b', body: '' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      details: { field: 'nonce' },
    });
  });
});
