/**
 * The example end to end, in two real processes: the API signs, the edge verifies. Proves the
 * signed round trip with one trace id in both processes' logs, and that the edge refuses a
 * direct call, every kind of tampering, a stale timestamp and a replay, each with its code.
 */
import { createSigner, generateSigningSecret } from '@ballast/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signingConfig } from './signing-config.js';
import { type RunningService, spawnService } from './spawn-service.js';

const secret = generateSigningSecret();
let edge: RunningService;
let api: RunningService;
let edgeUrl: string;
let apiUrl: string;

beforeAll(async () => {
  edge = await spawnService('edge.ts', { INTERNAL_SIGNING_SECRET: secret, PORT: '0' });
  edgeUrl = `http://127.0.0.1:${edge.port}`;
  api = await spawnService('api.ts', {
    INTERNAL_SIGNING_SECRET: secret,
    PORT: '0',
    EDGE_URL: edgeUrl,
  });
  apiUrl = `http://127.0.0.1:${api.port}`;
});

afterAll(async () => {
  await Promise.all([api?.stop(), edge?.stop()]);
});

async function waitForLine(
  service: RunningService,
  matches: (line: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  for (let waited = 0; waited < 5_000; waited += 20) {
    const line = service.lines.find(matches);
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('log line not found');
}

const contract = {
  customer_id: '0b8f9d5e-8a4c-4c1e-9d1a-3f2b6c7d8e9f',
  plan_id: '5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f',
};

/** What the API would send: signed by the test, which holds the same secret. */
async function signedEdgeCall(timestamp?: number) {
  const signer = createSigner({ secret, ...signingConfig, nonce: true });
  const body = JSON.stringify(contract);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-tenant-id': 'tenant-a',
    'idempotency-key': crypto.randomUUID(),
  };
  const signature = await signer.sign({
    method: 'POST',
    path: '/contracts',
    headers,
    body,
    ...(timestamp === undefined ? {} : { timestamp }),
  });
  return { method: 'POST', path: '/contracts', body, headers: { ...headers, ...signature } };
}

type EdgeCall = Awaited<ReturnType<typeof signedEdgeCall>>;

function sendToEdge(call: EdgeCall) {
  return fetch(`${edgeUrl}${call.path}`, {
    method: call.method,
    headers: call.headers,
    body: call.body,
  });
}

async function codeOf(response: Response): Promise<string> {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return ((await response.json()) as { code: string }).code;
}

describe('edge-signing example (two processes)', () => {
  it('carries a signed call from the API to the edge, with one trace id in both logs', async () => {
    const traceId = crypto.randomUUID().replaceAll('-', '');
    const idempotencyKey = crypto.randomUUID();
    const request = () =>
      fetch(`${apiUrl}/contracts`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-tenant-id': 'tenant-a',
          'idempotency-key': idempotencyKey,
          traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
        },
        body: JSON.stringify(contract),
      });
    const response = await request();
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe(traceId);
    const created = (await response.json()) as {
      id: string;
      tenant_id: string;
      was_duplicate: boolean;
    };
    expect(created).toMatchObject({ tenant_id: 'tenant-a', was_duplicate: false, ...contract });

    const apiLine = await waitForLine(api, (line) => line.event === 'contract.create.done');
    const edgeLine = await waitForLine(edge, (line) => line.event === 'contract.created.v1');
    expect(apiLine).toMatchObject({ service: 'api', traceId, contractId: created.id });
    expect(edgeLine).toMatchObject({ service: 'edge', traceId, contractId: created.id });
    expect(edgeLine.parentId ?? edgeLine.spanId).toBeDefined();
    await waitForLine(edge, (line) => line.msg === 'request completed' && line.traceId === traceId);

    // The same write again (a client retry): signed afresh, deduplicated by its key.
    const again = await request();
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ id: created.id, was_duplicate: true });
  });

  it('refuses a direct, unsigned call to the edge with 403 SIGNATURE_MISSING', async () => {
    const response = await fetch(`${edgeUrl}/contracts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': 'tenant-a' },
      body: JSON.stringify(contract),
    });
    expect(response.status).toBe(403);
    expect(await codeOf(response)).toBe('SIGNATURE_MISSING');
  });

  it('accepts the call as signed, and refuses every tampered copy with SIGNATURE_INVALID', async () => {
    const tampered: Array<[string, (call: EdgeCall) => EdgeCall]> = [
      ['body', (call) => ({ ...call, body: call.body.replace('5c6d', '0000') })],
      ['method', (call) => ({ ...call, method: 'PUT' })],
      ['path', (call) => ({ ...call, path: '/contracts?admin=true' })],
      ['tenant', (call) => ({ ...call, headers: { ...call.headers, 'x-tenant-id': 'tenant-b' } })],
      [
        'timestamp',
        (call) => ({
          ...call,
          headers: {
            ...call.headers,
            'x-timestamp': String(Number(call.headers['x-timestamp']) + 1),
          },
        }),
      ],
    ];
    for (const [what, tamper] of tampered) {
      const response = await sendToEdge(tamper(await signedEdgeCall()));
      expect(response.status, what).toBe(403);
      expect(await codeOf(response), what).toBe('SIGNATURE_INVALID');
    }
    expect((await sendToEdge(await signedEdgeCall())).status).toBe(201);
  });

  it('refuses a signature older than five minutes with SIGNATURE_EXPIRED', async () => {
    const response = await sendToEdge(await signedEdgeCall(Date.now() - 6 * 60_000));
    expect(response.status).toBe(403);
    expect(await codeOf(response)).toBe('SIGNATURE_EXPIRED');
  });

  it('refuses a replayed request with SIGNATURE_REPLAYED', async () => {
    const call = await signedEdgeCall();
    expect((await sendToEdge(call)).status).toBe(201);
    const replay = await sendToEdge(call);
    expect(replay.status).toBe(403);
    expect(await codeOf(replay)).toBe('SIGNATURE_REPLAYED');
    await waitForLine(
      edge,
      (line) => line.code === 'SIGNATURE_REPLAYED' && line.msg === 'request refused',
    );
  });

  it('validates at the API before anything reaches the edge', async () => {
    const missingKey = await fetch(`${apiUrl}/contracts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(contract),
    });
    expect(missingKey.status).toBe(400);
    expect(await codeOf(missingKey)).toBe('IDEMPOTENCY_KEY_MISSING');
  });
});
