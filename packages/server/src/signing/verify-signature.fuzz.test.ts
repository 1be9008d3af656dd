/**
 * Fuzz over the signature verifiers as a client reaches them (the fetch middleware, with the
 * default strict form and a nonce store, the seed form, and Standard Webhooks): random methods,
 * paths, headers, timestamps, key ids, nonces and bodies never produce a 5xx and never reach
 * the handler, and a signed request changed in any signed part after signing is refused.
 */
import { createSigner, MemoryNonceStore, type SignerOptions } from '@ballast/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifySignature } from './verify-signature.js';

const secret = 'fuzz-signing-secret-0123456789-abcdefghij';
const webhookSecret = `whsec_${Buffer.from('fuzz-webhook-secret-24-bytes!!').toString('base64')}`;

const configurations: Array<{ name: string; options: SignerOptions }> = [
  { name: 'strict (default)', options: { secrets: [{ id: 'k1', secret }] } },
  { name: 'seed (opt-in)', options: { secret, canonical: 'seed' } },
  { name: 'standard-webhooks', options: { secret: webhookSecret, format: 'standard-webhooks' } },
];

const headerNames = [
  'x-timestamp',
  'x-internal-signature',
  'x-key-id',
  'x-nonce',
  'x-tenant-id',
  'idempotency-key',
  'content-digest',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
];

/** Header values as an attacker would try them: near-valid timestamps, key ids, junk. */
const headerValue = fc.oneof(
  fc.integer({ min: -1e13, max: 1e13 }).map(String),
  fc.constant(String(Date.now())),
  fc.constant(String(Math.floor(Date.now() / 1000))),
  fc.constantFrom('k1', 'k2', '', ' ', 'v1,', 'v1,AAAA', 'sha-256=:AAAA:', '=', ','),
  fc.base64String({ maxLength: 100 }),
  fc.stringMatching(/^[\x20-\x7e]{0,120}$/),
);

const randomRequest = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
  path: fc.webPath().map((path) => `/${path.replace(/^\/+/, '')}`),
  headers: fc.dictionary(fc.constantFrom(...headerNames), headerValue, { maxKeys: 8 }),
  body: fc.oneof(fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 })),
});

function handlerFor(options: SignerOptions) {
  let ran = 0;
  const handler = verifySignature({
    ...(options as object),
    ...(options.format === 'standard-webhooks' || options.canonical === 'seed'
      ? {}
      : { nonceStore: new MemoryNonceStore() }),
  } as Parameters<typeof verifySignature>[0])(async () => {
    ran++;
    return new Response('ran');
  });
  return { handler, ran: () => ran };
}

function requestOf(spec: {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
}): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(spec.headers)) {
    try {
      headers.set(name, value);
    } catch {
      // fetch refuses some values outright; a client could not send them either.
    }
  }
  const hasBody = spec.method !== 'GET';
  return new Request(`http://edge.internal${spec.path}`, {
    method: spec.method,
    headers,
    ...(hasBody ? { body: spec.body as BodyInit } : {}),
  });
}

describe.each(configurations)('verifySignature fuzz: $name', ({ options }) => {
  it('answers random requests with a 4xx, never a 5xx, and never runs the handler', async () => {
    const { handler, ran } = handlerFor(options);
    await fc.assert(
      fc.asyncProperty(randomRequest, async (spec) => {
        const response = await handler(requestOf(spec));
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        expect(response.headers.get('content-type')).toBe('application/problem+json');
      }),
      { numRuns: 300 },
    );
    expect(ran()).toBe(0);
  });

  it('refuses a signed request changed in a signed part after signing', async () => {
    const signer = createSigner(options);
    const { handler, ran } = handlerFor(options);
    const strict = options.format !== 'standard-webhooks' && options.canonical !== 'seed';
    const mutations = fc.constantFrom(
      'body',
      'timestamp',
      'signature',
      ...(strict ? (['method', 'path', 'tenant', 'nonce', 'key-id'] as const) : []),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          method: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'),
          path: fc.webPath().map((path) => `/${path.replace(/^\/+/, '')}`.replace(/[?#].*$/, '')),
          tenant: fc.stringMatching(/^[a-z0-9-]{1,20}$/),
          body: fc.string({ minLength: 1, maxLength: 200 }),
        }),
        mutations,
        async ({ method, path, tenant, body }, mutation) => {
          const url = new URL(`http://edge.internal${path}`);
          const target = `${url.pathname}${url.search}`;
          const headers: Record<string, string> = { 'x-tenant-id': tenant };
          const signature = await signer.sign({ method, path: target, headers, body });
          const sent = { method, path: target, headers: { ...headers, ...signature }, body };
          const timestampHeader = Object.keys(signature).find((name) =>
            name.endsWith('timestamp'),
          )!;
          const signatureHeader = Object.keys(signature).find((name) =>
            name.endsWith('signature'),
          )!;
          switch (mutation) {
            case 'body':
              sent.body = `${body}!`;
              break;
            case 'timestamp':
              sent.headers[timestampHeader] = String(Number(signature[timestampHeader]) - 1);
              break;
            case 'signature':
              sent.headers[signatureHeader] = signature[signatureHeader]!.replace(
                /[A-Za-z0-9]/,
                (c) => (c === 'A' ? 'B' : 'A'),
              );
              break;
            case 'method':
              sent.method = method === 'DELETE' ? 'PUT' : 'DELETE';
              break;
            case 'path':
              sent.path = `${target}x`;
              break;
            case 'tenant':
              sent.headers['x-tenant-id'] = `${tenant}x`;
              break;
            case 'nonce':
              sent.headers['x-nonce'] = crypto.randomUUID();
              break;
            case 'key-id':
              sent.headers['x-key-id'] = 'k2';
              break;
          }
          const response = await handler(requestOf(sent));
          expect(response.status).toBe(403);
        },
      ),
      { numRuns: 200 },
    );
    expect(ran()).toBe(0);
  });
});
