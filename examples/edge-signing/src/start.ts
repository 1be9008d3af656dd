/**
 * `pnpm --filter @ballast-examples/edge-signing start`: starts the edge, then the API pointed
 * at it, each in its own process, with one shared secret (generated when
 * INTERNAL_SIGNING_SECRET is not set). Ctrl-C stops both.
 */
import { generateSigningSecret } from '@ballast/core';
import { type RunningService, spawnService } from './spawn-service.js';

const secret = process.env.INTERNAL_SIGNING_SECRET || generateSigningSecret();
const apiPort = process.env.API_PORT ?? '3000';
const edgePort = process.env.EDGE_PORT ?? '8787';
const print = (service: string) => (line: string) => console.log(`[${service}] ${line}`);

const services: RunningService[] = [];
async function stopAll(code: number): Promise<never> {
  await Promise.all(services.map((service) => service.stop()));
  process.exit(code);
}
process.once('SIGINT', () => void stopAll(0));
process.once('SIGTERM', () => void stopAll(0));

try {
  const edge = await spawnService(
    'edge.ts',
    { INTERNAL_SIGNING_SECRET: secret, PORT: edgePort },
    print('edge'),
  );
  services.push(edge);
  const api = await spawnService(
    'api.ts',
    {
      INTERNAL_SIGNING_SECRET: secret,
      PORT: apiPort,
      EDGE_URL: `http://127.0.0.1:${edge.port}`,
    },
    print('api '),
  );
  services.push(api);
  for (const service of services) {
    service.child.once('exit', () => void stopAll(1));
  }
  console.log(`
API  http://127.0.0.1:${api.port}   edge http://127.0.0.1:${edge.port} (refuses direct calls)

  curl -i -X POST http://127.0.0.1:${api.port}/contracts \\
    -H 'content-type: application/json' -H 'x-tenant-id: tenant-a' \\
    -H 'idempotency-key: 7b0e9c4e-2f0a-4d39-9b1e-0c1e6a3d5f21' \\
    -d '{"customer_id":"0b8f9d5e-8a4c-4c1e-9d1a-3f2b6c7d8e9f","plan_id":"5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f"}'

  curl -i -X POST http://127.0.0.1:${edge.port}/contracts -d '{}'   # direct: 403 SIGNATURE_MISSING

Ctrl-C stops both.`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  await stopAll(1);
}
