import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import { toProblem } from '../errors/problem.js';
import { MemoryNonceStore } from './memory-nonce-store.js';
import { createSigner } from './signer.js';
import { createVerifier } from './verifier.js';
import type { VerifierOptions } from './verifier-config.js';

const secret = 'internal-signing-secret-of-at-least-32-bytes';
const otherSecret = 'another-signing-secret-of-at-least-32-bytes!';
const start = Date.UTC(2025, 5, 1, 12, 0, 0);

/** The rejection's code and reason, or 'accepted'. */
async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    if (!isBallastError(error)) throw error;
    return `${error.code}/${String(error.details.reason ?? '')}`;
  }
}

function strictPair(options: Partial<VerifierOptions> = {}) {
  const clock = new ManualClock(start);
  const signer = createSigner({ secret, canonical: 'strict', nonce: true, clock });
  const verifier = createVerifier({ secret, canonical: 'strict', clock, ...options });
  return { clock, signer, verifier };
}

const request = {
  method: 'POST',
  path: '/contracts?draft=1',
  body: '{"customer_id":"c1","plan_id":"p1"}',
  headers: { 'x-tenant-id': 'tenant-a', 'idempotency-key': 'key-1' },
};

async function signedStrict(signer: ReturnType<typeof strictPair>['signer']) {
  const signature = await signer.sign(request);
  const headers: Record<string, string> = { ...request.headers, ...signature };
  return { ...request, headers };
}

describe('defaults: the strict form', () => {
  it('a captured request does not verify as another method, path or tenant, nor twice', async () => {
    const clock = new ManualClock(start);
    const signer = createSigner({ secret, clock });
    const verifier = createVerifier({ secret, clock, nonceStore: new MemoryNonceStore({ clock }) });
    expect(signer.canonical).toBe('strict');
    expect(verifier.canonical).toBe('strict');
    const captured = await signedStrict(signer);
    expect(captured.headers['x-nonce']).toMatch(/^[0-9a-f-]{36}$/);
    const forged = [
      { ...captured, method: 'DELETE' },
      { ...captured, path: '/admin/tenants' },
      { ...captured, headers: { ...captured.headers, 'x-tenant-id': 'tenant-b' } },
    ];
    for (const input of forged) {
      expect(await outcome(verifier.verify(input))).toBe('SIGNATURE_INVALID/signature-mismatch');
    }
    expect(await outcome(verifier.verify(captured))).toBe('accepted');
    expect(await outcome(verifier.verify(captured))).toBe('SIGNATURE_REPLAYED/nonce-seen');
  });

  it('a verifier without method and path is a programming error in the default form', async () => {
    const { verifier } = strictPair();
    const signed = await signedStrict(createSigner({ secret, clock: new ManualClock(start) }));
    expect(await outcome(verifier.verify({ body: signed.body, headers: signed.headers }))).toBe(
      'INVALID_OPTIONS/',
    );
  });
});

