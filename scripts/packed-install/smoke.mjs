// ESM smoke test of the packed packages, run unchanged on Node, Deno and Bun: core and server
// promise web-standard runtimes. Each probe prints one line; the check compares the lines the
// runtimes print, so a runtime that answers differently fails it.

import {
  BallastError,
  createSigner,
  isBallastError,
  MemoryIdempotencyStore,
  MemoryNonceStore,
  retry,
} from '@ballast/core';
import * as adapterKit from '@ballast/core/adapter-kit';
import { failOnCall, injectFaults } from '@ballast/core/testing';
import { idempotency, problemResponse, verifySignature } from '@ballast/server';
import * as serverKit from '@ballast/server/adapter-kit';

const results = {};
const probe = async (name, run) => {
  try {
    results[name] = await run();
  } catch (error) {
    // The code or class only: messages of built-in errors differ between runtimes.
    results[name] = `threw ${error?.code ?? error?.name}`;
  }
};

await probe('retry', async () => {
  let calls = 0;
  const value = await retry(
    async () => {
      calls += 1;
      if (calls < 3) throw new Response(null, { status: 503 }); // classified by its status
      return 'ok';
    },
    { delays: [1, 1] },
  );
  return { value, calls };
});

await probe('invalid options', async () => {
  const error = await retry(async () => 1, { retries: -1 }).catch((caught) => caught);
  return { code: error.code, status: error.status, isBallastError: isBallastError(error) };
});

await probe('strict signing with a nonce store', async () => {
  const secret = 'packed-install-check-secret-0123456789';
  const signer = createSigner({ secret, canonical: 'strict', nonce: true });
  const verified = verifySignature({
    secret,
    canonical: 'strict',
    nonceStore: new MemoryNonceStore(),
  })(async () => new Response('signed ok'));
  const body = JSON.stringify({ amount: 12 });
  const headers = await signer.sign({ method: 'POST', path: '/v1/contracts', body });
  const send = () =>
    verified(new Request('https://edge.test/v1/contracts', { method: 'POST', headers, body }));
  const first = await send();
  const replay = await send();
  return [first.status, await first.text(), replay.status];
});

await probe('fetch idempotency middleware', async () => {
  let runs = 0;
  const handler = idempotency({ store: new MemoryIdempotencyStore(), required: true })(async () => {
    runs += 1;
    return Response.json({ sale: runs }, { status: 201 });
  });
  const send = () =>
    handler(
      new Request('https://api.test/sales', {
        method: 'POST',
        headers: { 'idempotency-key': '"sale-1"', 'content-type': 'application/json' },
        body: '{"total":10}',
      }),
    );
  const first = await send();
  const again = await send();
  const missing = await handler(new Request('https://api.test/sales', { method: 'POST' }));
  return {
    first: [first.status, await first.json()],
    again: [again.status, again.headers.get('idempotent-replayed'), await again.json()],
    missing: missing.status,
    runs,
  };
});

await probe('problem response', async () => {
  const response = problemResponse(new BallastError('RATE_LIMITED'));
  return [response.status, response.headers.get('content-type')];
});

await probe('testing subpath', async () => {
  const storage = injectFaults({ get: async () => 'value' }, { failOn: failOnCall('get', 1) });
  const first = await storage.get().catch((error) => error.code ?? 'failed');
  return [first, await storage.get()];
});

await probe('adapter-kit subpaths', async () => ({
  core: typeof adapterKit.parseOptions,
  sameTick: typeof adapterKit.beginInSameTick,
  server: typeof serverKit.createIdempotencyGuard,
}));

for (const [name, value] of Object.entries(results))
  console.log(`${name}: ${JSON.stringify(value)}`);
