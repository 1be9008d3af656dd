/**
 * Set-up shared by the cross-process idempotency tests: a schema with the `sales` table (the
 * handler's side effect) and the idempotency table, sales servers started as child processes,
 * and a request helper that reads what a client sees.
 */
import { migrateIdempotency } from '@ballast/adapters/postgres';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { expect } from 'vitest';
import { type ChildServer, startChildServer } from './child-server.js';
import { postgresUrl, redisUrl } from './services.js';

export const salesServerScript = 'packages/adapters/test/fixtures/sales-server.ts';

export interface SalesDatabase {
  readonly db: Kysely<unknown>;
  readonly schema: string;
  /** Rows the handler inserted for `key`: the number of executions. */
  countSales(key: string): Promise<number>;
  /** The idempotency record of `key` (state and lease), or undefined. */
  keyRecord(
    key: string,
  ): Promise<{ state: string; lease_expires_at: Date; expires_at: Date } | undefined>;
  drop(): Promise<void>;
}

export async function createSalesDatabase(schema: string): Promise<SalesDatabase> {
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: postgresUrl, max: 5 }) }),
  });
  await migrateIdempotency(db, { schema });
  await sql`CREATE TABLE ${sql.id(schema, 'sales')} (
    id serial PRIMARY KEY, idempotency_key text NOT NULL, amount integer NOT NULL,
    server text NOT NULL)`.execute(db);
  return {
    db,
    schema,
    async countSales(key) {
      const { rows } = await sql<{ n: string }>`
        SELECT count(*) AS n FROM ${sql.id(schema, 'sales')} WHERE idempotency_key = ${key}`.execute(
        db,
      );
      return Number(rows[0]?.n);
    },
    async keyRecord(key) {
      const { rows } = await sql<{ state: string; lease_expires_at: Date; expires_at: Date }>`
        SELECT state, lease_expires_at, expires_at
        FROM ${sql.id(schema, 'ballast_idempotency_keys')} WHERE key = ${key}`.execute(db);
      return rows[0];
    },
    async drop() {
      await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
      await db.destroy();
    },
  };
}

export interface SalesServerOptions {
  readonly framework: 'express' | 'fastify';
  readonly store: 'postgres' | 'redis';
  readonly schema: string;
  readonly redisPrefix?: string;
  readonly leaseMs?: number;
  readonly blockHandler?: boolean;
  readonly name?: string;
}

export function startSalesServer(options: SalesServerOptions): Promise<ChildServer> {
  return startChildServer(salesServerScript, {
    FRAMEWORK: options.framework,
    STORE: options.store,
    SCHEMA: options.schema,
    DATABASE_URL: postgresUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: options.redisPrefix ?? `${options.schema}:`,
    LEASE_MS: String(options.leaseMs ?? 30_000),
    BLOCK_HANDLER: options.blockHandler ? '1' : '0',
    SERVER_NAME: options.name ?? options.framework,
  });
}

/** What a client saw. */
export interface SeenResponse {
  readonly status: number;
  readonly replayed: boolean;
  readonly retryAfter: string | null;
  readonly body: string;
}

export async function postSale(
  baseUrl: string,
  key: string,
  body: unknown,
  options: { query?: string; signal?: AbortSignal } = {},
): Promise<SeenResponse> {
  const response = await fetch(`${baseUrl}/sales${options.query ?? ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `"${key}"` },
    body: JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return {
    status: response.status,
    replayed: response.headers.get('idempotent-replayed') === 'true',
    retryAfter: response.headers.get('retry-after'),
    body: await response.text(),
  };
}

/** Storms per store and requests per storm (issue 4: 200 requests, 20 times). */
export const storms = 20;
export const requestsPerStorm = 200;
// Long enough that many duplicates arrive while the first is still running (409s), short
// enough that many arrive after it finished (replays): both paths are exercised every storm.
const handlerDelayMs = 25;

export interface StormTally {
  executions: number;
  replays: number;
  conflicts: number;
}

/**
 * One duplicate storm: `requestsPerStorm` concurrent requests with one key, spread over
 * `servers`. Asserts one execution, only originals/replays/409s, and a replay afterwards.
 */
export async function storm(
  database: SalesDatabase,
  servers: readonly ChildServer[],
  key: string,
  amount: number,
  tally: StormTally,
): Promise<void> {
  const query = `?delayMs=${handlerDelayMs}`;
  const responses = await Promise.all(
    Array.from({ length: requestsPerStorm }, (_, i) =>
      postSale(servers[i % servers.length]?.url ?? '', key, { amount }, { query }),
    ),
  );
  const originals = responses.filter((r) => r.status === 201 && !r.replayed);
  expect(originals, `storm ${key}: one response is the execution's own`).toHaveLength(1);
  const original = originals[0]?.body ?? '';
  expect(JSON.parse(original)).toMatchObject({ amount });
  for (const response of responses) {
    if (response.status === 409) {
      expect(Number(response.retryAfter)).toBeGreaterThanOrEqual(1);
      continue;
    }
    expect(response.status, `storm ${key}: only 201 or 409`).toBe(201);
    expect(response.body, `storm ${key}: a replay is the original, byte for byte`).toBe(original);
  }
  expect(await database.countSales(key), `storm ${key}: the handler ran once`).toBe(1);

  const later = await postSale(servers[1]?.url ?? '', key, { amount }, { query });
  expect(later).toMatchObject({ status: 201, replayed: true, body: original });

  tally.executions += await database.countSales(key);
  tally.replays += responses.filter((r) => r.replayed).length;
  tally.conflicts += responses.filter((r) => r.status === 409).length;
}