describe('createVerifier: the seed form (opt-in)', () => {
  it('accepts what the signer signed and reports the timestamp', async () => {
    const clock = new ManualClock(start);
    const signer = createSigner({ canonical: 'seed', secret, clock });
    const verifier = createVerifier({ canonical: 'seed', secret, clock });
    const body = '{"hello":"world"}';
    const headers = await signer.sign({ body });
    expect(Object.keys(headers).sort()).toEqual(['x-internal-signature', 'x-timestamp']);
    expect(headers['x-timestamp']).toBe(String(start));
    expect(headers['x-internal-signature']).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    await expect(verifier.verify({ body, headers })).resolves.toEqual({
      format: 'ballast',
      timestamp: start,
      keyId: undefined,
      nonce: undefined,
    });
  });

  it('signs bytes exactly as sent: a Uint8Array body and its UTF-8 string verify alike', async () => {
    const clock = new ManualClock(start);
    const signer = createSigner({ canonical: 'seed', secret, clock });
    const verifier = createVerifier({ canonical: 'seed', secret, clock });
    const text = 'größe → 🚀';
    const bytes = new TextEncoder().encode(text);
    const headers = await signer.sign({ body: bytes });
    await expect(verifier.verify({ body: text, headers })).resolves.toBeDefined();
    await expect(verifier.verify({ body: bytes, headers })).resolves.toBeDefined();
    const latin1 = Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
    expect(await outcome(verifier.verify({ body: latin1, headers }))).toBe(
      'SIGNATURE_INVALID/signature-mismatch',
    );
  });

  it('refuses a tampered body or timestamp with SIGNATURE_INVALID', async () => {
    const clock = new ManualClock(start);
    const signer = createSigner({ canonical: 'seed', secret, clock });
    const verifier = createVerifier({ canonical: 'seed', secret, clock });
    const headers = await signer.sign({ body: '{"amount":10}' });
    expect(await outcome(verifier.verify({ body: '{"amount":99}', headers }))).toBe(
      'SIGNATURE_INVALID/signature-mismatch',
    );
    const shifted = { ...headers, 'x-timestamp': String(start - 1) };
    expect(await outcome(verifier.verify({ body: '{"amount":10}', headers: shifted }))).toBe(
      'SIGNATURE_INVALID/signature-mismatch',
    );
  });

  it('refuses a signature made with another secret', async () => {
    const clock = new ManualClock(start);
    const headers = await createSigner({ canonical: 'seed', secret: otherSecret, clock }).sign({
      body: 'x',
    });
    const verifier = createVerifier({ canonical: 'seed', secret, clock });
    expect(await outcome(verifier.verify({ body: 'x', headers }))).toBe(
      'SIGNATURE_INVALID/signature-mismatch',
    );
  });

  it('accepts hex signatures and seconds when both sides say so', async () => {
    const clock = new ManualClock(start);
    const signer = createSigner({
      canonical: 'seed',
      secret,
      clock,
      encoding: 'hex',
      timestampUnit: 's',
    });
    const headers = await signer.sign({ body: 'b' });
    expect(headers['x-internal-signature']).toMatch(/^[0-9a-f]{64}$/);
    expect(headers['x-timestamp']).toBe(String(start / 1000));
    const verifier = createVerifier({ canonical: 'seed', secret, clock, timestampUnit: 's' });
    await expect(verifier.verify({ body: 'b', headers })).resolves.toMatchObject({
      timestamp: start,
    });
    // A verifier expecting milliseconds reads the seconds as 1970: expired, not accepted.
    expect(
      await outcome(
        createVerifier({ canonical: 'seed', secret, clock }).verify({ body: 'b', headers }),
      ),
    ).toBe('SIGNATURE_EXPIRED/too-old');
  });

  it('uses custom header names on both sides', async () => {
    const clock = new ManualClock(start);
    const headerNames = { timestamp: 'X-Signed-At', signature: 'x-sig' };
    const headers = await createSigner({ canonical: 'seed', secret, clock, headerNames }).sign({
      body: '',
    });
    expect(Object.keys(headers).sort()).toEqual(['x-sig', 'x-signed-at']);
    await expect(
      createVerifier({ canonical: 'seed', secret, clock, headerNames }).verify({ headers }),
    ).resolves.toBeDefined();
  });
});

describe('createVerifier: tolerance window', () => {
  it('accepts up to 5 minutes old, refuses older with SIGNATURE_EXPIRED', async () => {
    const clock = new ManualClock(start);
    const headers = await createSigner({ canonical: 'seed', secret, clock }).sign({ body: 'b' });
    const verifier = createVerifier({ canonical: 'seed', secret, clock });
    await clock.advance(5 * 60_000);
    expect(await outcome(verifier.verify({ body: 'b', headers }))).toBe('accepted');
    await clock.advance(1);
    expect(await outcome(verifier.verify({ body: 'b', headers }))).toBe(
      'SIGNATURE_EXPIRED/too-old',
    );
  });

  it('refuses a timestamp from the future beyond the future tolerance', async () => {
    const clock = new ManualClock(start);
    const signer = createSigner({ canonical: 'seed', secret, clock });
    const verifier = createVerifier({
      canonical: 'seed',
      secret,
      clock,
      toleranceMs: { future: 30_000 },
    });
    const ahead = await signer.sign({ body: 'b', timestamp: start + 30_000 });
    expect(await outcome(verifier.verify({ body: 'b', headers: ahead }))).toBe('accepted');
    const tooFar = await signer.sign({ body: 'b', timestamp: start + 30_001 });
    expect(await outcome(verifier.verify({ body: 'b', headers: tooFar }))).toBe(
      'SIGNATURE_EXPIRED/in-future',
    );
  });

  it('configures past and future separately, or both with one number', async () => {
    const clock = new ManualClock(start);
    const signer = createSigner({ canonical: 'seed', secret, clock });
    const old = await signer.sign({ body: '', timestamp: start - 61_000 });
    const both = createVerifier({ canonical: 'seed', secret, clock, toleranceMs: 60_000 });
    const pastOnly = createVerifier({
      canonical: 'seed',
      secret,
      clock,
      toleranceMs: { past: 120_000 },
    });
    expect(await outcome(both.verify({ headers: old }))).toBe('SIGNATURE_EXPIRED/too-old');
    expect(await outcome(pastOnly.verify({ headers: old }))).toBe('accepted');
  });

  it('checks the window before the HMAC, so a stale forgery costs nothing', async () => {
    const clock = new ManualClock(start);
    const verifier = createVerifier({ canonical: 'seed', secret, clock });
    const headers = { 'x-timestamp': '1', 'x-internal-signature': 'A'.repeat(43) + '=' };
    expect(await outcome(verifier.verify({ headers }))).toBe('SIGNATURE_EXPIRED/too-old');
  });
});

