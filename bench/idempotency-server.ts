/**
 * The server side of `idempotency.bench.ts`, run as its own process so the load generator and
 * the server do not share an event loop. One Fastify app, four ways:
 * - `bare`              no idempotency (the ceiling)
 * - `ballast-memory`    `fastifyIdempotency` + `MemoryIdempotencyStore` as constructed by default
 *                       (bounded at 256 MiB, which keeps every key of a bench run)
 * - `ballast-memory-retained`  the same with no practical bound (`maxBytes: 2 ** 40`), like the
 *                       peer's memory adapter
 * - `ballast-postgres`  `fastifyIdempotency` + `PostgresIdempotencyStore` (statements counted)
 * - `peer`              `@node-idempotency/core` + its memory adapter, wired as its Fastify
 *                       plugin does (preHandler → onRequest, onSend → onResponse)
 *
 * Routes: POST /sales (answers at once), POST /storm (25 ms of work first), GET /stats →
 * `{ executions, statements, cpuMicros }`, DELETE /stats. Prints `listening <port>` when ready.
 * Environment: MODE, and for ballast-postgres DATABASE_URL and SCHEMA.
 */
import { fastifyIdempotency } from '@ballast/adapters/fastify';
import { migrateIdempotency, PostgresIdempotencyStore } from '@ballast/adapters/postgres';
import { type IdempotencyStore, MemoryIdempotencyStore } from '@ballast/core';
import { Idempotency, IdempotencyError, IdempotencyErrorCodes } from '@node-idempotency/core';
import { MemoryStorageAdapter } from '@node-idempotency/storage-adapter-memory';
import Fastify, { type FastifyRequest } from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

const mode = process.env.MODE ?? 'bare';
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const stats = { executions: 0, statements: 0 };
const app = Fastify();
let db: Kysely<unknown> | undefined;

async function ballastStore(): Promise<IdempotencyStore> {
  if (mode === 'ballast-memory') return new MemoryIdempotencyStore();
  if (mode === 'ballast-memory-retained') return new MemoryIdempotencyStore({ maxBytes: 2 ** 40 });
  const schema = process.env.SCHEMA ?? 'ballast_bench';
  db = new Kysely<unknown>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 }),
    }),
    // Every statement Kysely sends, so the bench can report statements per request.
    log: (event) => {
      if (event.level === 'query') stats.statements++;
    },
  });
  await migrateIdempotency(db, { schema });
  return new PostgresIdempotencyStore({ db, schema });
}

if (mode.startsWith('ballast-')) {
  await app.register(fastifyIdempotency, {
    store: await ballastStore(),
    required: true,
    scope: 'global',
  });
} else if (mode === 'peer') {
  const peer = new Idempotency(new MemoryStorageAdapter(), { enforceIdempotency: true });
  const peerRequest = (request: FastifyRequest) => ({
    method: request.method,
    headers: request.headers as Record<string, unknown>,
    path: request.url,
    body: request.body as Record<string, unknown> | undefined,
  });
  const statusOf: Record<string, number> = {
    [IdempotencyErrorCodes.REQUEST_IN_PROGRESS]: 409,
    [IdempotencyErrorCodes.IDEMPOTENCY_FINGERPRINT_MISSMATCH]: 422,
  };
  const answered = new WeakSet<FastifyRequest>();
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    try {
      const cached = await peer.onRequest(peerRequest(request));
      if (cached === undefined) return;
      answered.add(request);
      const status = Number(cached.additional?.status ?? 200);
      return reply.code(status).header('idempotent-replayed', 'true').send(cached.body);
    } catch (error) {
      if (!(error instanceof IdempotencyError)) throw error;
      answered.add(request);
      return reply.code(statusOf[error.code] ?? 400).send({ code: error.code });
    }
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method !== 'POST' || answered.has(request)) return payload;
    await peer.onResponse(peerRequest(request), {
      body: payload,
      additional: { status: reply.statusCode },
    });
    return payload;
  });
}

app.post<{ Body: { amount: number } }>('/sales', async (request, reply) => {
  stats.executions++;
  return reply.code(201).send({ id: stats.executions, amount: request.body.amount });
});
app.post<{ Body: { amount: number } }>('/storm', async (request, reply) => {
  stats.executions++;
  await new Promise((resolve) => setTimeout(resolve, 25));
  return reply.code(201).send({ id: stats.executions, amount: request.body.amount });
});
// CPU time the process has used, so the bench can report the server's cost per request apart
// from the load generator's, which shares the machine.
app.get('/stats', async () => ({ ...stats, cpuMicros: cpuMicros() }));
app.delete('/stats', async () => {
  stats.executions = 0;
  stats.statements = 0;
  return stats;
});

await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`listening ${(app.server.address() as { port: number }).port}`);

process.once('SIGTERM', () => {
  void app
    .close()
    .then(() => db?.destroy())
    .finally(() => process.exit(0));
});
