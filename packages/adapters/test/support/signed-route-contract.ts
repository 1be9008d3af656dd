/**
 * The behaviour every signature adapter must show over real HTTP, run against Express and
 * Fastify alike: signed requests pass with their JSON parsed; unsigned, tampered, replayed and
 * malformed ones get a 403 problem+json with a code (never a 500); oversized bodies a 413.
 *
 * The server under test mounts, with `signedRouteOptions`:
 * - `POST` and `PUT /internal/contracts` → `{ body, tenant, keyId }` (the parsed body and the
 *   signed proof)
 * - `GET /internal/contracts/1` → `{ ok: true }`
 */
import { createSigner, MemoryNonceStore } from '@ballast/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RawResponse, rawHttp } from './raw-http.js';

const secret = 'adapter-contract-secret-0123456789-abcdef';

/** Options for the adapter under test (one nonce store per server). */
export function signedRouteOptions() {
  return {
    secret,
    canonical: 'strict' as const,
    nonceStore: new MemoryNonceStore(),
    maxBodyBytes: 64 * 1024,
  };
}

export interface SignedRouteServer {
  baseUrl: string;
  close(): Promise<void>;
}

const signer = createSigner({ secret, canonical: 'strict', nonce: true });

async function signed(
  init: { method?: string; path?: string; body?: string; tenant?: string } = {},
): Promise<{ method: string; path: string; body: string; headers: Array<[string, string]> }> {
  const method = init.method ?? 'POST';
  const path = init.path ?? '/internal/contracts?plan=pro';
  const body = init.body ?? (method === 'GET' ? '' : JSON.stringify({ customer_id: 'c-1' }));
  const base: Record<string, string> = {
    'content-type': 'application/json',
    'x-tenant-id': init.tenant ?? 'tenant-a',
  };
  const signature = await signer.sign({ method, path, headers: base, body });
  return { method, path, body, headers: Object.entries({ ...base, ...signature }) };
}

function replace(headers: Array<[string, string]>, name: string, value: string) {
  return headers.map(([key, old]): [string, string] => [key, key === name ? value : old]);
}

async function expectRefusal(response: RawResponse, status: number, code: string) {
  expect(response.status, response.text).toBe(status);
  expect(String(response.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({ code, status });
}

/**
 * @param parserRunsFirst the server parses bodies before verifying (Express with
 *   `express.json({ verify: captureRawBody })`): a body the parser rejects is then answered by
 *   the parser (400) before the signature is looked at, so that one case is not checked.
 */
export function signedRouteContract(
  name: string,
  start: () => Promise<SignedRouteServer>,
  { parserRunsFirst = false } = {},
) {
  describe(`${name}: signed route contract`, () => {
    let server: SignedRouteServer;
    const send = (
      request: { method: string; path: string; body: string; headers: Array<[string, string]> },
      override: Partial<{
        method: string;
        path: string;
        body: string;
        headers: Array<[string, string]>;
      }> = {},
    ) => {
      const merged = { ...request, ...override };
      return rawHttp(`${server.baseUrl}${merged.path}`, {
        method: merged.method,
        headers: merged.headers,
        ...(merged.method === 'GET' ? {} : { body: merged.body }),
      });
    };

    // One server per suite (each case sends its own signed requests): started and closed in
    // hooks, so the cases pass in any order.
    beforeAll(async () => {
      server = await start();
    });
    afterAll(async () => {
      await server?.close();
    });

    it('passes a signed POST with its JSON parsed for the route', async () => {
      const response = await send(await signed());
      expect(response.status, response.text).toBe(200);
      expect(response.json()).toEqual({
        body: { customer_id: 'c-1' },
        tenant: 'tenant-a',
        keyId: null,
      });
    });

    it('passes a signed GET', async () => {
      const response = await send(await signed({ method: 'GET', path: '/internal/contracts/1' }));
      expect(response.status, response.text).toBe(200);
    });

    it('refuses a direct call with 403 SIGNATURE_MISSING', async () => {
      const response = await rawHttp(`${server.baseUrl}/internal/contracts`, {
        method: 'POST',
        headers: [['content-type', 'application/json']],
        body: '{"customer_id":"c-1"}',
      });
      await expectRefusal(response, 403, 'SIGNATURE_MISSING');
    });

    it.skipIf(parserRunsFirst)(
      'refuses an unsigned body that is not even JSON with 403, not 400',
      async () => {
        const response = await rawHttp(`${server.baseUrl}/internal/contracts`, {
          method: 'POST',
          headers: [['content-type', 'application/json']],
          body: '{not json',
        });
        await expectRefusal(response, 403, 'SIGNATURE_MISSING');
      },
    );

    it('refuses tampering with the body, method, path, tenant or timestamp', async () => {
      const request = await signed();
      await expectRefusal(
        await send(request, { body: JSON.stringify({ customer_id: 'c-2' }) }),
        403,
        'SIGNATURE_INVALID',
      );
      await expectRefusal(await send(request, { method: 'PUT' }), 403, 'SIGNATURE_INVALID');
      await expectRefusal(
        await send(request, { path: '/internal/contracts?plan=free' }),
        403,
        'SIGNATURE_INVALID',
      );
      await expectRefusal(
        await send(request, { headers: replace(request.headers, 'x-tenant-id', 'tenant-b') }),
        403,
        'SIGNATURE_INVALID',
      );
      const timestamp = request.headers.find(([key]) => key === 'x-timestamp')![1];
      await expectRefusal(
        await send(request, {
          headers: replace(request.headers, 'x-timestamp', String(Number(timestamp) - 1)),
        }),
        403,
        'SIGNATURE_INVALID',
      );
    });

    it('refuses a replay with SIGNATURE_REPLAYED', async () => {
      const request = await signed();
      expect((await send(request)).status).toBe(200);
      await expectRefusal(await send(request), 403, 'SIGNATURE_REPLAYED');
    });

    it.each([
      ['a non-numeric timestamp', 'x-timestamp', 'soon', 'SIGNATURE_INVALID'],
      ['a huge timestamp', 'x-timestamp', '9'.repeat(2_000), 'SIGNATURE_INVALID'],
      ['wrong base64', 'x-internal-signature', '%%%%', 'SIGNATURE_INVALID'],
      ['a huge signature', 'x-internal-signature', 'QUFB'.repeat(2_000), 'SIGNATURE_INVALID'],
      ['an expired timestamp', 'x-timestamp', '1000', 'SIGNATURE_EXPIRED'],
      ['a far-future timestamp', 'x-timestamp', '999999999999999', 'SIGNATURE_EXPIRED'],
    ])('answers %s with 403 and a code', async (_name, header, value, code) => {
      const request = await signed();
      await expectRefusal(
        await send(request, { headers: replace(request.headers, header, value) }),
        403,
        code,
      );
    });

    it.each(['x-timestamp', 'x-internal-signature', 'x-nonce', 'x-tenant-id'])(
      'answers a duplicated %s header with 403 SIGNATURE_INVALID',
      async (header) => {
        const request = await signed();
        const original = request.headers.find(([key]) => key === header)!;
        const response = await send(request, { headers: [...request.headers, original] });
        await expectRefusal(response, 403, 'SIGNATURE_INVALID');
      },
    );

    it('answers an oversized body with 413 PAYLOAD_TOO_LARGE', async () => {
      const request = await signed({ body: JSON.stringify({ blob: 'x'.repeat(70 * 1024) }) });
      const response = await send(request);
      expect(response.status).toBe(413);
      expect(response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    });
  });
}