describe('createVerifier: key rotation', () => {
  it('signs with the first (newest) key and accepts any active one', async () => {
    const clock = new ManualClock(start);
    const oldSigner = createSigner({ canonical: 'seed', secrets: [{ id: 'k1', secret }], clock });
    const newSigner = createSigner({
      canonical: 'seed',
      secrets: [
        { id: 'k2', secret: otherSecret },
        { id: 'k1', secret },
      ],
      clock,
    });
    const verifier = createVerifier({
      canonical: 'seed',
      secrets: [
        { id: 'k1', secret },
        { id: 'k2', secret: otherSecret },
      ],
      clock,
    });
    const fromOld = await oldSigner.sign({ body: 'b' });
    const fromNew = await newSigner.sign({ body: 'b' });
    expect(fromOld['x-key-id']).toBe('k1');
    expect(fromNew['x-key-id']).toBe('k2');
    await expect(verifier.verify({ body: 'b', headers: fromOld })).resolves.toMatchObject({
      keyId: 'k1',
    });
    await expect(verifier.verify({ body: 'b', headers: fromNew })).resolves.toMatchObject({
      keyId: 'k2',
    });
  });

  it('tries every active key when no key id is sent', async () => {
    const clock = new ManualClock(start);
    const headers = await createSigner({ canonical: 'seed', secret: otherSecret, clock }).sign({
      body: 'b',
    });
    const verifier = createVerifier({
      canonical: 'seed',
      secrets: [{ id: 'a', secret }, { secret: otherSecret }],
      clock,
    });
    await expect(verifier.verify({ body: 'b', headers })).resolves.toMatchObject({
      keyId: undefined,
    });
  });

  it('refuses a retired key and an unknown key id', async () => {
    const clock = new ManualClock(start);
    const retired = await createSigner({
      canonical: 'seed',
      secrets: [{ id: 'k0', secret: otherSecret }],
      clock,
    }).sign({ body: 'b' });
    const verifier = createVerifier({ canonical: 'seed', secrets: [{ id: 'k1', secret }], clock });
    expect(await outcome(verifier.verify({ body: 'b', headers: retired }))).toBe(
      'SIGNATURE_INVALID/key-id-unknown',
    );
    const { 'x-key-id': _dropped, ...withoutId } = retired;
    expect(await outcome(verifier.verify({ body: 'b', headers: withoutId }))).toBe(
      'SIGNATURE_INVALID/signature-mismatch',
    );
  });

  it('does not let a key id steer verification to the wrong key', async () => {
    const clock = new ManualClock(start);
    const headers = await createSigner({
      canonical: 'seed',
      secrets: [{ id: 'k1', secret }],
      clock,
    }).sign({
      body: 'b',
    });
    const verifier = createVerifier({
      canonical: 'seed',
      secrets: [
        { id: 'k1', secret },
        { id: 'k2', secret: otherSecret },
      ],
      clock,
    });
    expect(
      await outcome(verifier.verify({ body: 'b', headers: { ...headers, 'x-key-id': 'k2' } })),
    ).toBe('SIGNATURE_INVALID/signature-mismatch');
  });
});

