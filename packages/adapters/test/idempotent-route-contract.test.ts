/**
 * The idempotent route contract (`support/idempotent-route-contract.ts`) on every front end —
 * the fetch middleware, Express with the middleware before and after `express.json()`, and
 * Fastify — each over the memory, Postgres and Redis stores.
 */
import { migrateIdempotency, PostgresIdempotencyStore } from '@ballast/adapters/postgres';
import { RedisIdempotencyStore } from '@ballast/adapters/redis';
import { type IdempotencyStore, MemoryIdempotencyStore } from '@ballast/core';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { idempotentRouteContract } from './support/idempotent-route-contract.js';
import { startExpress, startFastify, startFetch } from './support/idempotent-route-servers.js';
import { describeWith, postgresUrl, redisUrl, uniqueSchemaName } from './support/services.js';

/** Whether this runtime's `DecompressionStream`, which the fetch middleware decodes with, knows br. */
function decodesBrotliOnThisRuntime(): boolean {
  try {
    new DecompressionStream('brotli' as CompressionFormat);
    return true;
  } catch {
    return false;
  }
}

/** The four front ends over one store. */
function frontEnds(label: string, store: () => IdempotencyStore) {
  idempotentRouteContract(`fetch middleware (${label})`, () => startFetch(store()), {
    decodesBrotli: decodesBrotliOnThisRuntime(),
  });
  idempotentRouteContract(`express, middleware before express.json() (${label})`, () =>
    startExpress(store(), false),
  );
  idempotentRouteContract(
    `express, express.json() first (${label})`,
    () => startExpress(store(), true),
    { parserRunsFirst: true },
  );
  idempotentRouteContract(`fastify (${label})`, () => startFastify(store()));
}

describe('memory store', () => {
  frontEnds('memory', () => new MemoryIdempotencyStore());
});

describeWith('postgres', 'Postgres store', () => {
  const schema = uniqueSchemaName('idem_contract');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 10 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  beforeAll(async () => {
    await migrateIdempotency(db, { schema });
  });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });
  frontEnds('postgres', () => new PostgresIdempotencyStore({ db, schema }));
});

describeWith('redis', 'Redis store', () => {
  const prefix = `${uniqueSchemaName('idem_contract')}:`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });
  frontEnds('redis', () => new RedisIdempotencyStore({ redis, prefix }));
});
