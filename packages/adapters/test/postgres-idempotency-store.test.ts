import {
  idempotencyMigrationSql,
  migrateIdempotency,
  PostgresIdempotencyStore,
  withIdempotency,
} from '@ballast/adapters/postgres';
import { isBallastError } from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPGlite } from './support/fresh-pglite.js';
import { describeIdempotencyStoreContract } from './support/idempotency-store-contract.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

/** A Kysely that counts the statements it sends, to hold the store to its statement budget. */
function countingKysely(dialect: PostgresDialect | PGliteDialect) {
  const counter = { statements: 0 };
  const db = new Kysely<unknown>({
    dialect,
    log: (event) => {
      if (event.level === 'query') counter.statements++;
    },
  });
  return { db, counter };
}

const hour = 3_600_000;

/** A claim of `key` in scope `s` by `owner`, made now. */
function claimNow(key: string) {
  const now = Date.now();
  return {
    scope: 's',
    key,
    fingerprint: 'fp',
    ownerToken: 'owner',
    now,
    leaseExpiresAt: now + 30_000,
    expiresAt: now + hour,
  };
}

describeWith('postgres', 'PostgresIdempotencyStore on a Postgres server', () => {
  const schema = uniqueSchemaName('idem_store');
  const pool = new pg.Pool({ connectionString: postgresUrl, max: 10 });
  const { db, counter } = countingKysely(new PostgresDialect({ pool }));

  beforeAll(async () => {
    await migrateIdempotency(db, { schema });
  });
  afterAll(async () => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
    await db.destroy();
  });

  describeIdempotencyStoreContract(
    'Postgres (server)',
    () => new PostgresIdempotencyStore({ db, schema }),
  );

  it('spends 2 statements on a first execution and 1 on a replay', async () => {
    const store = new PostgresIdempotencyStore({ db, schema });
    const now = Date.now();
    const ref = { scope: 's', key: `budget-${now}` };
    const claim = {
      ...ref,
      fingerprint: 'fp',
      ownerToken: 'owner',
      now,
      leaseExpiresAt: now + 30_000,
      expiresAt: now + hour,
    };
    counter.statements = 0;
    expect(await store.claim(claim)).toEqual({ kind: 'claimed', takeover: false });
    expect(
      await store.complete({
        ...ref,
        ownerToken: 'owner',
        result: { ok: true },
        now,
        expiresAt: now + hour,
      }),
    ).toBe(true);
    expect(counter.statements).toBe(2);
    counter.statements = 0;
    expect(await store.claim({ ...claim, ownerToken: 'other', now: now + 1 })).toEqual({
      kind: 'completed',
      fingerprint: 'fp',
      result: { ok: true },
    });
    expect(counter.statements).toBe(1);
  });

  it('records with a HOT update: the completion writes no index entries', async () => {
    // One connection, so the statistics this test reads are this session's own.
    const single = new Kysely<unknown>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ connectionString: postgresUrl, max: 1 }),
      }),
    });
    try {
      await migrateIdempotency(single, { schema, tableName: 'hot_keys' });
      const store = new PostgresIdempotencyStore({ db: single, schema, tableName: 'hot_keys' });
      const now = Date.now();
      for (let index = 0; index < 20; index++) {
        const ref = { scope: 's', key: `hot-${index}` };
        await store.claim({
          ...ref,
          fingerprint: 'fp',
          ownerToken: `o-${index}`,
          now,
          leaseExpiresAt: now + 30_000,
          expiresAt: now + 86_400_000,
        });
        await store.complete({
          ...ref,
          ownerToken: `o-${index}`,
          result: { status: 201, body: 'x'.repeat(200) },
          now: now + 5,
          expiresAt: now + 5 + 86_400_000,
        });
      }
      let counts = { updates: 0, hot: 0 };
      for (let poll = 0; poll < 30 && counts.updates < 20; poll++) {
        await sql`SELECT pg_stat_force_next_flush()`.execute(single);
        const { rows } = await sql<{ updates: string; hot: string }>`
          SELECT n_tup_upd AS updates, n_tup_hot_upd AS hot FROM pg_stat_user_tables
          WHERE schemaname = ${schema} AND relname = 'hot_keys'`.execute(single);
        counts = { updates: Number(rows[0]?.updates ?? 0), hot: Number(rows[0]?.hot ?? 0) };
        if (counts.updates < 20) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(counts.updates).toBe(20);
      expect(counts.hot).toBeGreaterThanOrEqual(18);
    } finally {
      await single.destroy();
    }
  });

  it('migrates idempotently, even from ten processes’ worth of concurrent calls', async () => {
    await Promise.all(Array.from({ length: 10 }, () => migrateIdempotency(db, { schema })));
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM pg_indexes
      WHERE schemaname = ${schema} AND tablename = 'ballast_idempotency_keys'`.execute(db);
    expect(Number(rows[0]?.n)).toBe(2); // primary key + expires_at
  });

  it('drops the state CHECK of a table an earlier version created, and creates none', async () => {
    // The CHECK was re-read and re-planned in every claim and completion (see
    // dropStateCheckStatement in idempotency-table.ts); a user's own CHECK stays.
    const old = `${schema}_old`;
    await sql`CREATE SCHEMA ${sql.id(old)}`.execute(db);
    try {
      await sql`CREATE TABLE ${sql.id(old, 'Keys')} (
        scope text NOT NULL, key text NOT NULL, fingerprint text NOT NULL,
        state text NOT NULL CHECK (state IN ('in_flight', 'completed')),
        owner_token text NOT NULL, result json, lease_expires_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL, takeovers integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL, completed_at timestamptz,
        CONSTRAINT users_own CHECK (takeovers >= 0), PRIMARY KEY (scope, key))`.execute(db);
      const checksOf = async (at: string, table: string) => {
        const { rows } = await sql<{ conname: string }>`
          SELECT conname FROM pg_constraint
          WHERE conrelid = ${`"${at}"."${table}"`}::regclass AND contype = 'c'
          ORDER BY conname`.execute(db);
        return rows.map((row) => row.conname);
      };
      expect(await checksOf(old, 'Keys')).toEqual(['Keys_state_check', 'users_own']);
      await migrateIdempotency(db, { schema: old, tableName: 'Keys' });
      await migrateIdempotency(db, { schema: old, tableName: 'Keys' });
      expect(await checksOf(old, 'Keys')).toEqual(['users_own']);
      expect(await checksOf(schema, 'ballast_idempotency_keys')).toEqual([]);
      // The upgraded table still works as a store.
      const store = new PostgresIdempotencyStore({ db, schema: old, tableName: 'Keys' });
      expect(await store.claim(claimNow('upgraded'))).toEqual({ kind: 'claimed', takeover: false });
    } finally {
      await sql`DROP SCHEMA ${sql.id(old)} CASCADE`.execute(db);
    }
  });

  it('creates scope and key with byte order (COLLATE "C") and leaves an existing table as it is', async () => {
    const collationsOf = async (at: string, table: string) => {
      const { rows } = await sql<{ column: string; collation: string | null }>`
        SELECT a.attname AS column, c.collname AS collation
        FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation
        WHERE a.attrelid = ${`"${at}"."${table}"`}::regclass AND a.attname IN ('scope', 'key')
        ORDER BY a.attname`.execute(db);
      return rows;
    };
    expect(await collationsOf(schema, 'ballast_idempotency_keys')).toEqual([
      { column: 'key', collation: 'C' },
      { column: 'scope', collation: 'C' },
    ]);
    // A table an earlier version created (the database's collation) keeps it: converting it
    // rebuilds the primary key under a lock, which is the user's call (see the docs).
    const old = `${schema}_collated`;
    await sql`CREATE SCHEMA ${sql.id(old)}`.execute(db);
    try {
      await sql`CREATE TABLE ${sql.id(old, 'ballast_idempotency_keys')} (
        scope text NOT NULL, key text NOT NULL, fingerprint text NOT NULL, state text NOT NULL,
        owner_token text NOT NULL, result json, lease_expires_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL, takeovers integer NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL, completed_at timestamptz,
        PRIMARY KEY (scope, key))`.execute(db);
      await migrateIdempotency(db, { schema: old });
      expect(await collationsOf(old, 'ballast_idempotency_keys')).toEqual([
        { column: 'key', collation: 'default' },
        { column: 'scope', collation: 'default' },
      ]);
      const store = new PostgresIdempotencyStore({ db, schema: old });
      expect(await store.claim(claimNow('kept'))).toEqual({ kind: 'claimed', takeover: false });
      const key = 'kept-tx';
      expect(
        await withIdempotency(db, { key, fingerprint: 'fp', schema: old }, async () => 'done'),
      ).toEqual({ result: 'done', replayed: false });
      expect(
        await withIdempotency(db, { key, fingerprint: 'fp', schema: old }, async () => 'again'),
      ).toEqual({ result: 'done', replayed: true });
    } finally {
      await sql`DROP SCHEMA ${sql.id(old)} CASCADE`.execute(db);
    }
  });

  it('replaces the transaction-bound functions of an earlier build with procedures', async () => {
    const old = `${schema}_in_tx`;
    await migrateIdempotency(db, { schema: old });
    try {
      // What an earlier build left: <table>_claim_in_tx and <table>_complete_in_tx as functions.
      const table = sql.id(old, 'ballast_idempotency_keys');
      await sql`DROP PROCEDURE ${sql.id(old, 'ballast_idempotency_keys_tx_claim')}`.execute(db);
      await sql`DROP PROCEDURE ${sql.id(old, 'ballast_idempotency_keys_tx_complete')}`.execute(db);
      await sql`CREATE FUNCTION ${sql.id(old, 'ballast_idempotency_keys_claim_in_tx')}(
        text, text, text, text, timestamptz, timestamptz, timestamptz)
        RETURNS void LANGUAGE sql AS 'SELECT'`.execute(db);
      await sql`CREATE FUNCTION ${sql.id(old, 'ballast_idempotency_keys_complete_in_tx')}(
        text, text, text, json, timestamptz, timestamptz)
        RETURNS void LANGUAGE sql AS 'SELECT'`.execute(db);
      await migrateIdempotency(db, { schema: old });
      const { rows } = await sql<{ name: string; kind: string }>`
        SELECT proname AS name, prokind AS kind FROM pg_proc
        WHERE pronamespace = ${old}::regnamespace AND proname LIKE '%\_tx\_%'
        ORDER BY proname`.execute(db);
      expect(rows).toEqual([
        { name: 'ballast_idempotency_keys_tx_claim', kind: 'p' },
        { name: 'ballast_idempotency_keys_tx_complete', kind: 'p' },
      ]);
      const key = 'upgraded-tx';
      expect(
        await withIdempotency(db, { key, fingerprint: 'fp', schema: old }, async () => 'done'),
      ).toEqual({ result: 'done', replayed: false });
      const stored = await sql<{ state: string }>`
        SELECT state FROM ${table} WHERE key = ${key}`.execute(db);
      expect(stored.rows).toEqual([{ state: 'completed' }]);
    } finally {
      await sql`DROP SCHEMA ${sql.id(old)} CASCADE`.execute(db);
    }
  });

  it('uses a configured table name', async () => {
    await migrateIdempotency(db, { schema, tableName: 'custom_keys' });
    const store = new PostgresIdempotencyStore({ db, schema, tableName: 'custom_keys' });
    const now = Date.now();
    await store.claim({
      scope: '',
      key: 'k',
      fingerprint: 'f',
      ownerToken: 'o',
      now,
      leaseExpiresAt: now + 1_000,
      expiresAt: now + hour,
    });
    const { rows } = await sql<{ key: string; state: string }>`
      SELECT key, state FROM ${sql.id(schema, 'custom_keys')}`.execute(db);
    expect(rows).toEqual([{ key: 'k', state: 'in_flight' }]);
  });

  // A known failure mode of other libraries: the claim is an upsert ("INSERT … ON CONFLICT DO
  // UPDATE SET owner = excluded.owner"), so every concurrent caller believes it won and the
  // handler runs several times. The naive claim is shown failing on the same table shape.
  it('resists the upsert-claim failure mode that lets a naive store run a handler many times', async () => {
    const now = Date.now();
    const key = `upsert-${now}`;
    const naiveWinners = (
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const owner = `naive-${i}`;
          const { rows } = await sql<{ owner_token: string }>`
            INSERT INTO ${sql.id(schema, 'ballast_idempotency_keys')}
              (scope, key, fingerprint, state, owner_token, lease_expires_at, expires_at, created_at)
            VALUES ('naive', ${key}, 'fp', 'in_flight', ${owner}, ${new Date(now)}, ${new Date(now + hour)}, ${new Date(now)})
            ON CONFLICT (scope, key) DO UPDATE SET owner_token = excluded.owner_token
            RETURNING owner_token`.execute(db);
          return rows[0]?.owner_token === owner;
        }),
      )
    ).filter(Boolean).length;
    expect(naiveWinners).toBeGreaterThan(1);

    const store = new PostgresIdempotencyStore({ db, schema });
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, () =>
        store.claim({
          scope: 'ballast',
          key,
          fingerprint: 'fp',
          ownerToken: globalThis.crypto.randomUUID(),
          now,
          leaseExpiresAt: now + 30_000,
          expiresAt: now + hour,
        }),
      ),
    );
    expect(outcomes.filter((o) => o.kind === 'claimed')).toHaveLength(1);
  });

  it('batches concurrent claims and completions into a few statements, with the outcomes of one-by-one calls', async () => {
    const store = new PostgresIdempotencyStore({ db, schema });
    const now = Date.now();
    // Characters an array literal must escape, in keys and in the scope.
    const keys = Array.from({ length: 30 }, (_, index) => `batch-${now}-${index} "{a,b}" \\ NULL`);
    const scope = 'batch "{,}" \\';
    const claim = (key: string, ownerToken: string, fingerprint = 'fp') =>
      store.claim({
        scope,
        key,
        fingerprint,
        ownerToken,
        now,
        leaseExpiresAt: now + 30_000,
        expiresAt: now + hour,
      });
    counter.statements = 0;
    // Each key twice (the second with another fingerprint for every third key), all at once.
    const outcomes = await Promise.all(
      keys.flatMap((key, index) => [
        claim(key, `first-${key}`),
        claim(key, `second-${key}`, index % 3 === 0 ? 'other-fp' : 'fp'),
      ]),
    );
    expect(counter.statements).toBeLessThan(10);
    keys.forEach((_, index) => {
      const pair = [outcomes[2 * index], outcomes[2 * index + 1]];
      expect(pair.filter((outcome) => outcome?.kind === 'claimed')).toHaveLength(1);
      expect(pair.filter((outcome) => outcome?.kind === 'in-flight')).toHaveLength(1);
    });
    const winners = keys.map((key, index) =>
      outcomes[2 * index]?.kind === 'claimed' ? `first-${key}` : `second-${key}`,
    );

    counter.statements = 0;
    const complete = (key: string, ownerToken: string) =>
      store.complete({
        scope,
        key,
        ownerToken,
        result: { key, quote: 'a "b" \\ c' },
        now: now + 1,
        expiresAt: now + 1 + hour,
      });
    const completed = await Promise.all(
      keys.flatMap((key, index) => [
        complete(key, winners[index] as string),
        complete(key, `never-${key}`),
      ]),
    );
    expect(counter.statements).toBeLessThan(10);
    expect(completed).toEqual(keys.flatMap(() => [true, false]));

    const replays = await Promise.all(keys.map((key) => claim(key, `later-${key}`)));
    replays.forEach((replay, index) => {
      expect(replay).toMatchObject({
        kind: 'completed',
        result: { key: keys[index], quote: 'a "b" \\ c' },
      });
    });
  });

  it('two processes claiming the same keys in opposite orders never deadlock, and each key has one winner', async () => {
    const otherPool = new pg.Pool({ connectionString: postgresUrl, max: 10 });
    const other = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: otherPool }) });
    const holder = new pg.Client({ connectionString: postgresUrl });
    await holder.connect();
    try {
      const stores = [
        new PostgresIdempotencyStore({ db, schema }),
        new PostgresIdempotencyStore({ db: other, schema }),
      ];
      const now = Date.now();
      const claim = (store: PostgresIdempotencyStore, key: string, ownerToken: string) =>
        store.claim({
          scope: 'order',
          key,
          fingerprint: 'fp',
          ownerToken,
          now,
          leaseExpiresAt: now + 30_000,
          expiresAt: now + hour,
        });
      // An uncommitted claim of two keys holds each store's two running batches, so each
      // store's next calls queue and leave together, as one batch per store, at the same time.
      const held = [`hold-1-${now}`, `hold-2-${now}`];
      await holder.query('BEGIN');
      for (const key of held) {
        await holder.query(
          `INSERT INTO "${schema}".ballast_idempotency_keys
             (scope, key, fingerprint, state, owner_token, lease_expires_at, expires_at, created_at)
           VALUES ('order', $1, 'fp', 'in_flight', 'holder', now(), now() + interval '1 hour', now())`,
          [key],
        );
      }
      const blocked = stores.flatMap((store, index) =>
        held.map((key) => claim(store, key, `${index}-${key}`)),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const keys = Array.from({ length: 200 }, (_, index) => `order-${now}-${index}`);
      const claims = stores.flatMap((store, index) =>
        (index === 0 ? keys : [...keys].reverse()).map((key) =>
          claim(store, key, `${index}-${key}`).then((outcome) => ({ key, outcome })),
        ),
      );
      await holder.query('COMMIT');
      expect((await Promise.all(blocked)).map((outcome) => outcome.kind)).toEqual(
        Array(4).fill('in-flight'),
      );
      const outcomes = await Promise.all(claims);
      for (const key of keys) {
        const kinds = outcomes
          .filter((claimed) => claimed.key === key)
          .map((claimed) => claimed.outcome.kind);
        expect(kinds.sort()).toEqual(['claimed', 'in-flight']);
      }
    } finally {
      await holder.end();
      await other.destroy();
    }
  });

  it('refuses bad options with INVALID_OPTIONS naming the field', () => {
    const attempt = (options: object) => {
      try {
        new PostgresIdempotencyStore({ db, ...options });
        return undefined;
      } catch (error) {
        return isBallastError(error, 'INVALID_OPTIONS') ? error.details.field : error;
      }
    };
    expect(attempt({ tableName: 'keys; DROP TABLE x' })).toBe('tableName');
    expect(attempt({ schema: 'a"b' })).toBe('schema');
    expect(attempt({ db: {} })).toBe('db');
    expect(attempt({ sweepBatchSize: 0 })).toBe('sweepBatchSize');
  });
});

describe('PostgresIdempotencyStore on PGlite', () => {
  const { db, counter } = countingKysely(new PGliteDialect(freshPGlite()));
  beforeAll(async () => {
    await migrateIdempotency(db);
  });
  afterAll(async () => {
    await db.destroy();
  });

  describeIdempotencyStoreContract('Postgres (PGlite)', () => new PostgresIdempotencyStore({ db }));

  it('spends 1 statement on a replay on PGlite too', async () => {
    const store = new PostgresIdempotencyStore({ db });
    const now = Date.now();
    const claim = {
      scope: '',
      key: `pglite-budget-${now}`,
      fingerprint: 'fp',
      ownerToken: 'o',
      now,
      leaseExpiresAt: now + 1_000,
      expiresAt: now + hour,
    };
    await store.claim(claim);
    await store.complete({ ...claim, result: [1, 2], expiresAt: now + hour });
    counter.statements = 0;
    expect(await store.claim({ ...claim, ownerToken: 'x' })).toEqual({
      kind: 'completed',
      fingerprint: 'fp',
      result: [1, 2],
    });
    expect(counter.statements).toBe(1);
  });
});

describe('idempotencyMigrationSql', () => {
  it('renders the DDL for the default table, and for a configured one', () => {
    const defaults = idempotencyMigrationSql();
    expect(defaults).toContain('CREATE TABLE IF NOT EXISTS "ballast_idempotency_keys"');
    expect(defaults).toContain('PRIMARY KEY (scope, key)');
    expect(defaults).not.toContain('CREATE SCHEMA');
    const custom = idempotencyMigrationSql({ schema: 'app', tableName: 'keys' });
    expect(custom).toContain('CREATE SCHEMA IF NOT EXISTS "app"');
    expect(custom).toContain('CREATE INDEX IF NOT EXISTS "keys_expires_at_idx" ON "app"."keys"');
  });

  it('is accepted by PGlite statement by statement', async () => {
    const db = freshPGlite();
    await db.exec(idempotencyMigrationSql({ schema: 'app' }));
    await db.exec(idempotencyMigrationSql({ schema: 'app' }));
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'app'`,
    );
    expect(rows[0]?.n).toBe(1);
    await db.close();
  });
});