describe('createVerifier: strict form', () => {
  it('round-trips with method, path, tenant, idempotency key and nonce signed', async () => {
    const { signer, verifier } = strictPair();
    const signed = await signedStrict(signer);
    expect(signed.headers['x-nonce']).toMatch(/^[0-9a-f-]{36}$/);
    await expect(verifier.verify(signed)).resolves.toMatchObject({
      nonce: signed.headers['x-nonce'],
      timestamp: start,
    });
  });

  it.each([
    ['body', { body: '{"customer_id":"c2","plan_id":"p1"}' }],
    ['method', { method: 'PUT' }],
    ['path', { path: '/contracts?draft=0' }],
    ['path without query', { path: '/contracts' }],
  ])('refuses a tampered %s', async (_name, change) => {
    const { signer, verifier } = strictPair();
    const signed = await signedStrict(signer);
    expect(await outcome(verifier.verify({ ...signed, ...change }))).toBe(
      'SIGNATURE_INVALID/signature-mismatch',
    );
  });

  it.each([
    ['tenant header changed', { 'x-tenant-id': 'tenant-b' }],
    ['idempotency key changed', { 'idempotency-key': 'key-2' }],
    ['timestamp changed', { 'x-timestamp': String(start + 1) }],
    ['nonce changed', { 'x-nonce': 'another-nonce' }],
    ['tenant header emptied', { 'x-tenant-id': '' }],
  ])('refuses a request with its %s', async (_name, change) => {
    const { signer, verifier } = strictPair();
    const signed = await signedStrict(signer);
    const tampered = { ...signed, headers: { ...signed.headers, ...change } };
    expect(await outcome(verifier.verify(tampered))).toBe('SIGNATURE_INVALID/signature-mismatch');
  });

  it('refuses a signed header that was absent when signed and added later', async () => {
    const { signer, verifier } = strictPair();
    const signature = await signer.sign({ ...request, headers: { 'x-tenant-id': 'tenant-a' } });
    const added = { ...request, headers: { 'x-tenant-id': 'tenant-a', ...signature } };
    await expect(verifier.verify(added)).resolves.toBeDefined();
    const withKey = { ...added, headers: { ...added.headers, 'idempotency-key': 'k' } };
    expect(await outcome(verifier.verify(withKey))).toBe('SIGNATURE_INVALID/signature-mismatch');
  });

  it('treats method case and a fetch Headers object like the wire does', async () => {
    const { signer, verifier } = strictPair();
    const signature = await signer.sign({ ...request, method: 'post' });
    const headers = new Headers({ ...request.headers, ...signature });
    await expect(verifier.verify({ ...request, headers })).resolves.toBeDefined();
  });

  it('signs the target fetch will send for an absolute URL', async () => {
    const { signer, verifier } = strictPair();
    const signature = await signer.sign({
      ...request,
      path: 'https://edge.internal/v1/../contracts?draft=1#ignored',
    });
    const headers = { ...request.headers, ...signature };
    await expect(verifier.verify({ ...request, headers })).resolves.toBeDefined();
  });

  it('demands method and path from the caller (a programming error, not a 403)', async () => {
    const { signer, verifier } = strictPair();
    const signed = await signedStrict(signer);
    expect(await outcome(verifier.verify({ body: signed.body, headers: signed.headers }))).toBe(
      'INVALID_OPTIONS/',
    );
    await expect(signer.sign({ body: 'x', path: '/a' })).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      details: { field: 'method' },
    });
    await expect(signer.sign({ method: 'GET', path: 'not a path' })).rejects.toMatchObject({
      details: { field: 'path' },
    });
  });

  it('signs and checks a Content-Digest when asked', async () => {
    const clock = new ManualClock(start);
    const signer = createSigner({ secret, canonical: 'strict', contentDigest: true, clock });
    const verifier = createVerifier({
      secret,
      canonical: 'strict',
      requireContentDigest: true,
      clock,
    });
    const signed = await signedStrict(signer);
    expect(signed.headers['content-digest']).toMatch(/^sha-256=:[A-Za-z0-9+/]{43}=:$/);
    await expect(verifier.verify(signed)).resolves.toBeDefined();
    const { 'content-digest': _cd, ...without } = signed.headers;
    expect(await outcome(verifier.verify({ ...signed, headers: without }))).toBe(
      'SIGNATURE_MISSING/header-missing',
    );
    const swapped = { ...signed.headers, 'content-digest': 'sha-512=:AAAA:' };
    expect(await outcome(verifier.verify({ ...signed, headers: swapped }))).toBe(
      'SIGNATURE_INVALID/signature-mismatch',
    );
  });

  it('refuses a wrong Content-Digest even in the seed form', async () => {
    const clock = new ManualClock(start);
    const signer = createSigner({ canonical: 'seed', secret, contentDigest: true, clock });
    const verifier = createVerifier({ canonical: 'seed', secret, clock });
    const headers = await signer.sign({ body: 'b' });
    const digestOfOther = (
      await createSigner({ canonical: 'seed', secret, contentDigest: true, clock }).sign({
        body: 'c',
      })
    )['content-digest'];
    expect(
      await outcome(
        verifier.verify({ body: 'b', headers: { ...headers, 'content-digest': digestOfOther } }),
      ),
    ).toBe('SIGNATURE_INVALID/content-digest-mismatch');
    expect(
      await outcome(
        verifier.verify({ body: 'b', headers: { ...headers, 'content-digest': 'garbage' } }),
      ),
    ).toBe('SIGNATURE_INVALID/content-digest-malformed');
  });
});

