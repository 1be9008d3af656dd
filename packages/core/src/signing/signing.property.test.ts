/**
 * The promise as properties: every valid signed request is accepted, and every mutation of one
 * (any byte of the body, the method, the path, a signed header, the timestamp, the nonce, the
 * key id, the signature, the content digest, or a duplicated header) is refused with a
 * SIGNATURE_* code — never accepted, never a crash.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/manual-clock.js';
import { decodeBase64, encodeBase64 } from '../crypto/byte-encoding.js';
import { isBallastError } from '../errors/ballast-error.js';
import { requestTargetOf } from './signed-fields.js';
import { createSigner } from './signer.js';
import type { SigningKey } from './signing-config.js';
import { createVerifier } from './verifier.js';

const now = Date.UTC(2025, 5, 1);
const keys: SigningKey[] = [
  { id: 'k2', secret: 'property-test-secret-number-two-0123456789' },
  { id: 'k1', secret: 'property-test-secret-number-one-0123456789' },
];
const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PURGE'];

interface WireRequest {
  readonly method: string;
  readonly path: string;
  readonly body: string | Uint8Array;
  readonly headers: Record<string, string | string[]>;
}

const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/);
const requestArbitrary = fc.record({
  method: fc.constantFrom(...methods),
  path: fc.oneof(
    fc.webPath().map((path) => `/${path.replace(/^\/+/, '')}`),
    fc.string({ unit: 'grapheme', maxLength: 30 }).map((text) => `/${text}`),
  ),
  query: fc.option(fc.webQueryParameters(), { nil: undefined }),
  body: fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.json({ maxDepth: 2 }),
    fc.uint8Array({ maxLength: 200 }),
  ),
  tenant: fc.option(token, { nil: undefined }),
  idempotencyKey: fc.option(fc.uuid(), { nil: undefined }),
  keyIndex: fc.constantFrom(0, 1),
  ageMs: fc.integer({ min: -5 * 60_000, max: 5 * 60_000 }),
  contentDigest: fc.boolean(),
});
type RequestSpec = typeof requestArbitrary extends fc.Arbitrary<infer T> ? T : never;

async function signedRequest(spec: RequestSpec): Promise<WireRequest> {
  const clock = new ManualClock(now - spec.ageMs);
  const signer = createSigner({
    secrets: keys.slice(spec.keyIndex),
    canonical: 'strict',
    nonce: true,
    contentDigest: spec.contentDigest,
    clock,
  });
  const headers: Record<string, string> = {};
  if (spec.tenant !== undefined) headers['x-tenant-id'] = spec.tenant;
  if (spec.idempotencyKey !== undefined) headers['idempotency-key'] = spec.idempotencyKey;
  const url = `${spec.path}${spec.query === undefined ? '' : `?${spec.query}`}`;
  const signature = await signer.sign({ method: spec.method, path: url, headers, body: spec.body });
  // The receiver sees the target fetch puts on the wire.
  const path = requestTargetOf(url)!;
  return { method: spec.method, path, body: spec.body, headers: { ...headers, ...signature } };
}

const verifier = createVerifier({
  secrets: keys,
  canonical: 'strict',
  clock: new ManualClock(now),
});

const bytesOf = (body: string | Uint8Array) =>
  typeof body === 'string' ? new TextEncoder().encode(body) : body;

/** A different value of the same kind: never equal, never equal after HTTP trimming. */
function otherValue(value: string | undefined, seed: string): string {
  const candidate = `${seed}z`;
  return candidate === value ? `${candidate}z` : candidate;
}

type Mutation = (request: WireRequest, n: number, text: string) => WireRequest;
const withHeader = (request: WireRequest, name: string, value: string | string[] | undefined) => {
  const headers = { ...request.headers };
  if (value === undefined) delete headers[name];
  else headers[name] = value;
  return { ...request, headers };
};

