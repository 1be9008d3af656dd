import { migrateNonces, nonceMigrationSql, PostgresNonceStore } from '@ballast/adapters/postgres';
import { RedisNonceStore } from '@ballast/adapters/redis';
import { isBallastError, ManualClock, MemoryNonceStore } from '@ballast/core';
import { Redis } from 'ioredis';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPGlite } from './support/fresh-pglite.js';
import { describeNonceStoreContract } from './support/nonce-store-contract.js';
import { describeWith, postgresUrl, redisUrl, uniqueSchemaName } from './support/services.js';

describe('MemoryNonceStore (reference for the contract)', () => {
  const clock = new ManualClock(Date.UTC(2025, 0, 1));
  const store = new MemoryNonceStore({ clock });
  describeNonceStoreContract('memory', () => ({
    store: () => store,
    now: () => clock.now(),
    pass: (ms) => clock.advance(ms),
  }));
});

describeWith('redis', 'RedisNonceStore on a Redis server', () => {
  const prefix = `${uniqueSchemaName('nonce')}:`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  // Redis expires keys on its own clock, so the contract waits for real (20 ms windows).
  describeNonceStoreContract('Redis', () => ({
    store: () => new RedisNonceStore({ redis, prefix }),
    now: () => Date.now(),
    pass: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  }));

  it('writes one SET NX PX per check, under its prefix, with the TTL to expiresAt', async () => {
    const clock = new ManualClock(1_000_000);
    const store = new RedisNonceStore({ redis, prefix, clock });
    expect(await store.checkAndStore('ttl-check', 1_000_000 + 30_000)).toBe(true);
    const ttl = await redis.pttl(`${prefix}ttl-check`);
    expect(ttl).toBeGreaterThan(29_000);
    expect(ttl).toBeLessThanOrEqual(30_001);
    expect(await redis.get(`${prefix}ttl-check`)).toBe('1');
  });

  it('fails closed with UPSTREAM_ERROR when Redis does not answer', async () => {
    const dead = new Redis({
      port: 1,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    const store = new RedisNonceStore({ redis: dead, prefix });
    try {
      await store.checkAndStore('n', Date.now() + 1_000);
      expect.unreachable();
    } catch (error) {
      expect(isBallastError(error, 'UPSTREAM_ERROR')).toBe(true);
    } finally {
      dead.disconnect();
    }
  });
});

describeWith('postgres', 'PostgresNonceStore on a Postgres server', () => {
  const schema = uniqueSchemaName('nonce_store');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 12 });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const clock = new ManualClock(Date.UTC(2025, 0, 1));

  beforeAll(async () => {
    // Twice, concurrently: the advisory lock makes parallel start-ups safe.
    await Promise.all([migrateNonces(db, { schema }), migrateNonces(db, { schema })]);
  });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  describeNonceStoreContract('Postgres (server)', () => ({
    store: () => new PostgresNonceStore({ db, schema, clock }),
    now: () => clock.now(),
    pass: (ms) => clock.advance(ms),
  }));

  it('sweeps expired nonces only, in batches', async () => {
    const sweepClock = new ManualClock(Date.UTC(2030, 0, 1));
    const store = new PostgresNonceStore({ db, schema, clock: sweepClock, sweepBatchSize: 3 });
    await store.deleteExpired();
    for (let index = 0; index < 7; index++) {
      await store.checkAndStore(`sweep-old-${index}`, sweepClock.now() + 10);
    }
    await store.checkAndStore('sweep-young', sweepClock.now() + 60_000);
    await sweepClock.advance(11);
    expect(await store.deleteExpired()).toBe(7);
    const { rows } = await sql<{ nonce: string }>`
      SELECT nonce FROM ${sql.id(schema, 'ballast_nonces')} WHERE nonce LIKE 'sweep-%'`.execute(db);
    expect(rows.map((row) => row.nonce)).toEqual(['sweep-young']);
    expect(await store.checkAndStore('sweep-young', sweepClock.now() + 60_000)).toBe(false);
  });

  it('fails closed with UPSTREAM_ERROR when the table is missing', async () => {
    const store = new PostgresNonceStore({ db, schema, tableName: 'no_such_table' });
    await expect(store.checkAndStore('n', Date.now())).rejects.toMatchObject({
      code: 'UPSTREAM_ERROR',
    });
  });
});

describe('PostgresNonceStore on PGlite (no server needed)', () => {
  const db = new Kysely<unknown>({ dialect: new PGliteDialect(freshPGlite()) });
  const clock = new ManualClock(Date.UTC(2025, 0, 1));

  beforeAll(async () => {
    await migrateNonces(db, { tableName: 'edge_nonces' });
  });
  afterAll(async () => {
    await db.destroy();
  });

  describeNonceStoreContract('PGlite', () => ({
    store: () => new PostgresNonceStore({ db, tableName: 'edge_nonces', clock }),
    now: () => clock.now(),
    pass: (ms) => clock.advance(ms),
  }));
});

describe('nonce table DDL and options', () => {
  it('prints idempotent DDL with quoted identifiers', () => {
    const ddl = nonceMigrationSql({ schema: 'edge', tableName: 'seen' });
    expect(ddl).toContain('CREATE SCHEMA IF NOT EXISTS "edge"');
    expect(ddl).toContain('CREATE TABLE IF NOT EXISTS "edge"."seen"');
    expect(ddl).toContain('nonce      text        PRIMARY KEY');
    expect(ddl).toContain('CREATE INDEX IF NOT EXISTS "seen_expires_at_idx"');
  });

  it('refuses unsafe identifiers and bad clients', () => {
    expect(() => nonceMigrationSql({ tableName: 'x; DROP TABLE y' })).toThrow(/tableName/);
    expect(() => new RedisNonceStore({ redis: {} as never })).toThrow(/redis/);
    expect(() => new PostgresNonceStore({ db: {} as never })).toThrow(/db/);
  });
});