describe('createVerifier: replay guard', () => {
  it('accepts a nonce once and refuses the replay with SIGNATURE_REPLAYED', async () => {
    const clock = new ManualClock(start);
    const nonceStore = new MemoryNonceStore({ clock });
    const signer = createSigner({ secret, canonical: 'strict', nonce: true, clock });
    const verifier = createVerifier({ secret, canonical: 'strict', clock, nonceStore });
    const signed = await signedStrict(signer);
    expect(await outcome(verifier.verify(signed))).toBe('accepted');
    await clock.advance(60_000);
    expect(await outcome(verifier.verify(signed))).toBe('SIGNATURE_REPLAYED/nonce-seen');
    // A fresh signature (new nonce) of the same call passes: that is a retry, not a replay.
    expect(await outcome(verifier.verify(await signedStrict(signer)))).toBe('accepted');
    // Once the window has closed the replay is refused as expired, and the nonce may go.
    await clock.advance(5 * 60_000);
    expect(await outcome(verifier.verify(signed))).toBe('SIGNATURE_EXPIRED/too-old');
  });

  it('requires a nonce when a store is configured', async () => {
    const clock = new ManualClock(start);
    const signer = createSigner({ secret, canonical: 'strict', nonce: false, clock });
    const verifier = createVerifier({
      secret,
      canonical: 'strict',
      clock,
      nonceStore: new MemoryNonceStore({ clock }),
    });
    expect(await outcome(verifier.verify(await signedStrict(signer)))).toBe(
      'SIGNATURE_MISSING/header-missing',
    );
  });

  it('stores a nonce only after the signature verified, until the window closes', async () => {
    const clock = new ManualClock(start);
    const calls: Array<[string, number]> = [];
    const nonceStore = {
      checkAndStore: async (nonce: string, expiresAt: number) => {
        calls.push([nonce, expiresAt]);
        return true;
      },
    };
    const verifier = createVerifier({ secret, canonical: 'strict', clock, nonceStore });
    const signer = createSigner({ secret, canonical: 'strict', nonce: true, clock });
    const signed = await signedStrict(signer);
    const forged = { ...signed, body: 'forged' };
    expect(await outcome(verifier.verify(forged))).toBe('SIGNATURE_INVALID/signature-mismatch');
    expect(calls).toEqual([]);
    await verifier.verify(signed);
    expect(calls).toEqual([[`nonce:${signed.headers['x-nonce']}`, start + 5 * 60_000]]);
  });

  it('fails closed when the store fails', async () => {
    const clock = new ManualClock(start);
    const nonceStore = {
      checkAndStore: async () => {
        throw new Error('redis down');
      },
    };
    const verifier = createVerifier({ secret, canonical: 'strict', clock, nonceStore });
    const signer = createSigner({ secret, canonical: 'strict', nonce: true, clock });
    await expect(verifier.verify(await signedStrict(signer))).rejects.toThrow('redis down');
  });
});

