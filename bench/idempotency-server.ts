/**
 * The server side of `idempotency.bench.ts`, run as its own process so the load generator and
 * the server do not share an event loop. One Fastify app, four ways:
 * - `bare`              no idempotency (the ceiling)
 * - `ballast-memory`    `fastifyIdempotency` + `MemoryIdempotencyStore` as constructed by default
 *                       (bounded at 256 MiB, which keeps every key of a bench run)
 * - `ballast-memory-retained`  the same with no practical bound (`maxBytes: 2 ** 40`), like the
 *                       peer's memory adapter
 * - `ballast-postgres`  `fastifyIdempotency` + `PostgresIdempotencyStore` (store mode); the handler
 *                       does the business INSERT in its own transaction (statements counted)
 * - `postgres-floor`    no idempotency; the handler does the same business INSERT in a
 *                       transaction on the same kind of pool: the floor the Postgres modes are
 *                       measured against
 * - `ballast-postgres-tx`  transaction-bound `withIdempotency`: the key's claim, the same INSERT
 *                       and the record commit in one transaction, in 3 messages like the floor
 *                       (BEGIN goes with the claim, the record with COMMIT)
 * - `postgres-floor-plus-key-row`  no claim; the floor's transaction plus one INSERT of the key's
 *                       row, already completed with its result, sent with COMMIT (3 messages): the
 *                       least any mode that records the key with the operation's writes must do,
 *                       so the ceiling of the transaction-bound mode on this machine
 * - `minimal-hooks`     the least a pair of Fastify hooks can do for idempotency: a Map look-up in
 *                       preHandler and a Map.set in onSend (no fingerprint, lease, validation or
 *                       bound): the ceiling of any hook-based middleware on this machine
 * - `peer`              `@node-idempotency/core` + its memory adapter, wired as its Fastify
 *                       plugin does (preHandler → onRequest, onSend → onResponse)
 *
 * Routes: POST /sales (answers at once), POST /storm (25 ms of work first), GET /stats →
 * `{ executions, statements, cpuMicros }`, DELETE /stats. Prints `listening <port>` when ready.
 * Environment: MODE, and for ballast-postgres DATABASE_URL and SCHEMA.
 */
import { randomUUID } from 'node:crypto';
import { fastifyIdempotency } from '@ballast/adapters/fastify';
import {
  guardPostgresPool,
  migrateIdempotency,
  PostgresIdempotencyStore,
  withIdempotency,
} from '@ballast/adapters/postgres';
import { fingerprint, type IdempotencyStore, MemoryIdempotencyStore } from '@ballast/core';
import { Idempotency, IdempotencyError, IdempotencyErrorCodes } from '@node-idempotency/core';
import { MemoryStorageAdapter } from '@node-idempotency/storage-adapter-memory';
import Fastify, { type FastifyRequest } from 'fastify';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';

const mode = process.env.MODE ?? 'bare';
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const stats = { executions: 0, statements: 0 };
const app = Fastify();
let db: Kysely<unknown> | undefined;
const schema = process.env.SCHEMA ?? 'ballast_bench';
const usesPostgres = mode.includes('postgres');

if (usesPostgres) {
  db = new Kysely<unknown>({
    dialect: new PostgresDialect({
      pool: guardPostgresPool(new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 })),
    }),
    // Every message Kysely sends (one that fails is logged as an error: a transaction-bound
    // replay's claim), so the bench can report messages per request.
    log: () => {
      stats.statements++;
    },
  });
  await migrateIdempotency(db, { schema });
  await sql`CREATE TABLE IF NOT EXISTS ${sql.id(schema, 'bench_sales')} (
    id bigserial PRIMARY KEY, amount integer NOT NULL, item text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now())`.execute(db);
}

const keysTable = `"${schema}".ballast_idempotency_keys`;

/** The business write every Postgres contender does: one INSERT … RETURNING. */
async function insertSale(executor: Kysely<unknown>, body: { amount: number; item?: string }) {
  const { rows } = await sql<{ id: string; amount: number }>`
    INSERT INTO ${sql.id(schema, 'bench_sales')} (amount, item)
    VALUES (${body.amount}, ${body.item ?? ''}) RETURNING id, amount`.execute(executor);
  return rows[0];
}

function ballastStore(): IdempotencyStore {
  if (mode === 'ballast-memory') return new MemoryIdempotencyStore();
  if (mode === 'ballast-memory-retained') return new MemoryIdempotencyStore({ maxBytes: 2 ** 40 });
  return new PostgresIdempotencyStore({ db: db as Kysely<unknown>, schema });
}

if (mode.startsWith('ballast-') && mode !== 'ballast-postgres-tx') {
  await app.register(fastifyIdempotency, {
    store: ballastStore(),
    required: true,
    scope: usesPostgres ? () => 'bench' : 'global',
  });
} else if (mode === 'minimal-hooks') {
  const answers = new Map<string, { status: number; body: unknown } | undefined>();
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string') return reply.code(400).send({ code: 'IDEMPOTENCY_KEY_MISSING' });
    if (!answers.has(key)) {
      answers.set(key, undefined);
      return;
    }
    const answer = answers.get(key);
    if (answer === undefined) return reply.code(409).send({ code: 'IDEMPOTENCY_KEY_IN_FLIGHT' });
    return reply.code(answer.status).header('idempotent-replayed', 'true').send(answer.body);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method !== 'POST') return payload;
    const key = request.headers['idempotency-key'] as string;
    if (answers.get(key) === undefined)
      answers.set(key, { status: reply.statusCode, body: payload });
    return payload;
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

app.post<{ Body: { amount: number; item?: string } }>('/sales', async (request, reply) => {
  stats.executions++;
  if (!usesPostgres) {
    return reply.code(201).send({ id: stats.executions, amount: request.body.amount });
  }
  const database = db as Kysely<unknown>;
  if (mode === 'ballast-postgres-tx') {
    const header = String(request.headers['idempotency-key'] ?? '');
    const key = header.startsWith('"') && header.endsWith('"') ? header.slice(1, -1) : header;
    const { result, replayed } = await withIdempotency(
      database,
      {
        key,
        scope: 'bench',
        schema,
        fingerprint: await fingerprint({
          method: 'POST',
          path: '/sales',
          body: JSON.stringify(request.body),
        }),
      },
      (trx) => insertSale(trx, request.body),
    );
    if (replayed) reply.header('idempotent-replayed', 'true');
    return reply.code(201).send(result);
  }
  if (mode === 'postgres-floor-plus-key-row') {
    const key = String(request.headers['idempotency-key'] ?? '');
    const sale = await database.connection().execute(async (connection) => {
      await sql`BEGIN`.execute(connection);
      try {
        const row = await insertSale(connection, request.body);
        const now = new Date().toISOString();
        const values = ['bench', key, 'f'.repeat(64), 'completed', randomUUID(), now, now, now]
          .map((value) => pg.escapeLiteral(value))
          .join(', ');
        await sql
          .raw(`INSERT INTO ${keysTable} (scope, key, fingerprint, state, owner_token,
            lease_expires_at, expires_at, created_at, result)
            VALUES (${values}, ${pg.escapeLiteral(JSON.stringify({ status: 201, body: row }))});
            COMMIT`)
          .execute(connection);
        return row;
      } catch (error) {
        await sql`ROLLBACK`.execute(connection);
        throw error;
      }
    });
    return reply.code(201).send(sale);
  }
  const sale = await database.transaction().execute((trx) => insertSale(trx, request.body));
  return reply.code(201).send(sale);
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