const mutations: Record<string, Mutation> = {
  flipBodyBit: (r, n) => {
    const bytes = Uint8Array.from(bytesOf(r.body));
    if (bytes.length === 0) return { ...r, body: Uint8Array.of(n % 256) };
    const index = n % bytes.length;
    bytes[index] = (bytes[index] as number) ^ (1 << (n % 8));
    return { ...r, body: bytes };
  },
  appendToBody: (r, n) => ({ ...r, body: Uint8Array.from([...bytesOf(r.body), n % 256]) }),
  truncateBody: (r, n) => {
    const bytes = bytesOf(r.body);
    if (bytes.length === 0) return { ...r, body: 'x' };
    return { ...r, body: bytes.slice(0, n % bytes.length) };
  },
  changeMethod: (r, n) => {
    const others = methods.filter((method) => method !== r.method.toUpperCase());
    return { ...r, method: others[n % others.length]! };
  },
  changePath: (r, n, text) => {
    const index = n % (r.path.length + 1);
    const insert = encodeURIComponent(text || 'p');
    return { ...r, path: `${r.path.slice(0, index)}${insert}${r.path.slice(index)}` };
  },
  dropQuery: (r) => {
    const at = r.path.indexOf('?');
    return { ...r, path: at === -1 ? `${r.path}?` : r.path.slice(0, at) };
  },
  changeTenant: (r, _n, text) =>
    withHeader(r, 'x-tenant-id', otherValue(r.headers['x-tenant-id'] as string, `t${text}`)),
  removeOrAddTenant: (r) =>
    withHeader(r, 'x-tenant-id', r.headers['x-tenant-id'] === undefined ? 'tenant' : undefined),
  changeIdempotencyKey: (r, _n, text) =>
    withHeader(
      r,
      'idempotency-key',
      otherValue(r.headers['idempotency-key'] as string, `i${text}`),
    ),
  removeOrAddIdempotencyKey: (r) =>
    withHeader(r, 'idempotency-key', r.headers['idempotency-key'] === undefined ? 'k' : undefined),
  duplicateTenant: (r) => {
    const tenant = (r.headers['x-tenant-id'] as string | undefined) ?? 'a';
    return withHeader(r, 'x-tenant-id', [tenant, tenant]);
  },
  shiftTimestamp: (r, n) => {
    const delta = (n % 1000) + 1;
    const value = Number(r.headers['x-timestamp']) + (n % 2 === 0 ? delta : -delta);
    return withHeader(r, 'x-timestamp', String(value));
  },
  zeroPadTimestamp: (r) => withHeader(r, 'x-timestamp', `0${r.headers['x-timestamp'] as string}`),
  garbleTimestamp: (r, _n, text) => withHeader(r, 'x-timestamp', `${text}x`),
  removeTimestamp: (r) => withHeader(r, 'x-timestamp', undefined),
  duplicateTimestamp: (r) =>
    withHeader(r, 'x-timestamp', [
      r.headers['x-timestamp'] as string,
      r.headers['x-timestamp'] as string,
    ]),
  changeNonce: (r, _n, text) =>
    withHeader(
      r,
      'x-nonce',
      otherValue(r.headers['x-nonce'] as string, `n${text.replace(/\W/g, '')}`),
    ),
  removeNonce: (r) => withHeader(r, 'x-nonce', undefined),
  switchKeyId: (r) => withHeader(r, 'x-key-id', r.headers['x-key-id'] === 'k1' ? 'k2' : 'k1'),
  unknownKeyId: (r, _n, text) => withHeader(r, 'x-key-id', `k-${text.replace(/\W/g, '')}`),
  flipSignatureBit: (r, n) => {
    const mac = decodeBase64(r.headers['x-internal-signature'] as string)!;
    mac[n % 32] = (mac[n % 32] as number) ^ (1 << (n % 8));
    return withHeader(r, 'x-internal-signature', encodeBase64(mac));
  },
  replaceSignature: (r, _n, text) => withHeader(r, 'x-internal-signature', text),
  removeSignature: (r) => withHeader(r, 'x-internal-signature', undefined),
  appendSignature: (r, _n, text) =>
    withHeader(
      r,
      'x-internal-signature',
      `${r.headers['x-internal-signature'] as string}, ${text}`,
    ),
  changeContentDigest: (r, n) => {
    const current = r.headers['content-digest'] as string | undefined;
    if (current === undefined) return withHeader(r, 'content-digest', 'sha-256=:AAAA:');
    const mac = decodeBase64(current.slice('sha-256=:'.length, -1))!;
    mac[n % 32] = (mac[n % 32] as number) ^ 1;
    return withHeader(r, 'content-digest', `sha-256=:${encodeBase64(mac)}:`);
  },
  removeContentDigest: (r) =>
    withHeader(
      r,
      'content-digest',
      r.headers['content-digest'] === undefined
        ? 'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:'
        : undefined,
    ),
};