describe('createVerifier: malformed headers are refusals with a code, never crashes', () => {
  const clock = new ManualClock(start);
  const verifier = createVerifier({ canonical: 'seed', secret, clock });
  const signer = createSigner({ canonical: 'seed', secret, clock });

  it.each([
    ['no headers at all', {}, 'SIGNATURE_MISSING/header-missing'],
    [
      'empty signature',
      { 'x-timestamp': String(start), 'x-internal-signature': '' },
      'SIGNATURE_MISSING/header-missing',
    ],
    ['no timestamp', { 'x-timestamp': undefined }, 'SIGNATURE_MISSING/header-missing'],
    ['non-numeric timestamp', { 'x-timestamp': 'soon' }, 'SIGNATURE_INVALID/timestamp-malformed'],
    ['negative timestamp', { 'x-timestamp': '-1' }, 'SIGNATURE_INVALID/timestamp-malformed'],
    [
      'fractional timestamp',
      { 'x-timestamp': `${start}.5` },
      'SIGNATURE_INVALID/timestamp-malformed',
    ],
    ['exponent timestamp', { 'x-timestamp': '1e12' }, 'SIGNATURE_INVALID/timestamp-malformed'],
    ['huge timestamp', { 'x-timestamp': '9'.repeat(400) }, 'SIGNATURE_INVALID/timestamp-malformed'],
    [
      'a megabyte of inner spaces (no quadratic trimming)',
      { 'x-timestamp': `1${' '.repeat(1_000_000)}2` },
      'SIGNATURE_INVALID/timestamp-malformed',
    ],
    ['far-future timestamp', { 'x-timestamp': '999999999999999' }, 'SIGNATURE_EXPIRED/in-future'],
    [
      'comma-joined timestamps',
      { 'x-timestamp': `${start}, ${start}` },
      'SIGNATURE_INVALID/timestamp-malformed',
    ],
    [
      'duplicate timestamp (array)',
      { 'x-timestamp': [String(start), String(start)] },
      'SIGNATURE_INVALID/duplicate-header',
    ],
    [
      'duplicate timestamp (two spellings)',
      { 'X-Timestamp': String(start), 'x-timestamp': String(start) },
      'SIGNATURE_INVALID/duplicate-header',
    ],
    [
      'numeric timestamp',
      { 'x-timestamp': start as unknown as string },
      'SIGNATURE_INVALID/header-not-string',
    ],
    [
      'wrong base64',
      { 'x-internal-signature': '!!!notbase64!!!' },
      'SIGNATURE_INVALID/signature-malformed',
    ],
    [
      'short signature',
      { 'x-internal-signature': 'AAAA' },
      'SIGNATURE_INVALID/signature-malformed',
    ],
    [
      'unpadded base64',
      { 'x-internal-signature': 'A'.repeat(43) },
      'SIGNATURE_INVALID/signature-malformed',
    ],
    [
      'comma-joined signatures',
      { 'x-internal-signature': `${'A'.repeat(43)}=, ${'A'.repeat(43)}=` },
      'SIGNATURE_INVALID/signature-malformed',
    ],
    [
      'duplicate signature',
      { 'x-internal-signature': ['a', 'b'] },
      'SIGNATURE_INVALID/duplicate-header',
    ],
    [
      'object signature',
      { 'x-internal-signature': [{}] as unknown as string[] },
      'SIGNATURE_INVALID/header-not-string',
    ],
    [
      'huge signature',
      { 'x-internal-signature': 'A'.repeat(1_000_000) },
      'SIGNATURE_INVALID/signature-malformed',
    ],
    ['key id with spaces', { 'x-key-id': 'a b' }, 'SIGNATURE_INVALID/key-id-malformed'],
    [
      'wrong but well-formed signature',
      { 'x-internal-signature': 'A'.repeat(43) + '=' },
      'SIGNATURE_INVALID/signature-mismatch',
    ],
  ] as const)('%s', async (_name, change, expected) => {
    const valid = await signer.sign({ body: 'b' });
    const headers = Object.keys(change).length === 0 ? {} : { ...valid, ...change };
    expect(await outcome(verifier.verify({ body: 'b', headers }))).toBe(expected);
  });

  it('treats null or missing header objects as missing signatures', async () => {
    const input = { body: 'b', headers: null } as unknown as Parameters<typeof verifier.verify>[0];
    expect(await outcome(verifier.verify(input))).toBe('SIGNATURE_MISSING/header-missing');
  });

  it('answers every refusal with a 403 problem that leaks no secret', async () => {
    try {
      await verifier.verify({ body: 'b', headers: {} });
      expect.unreachable();
    } catch (error) {
      if (!isBallastError(error)) throw error;
      const problem = toProblem(error, { instance: '/contracts' });
      expect(problem).toMatchObject({ status: 403, code: 'SIGNATURE_MISSING', retryable: false });
      expect(problem.header).toBe('x-internal-signature');
      expect(JSON.stringify(problem)).not.toContain(secret);
    }
  });
});

