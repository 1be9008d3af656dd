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
// fetch() of a file: URL is not in Node 20; every runtime here has the Node-compatible fs.
const readText = async (url) => (await import('node:fs/promises')).readFile(url, 'utf8');
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
  const handler = idempotency({
    store: new MemoryIdempotencyStore(),
    scope: 'global',
    required: true,
  })(async () => {
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

// Every entry point of every installed package that promises web-standard runtimes (the
// adapters are Node's: the CJS smoke loads them), read from the packages' own exports maps, so
// a package or subpath added later is loaded here without editing this file.
await probe('every entry point loads', async () => {
  const app = JSON.parse(await readText(new URL('./package.json', import.meta.url)));
  const loaded = {};
  for (const name of Object.keys(app.dependencies).filter((dep) => dep.startsWith('@ballast/'))) {
    if (name === '@ballast/adapters') continue;
    const manifest = JSON.parse(
      await readText(new URL(`./node_modules/${name}/package.json`, import.meta.url)),
    );
    for (const subpath of Object.keys(manifest.exports).filter((key) => key !== './package.json')) {
      const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
      loaded[specifier] = Object.keys(await import(specifier)).length;
    }
  }
  return loaded;
});

for (const [name, value] of Object.entries(results))
  console.log(`${name}: ${JSON.stringify(value)}`);