async function refusal(request: WireRequest): Promise<string> {
  try {
    await verifier.verify(request);
    return 'accepted';
  } catch (error) {
    if (isBallastError(error) && error.code.startsWith('SIGNATURE_')) return error.code;
    throw error;
  }
}

describe('signing properties (strict form)', () => {
  it('accepts every validly signed request', async () => {
    await fc.assert(
      fc.asyncProperty(requestArbitrary, async (spec) => {
        const request = await signedRequest(spec);
        expect(await refusal(request)).toBe('accepted');
      }),
      { numRuns: 1_000 },
    );
  });

  it('refuses 10,000 random mutations of valid signed requests, each with a code', async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        requestArbitrary,
        fc.constantFrom(...Object.keys(mutations)),
        fc.nat(),
        fc.string({ maxLength: 12 }),
        async (spec, mutationName, n, text) => {
          const request = await signedRequest(spec);
          const mutated = mutations[mutationName]!(request, n, text);
          const code = await refusal(mutated);
          expect(code, mutationName).not.toBe('accepted');
          seen.set(mutationName, (seen.get(mutationName) ?? 0) + 1);
        },
      ),
      { numRuns: 10_000 },
    );
    // Every kind of mutation was exercised, many times.
    expect([...seen.keys()].sort()).toEqual(Object.keys(mutations).sort());
    expect(Math.min(...seen.values())).toBeGreaterThan(100);
  }, 60_000);
});

describe('signing properties (seed form and Standard Webhooks)', () => {
  it('accepts valid requests and refuses any changed body, timestamp or signature', async () => {
    const clock = new ManualClock(now);
    const seedSigner = createSigner({ canonical: 'seed', secret: keys[0]!.secret, clock });
    const seedVerifier = createVerifier({ canonical: 'seed', secret: keys[0]!.secret, clock });
    const webhookSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const webhookSigner = createSigner({
      secret: webhookSecret,
      format: 'standard-webhooks',
      clock,
    });
    const webhookVerifier = createVerifier({
      secret: webhookSecret,
      format: 'standard-webhooks',
      clock,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'grapheme', maxLength: 300 }),
          fc.uint8Array({ maxLength: 300 }),
        ),
        fc.nat(),
        fc.boolean(),
        async (body, n, webhook) => {
          const [signer, check] = webhook
            ? [webhookSigner, webhookVerifier]
            : [seedSigner, seedVerifier];
          const headers = await signer.sign({ body });
          await expect(check.verify({ body, headers })).resolves.toBeDefined();
          const bytes = Uint8Array.from(bytesOf(body));
          const changed =
            bytes.length === 0
              ? Uint8Array.of(n % 256)
              : bytes.map((b, i) => (i === n % bytes.length ? b ^ 1 : b));
          await expect(check.verify({ body: changed, headers })).rejects.toMatchObject({
            code: 'SIGNATURE_INVALID',
          });
          const timestampHeader = webhook ? 'webhook-timestamp' : 'x-timestamp';
          const shifted = {
            ...headers,
            [timestampHeader]: String(Number(headers[timestampHeader]) - 1 - (n % 60)),
          };
          await expect(check.verify({ body, headers: shifted })).rejects.toMatchObject({
            code: 'SIGNATURE_INVALID',
          });
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