describe('options validation', () => {
  it.each([
    [{ secret: '' }, 'secret', /required/],
    [{}, 'secret', /required/],
    [{ secret: 'short-secret' }, 'secret', /at least 32 bytes/],
    [{ secret: new Uint8Array(31) }, 'secret', /at least 32 bytes/],
    [
      {
        secrets: [
          { id: 'a', secret },
          { id: 'b', secret: 'short' },
        ],
      },
      'secrets.1.secret',
      /32/,
    ],
    [
      {
        secrets: [
          { id: 'a', secret },
          { id: 'a', secret: otherSecret },
        ],
      },
      'secrets.1.id',
      /duplicate/,
    ],
    [{ secrets: [] }, 'secrets', /./],
    [{ secret, secrets: [{ secret }] }, 'secrets', /either/],
    [{ secret, keyId: 'has space' }, 'keyId', /./],
    [{ secret: 'whsec_not base64!' }, 'secret', /base64/],
    [{ secret, format: 'standard-webhooks' }, 'secret', /base64/],
    [
      { secret: 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==', format: 'standard-webhooks' },
      'secret',
      /24 bytes/,
    ],
    [{ secret, canonical: 'strict', format: 'standard-webhooks' }, 'canonical', /fixed/],
    [{ secret, signedHeaders: ['x-tenant-id', 'X-Tenant-Id'] }, 'signedHeaders', /twice/],
    [{ secret, signedHeaders: ['content-digest'] }, 'signedHeaders', /covered/],
    [{ secret, signedHeaders: ['bad header'] }, 'signedHeaders.0', /header name/],
    [{ secret, headerNames: { signature: 'x-timestamp' } }, 'headerNames', /different/],
    [{ secret, clock: {} }, 'clock', /Clock/],
    [{ secret, toleranceMs: -1 }, 'toleranceMs', /./],
    [{ secret, toleranceMs: { past: 2 * 86_400_000 } }, 'toleranceMs.past', /./],
    [{ secret, canonical: 'seed', nonceStore: new MemoryNonceStore() }, 'nonceStore', /strict/],
    [{ secret, canonical: 'timestamp-body' }, 'canonical', /renamed "seed"/],
    [{ secret, nonceStore: {} }, 'nonceStore', /NonceStore/],
    [{ secret, tolerance: 5 }, 'tolerance', /unknown option/],
  ])('refuses %j naming "%s"', (options, field, message) => {
    try {
      createVerifier(options as VerifierOptions);
      expect.unreachable();
    } catch (error) {
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      if (!isBallastError(error)) return;
      expect(error.details.field).toBe(field);
      expect(error.message).toMatch(message);
      // The message names the field, never the secret.
      expect(error.message).not.toContain(secret);
    }
  });

  it('refuses signer options that cannot be honoured', () => {
    expect(() => createSigner({ canonical: 'seed', secret, nonce: true })).toThrow(/nonce/);
    expect(() =>
      createSigner({
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        format: 'standard-webhooks',
        encoding: 'hex',
      }),
    ).toThrow(/encoding/);
  });

  it('accepts 32-byte ballast secrets and 24-byte whsec secrets', () => {
    expect(() => createSigner({ canonical: 'seed', secret: 'x'.repeat(32) })).not.toThrow();
    expect(() =>
      createVerifier({
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        format: 'standard-webhooks',
      }),
    ).not.toThrow();
  });
});
