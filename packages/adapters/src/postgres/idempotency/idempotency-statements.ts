/**
 * The SQL behind the Postgres idempotency store, shared by the store and the transaction-bound
 * mode. Every decision that must be atomic is made by one statement under the primary key or a
 * row condition, never by a read followed by a write in the application, so any number of
 * processes can share the table.
 *
 * Statement budget: a first execution costs 2 statements (the claim and the completion) and a
 * replay costs 1 (the claim, which returns the recorded row). A takeover, or a claim that loses
 * an insert race to a transaction committed after its snapshot, costs one or two more.
 */
import type {
  ClaimOutcome,
  ClaimRequest,
  CompleteRequest,
  ExtendLeaseRequest,
  ReleaseRequest,
} from '@ballast/core';
import { type QueryExecutorProvider, sql } from 'kysely';
import { deleteInBatches } from '../delete-in-batches.js';
import type { ResolvedIdempotencyTable } from './idempotency-table.js';

/** A key's row as a claim reads it; times as epoch milliseconds, so no date is parsed. */
interface KeyRow {
  readonly inserted: boolean;
  readonly fingerprint: string;
  readonly state: 'in_flight' | 'completed';
  readonly result: unknown;
  readonly lease_expires_ms: number | string;
  readonly expires_ms: number | string;
}

// float8 arrives as a number from pg; a driver that hands it over as text still reads right.
const epochMs = (value: number | string) => Number(value);

/** A timestamptz column as whole epoch milliseconds (float8): a number to pg, no date to parse. */
const epochMsOf = (column: 'lease_expires_at' | 'expires_at') =>
  sql.raw(`round(extract(epoch from ${column}) * 1000)::float8`);

// A claim is retried only when the row changes between two statements (another claimant took
// it over or it was deleted); each retry sees newer committed state, so a handful suffices.
const maxClaimRounds = 5;

/**
 * Claims a key. Statement 1 inserts the row or, when the key exists, returns the existing row
 * from the same statement (a data-modifying CTE's outer query reads the pre-insert snapshot), so
 * a replay never needs a second round trip. ON CONFLICT DO NOTHING writes nothing on a
 * conflict, so a replay is a read: no tuple version, no WAL flush.
 */
export async function claimKey(
  db: QueryExecutorProvider,
  table: ResolvedIdempotencyTable,
  request: ClaimRequest,
): Promise<ClaimOutcome> {
  const { scope, key, fingerprint, ownerToken } = request;
  const now = new Date(request.now);
  const leaseExpiresAt = new Date(request.leaseExpiresAt);
  const expiresAt = new Date(request.expiresAt);
  let last: KeyRow | undefined;
  for (let round = 0; round < maxClaimRounds; round++) {
    const { rows } = await sql<KeyRow>`
      WITH inserted AS (
        INSERT INTO ${table.ref}
          (scope, key, fingerprint, state, owner_token, lease_expires_at, expires_at, created_at)
        VALUES (${scope}, ${key}, ${fingerprint}, 'in_flight', ${ownerToken},
          ${leaseExpiresAt}, ${expiresAt}, ${now})
        ON CONFLICT (scope, key) DO NOTHING
        RETURNING true AS inserted, fingerprint, state, NULL::json AS result,
          ${epochMsOf('lease_expires_at')} AS lease_expires_ms, ${epochMsOf('expires_at')} AS expires_ms
      )
      SELECT * FROM inserted
      UNION ALL
      SELECT false, fingerprint, state, CASE WHEN state = 'completed' THEN result END,
        ${epochMsOf('lease_expires_at')}, ${epochMsOf('expires_at')}
      FROM ${table.ref} WHERE scope = ${scope} AND key = ${key}`.execute(db);
    let row = rows[0];
    if (row === undefined) {
      // The conflicting row was committed after this statement's snapshot (a concurrent
      // claimant, or a transaction-bound duplicate that waited on the row): read it afresh.
      row = (await readKey(db, table, scope, key)) ?? undefined;
      if (row === undefined) continue;
    }
    if (row.inserted) return { kind: 'claimed', takeover: false };
    last = row;
    const expired = epochMs(row.expires_ms) <= request.now;
    const leaseOver =
      row.state === 'in_flight' &&
      epochMs(row.lease_expires_ms) <= request.now &&
      row.fingerprint === fingerprint;
    if (!expired && !leaseOver) return outcomeOf(row);
    // Takeover (a crashed or hung holder, same request) or reuse of an expired record: one
    // conditional UPDATE re-checks the condition under the row lock, so of several claimants
    // exactly one wins; the losers go round again and see the winner's row.
    const taken = await sql<{ takeovers: number }>`
      UPDATE ${table.ref} SET
        fingerprint = ${fingerprint},
        state = 'in_flight',
        owner_token = ${ownerToken},
        result = NULL,
        lease_expires_at = ${leaseExpiresAt},
        expires_at = ${expiresAt},
        takeovers = CASE WHEN expires_at <= ${now} THEN 0 ELSE takeovers + 1 END,
        created_at = CASE WHEN expires_at <= ${now} THEN ${now} ELSE created_at END,
        completed_at = NULL
      WHERE scope = ${scope} AND key = ${key} AND (
        expires_at <= ${now}
        OR (state = 'in_flight' AND lease_expires_at <= ${now} AND fingerprint = ${fingerprint})
      )
      RETURNING takeovers`.execute(db);
    const won = taken.rows[0];
    if (won !== undefined) return { kind: 'claimed', takeover: Number(won.takeovers) > 0 };
  }
  // Only reachable when the row keeps changing under us for every round: report what was last
  // seen, which is in flight or completed by someone else.
  if (last === undefined) return { kind: 'in-flight', fingerprint, leaseExpiresAt: request.now };
  return outcomeOf(last);
}

async function readKey(
  db: QueryExecutorProvider,
  table: ResolvedIdempotencyTable,
  scope: string,
  key: string,
): Promise<KeyRow | undefined> {
  const { rows } = await sql<KeyRow>`
    SELECT false AS inserted, fingerprint, state,
      CASE WHEN state = 'completed' THEN result END AS result,
      ${epochMsOf('lease_expires_at')} AS lease_expires_ms, ${epochMsOf('expires_at')} AS expires_ms
    FROM ${table.ref} WHERE scope = ${scope} AND key = ${key}`.execute(db);
  return rows[0];
}

function outcomeOf(row: KeyRow): ClaimOutcome {
  if (row.state === 'completed') {
    return { kind: 'completed', fingerprint: row.fingerprint, result: row.result };
  }
  return {
    kind: 'in-flight',
    fingerprint: row.fingerprint,
    leaseExpiresAt: epochMs(row.lease_expires_ms),
  };
}

/** The result as JSON text; `?? null` because JSON.stringify(undefined) is not a SQL value. */
export function resultJsonOf(request: CompleteRequest): string {
  return JSON.stringify(request.result ?? null);
}

/**
 * Records the result: a compare-and-set on the owner token (fencing). When nothing matched, one
 * more read tells a completion this owner already wrote (a retried record whose first answer
 * was lost: true) from a takeover (false); it costs nothing on the normal path.
 */
export async function completeKey(
  db: QueryExecutorProvider,
  table: ResolvedIdempotencyTable,
  request: CompleteRequest,
  result: string = resultJsonOf(request),
): Promise<boolean> {
  const now = new Date(request.now);
  // The expiry set by the claim (claim time + TTL) is kept when the requested one is within a
  // minute of it (the operation was short): expires_at is indexed, and leaving it unchanged
  // makes the completion a HOT update (same page, no index writes).
  const expiresAt = new Date(request.expiresAt);
  const { rows } = await sql`
    UPDATE ${table.ref} SET
      state = 'completed',
      result = ${result}::json,
      expires_at = CASE
        WHEN ${expiresAt}::timestamptz - expires_at BETWEEN interval '-1 minute' AND interval '1 minute'
        THEN expires_at ELSE ${expiresAt}::timestamptz END,
      completed_at = ${now}
    WHERE scope = ${request.scope} AND key = ${request.key}
      AND state = 'in_flight' AND owner_token = ${request.ownerToken} AND expires_at > ${now}
    RETURNING 1 AS done`.execute(db);
  if (rows.length === 1) return true;
  const mine = await sql`
    SELECT 1 AS done FROM ${table.ref}
    WHERE scope = ${request.scope} AND key = ${request.key}
      AND state = 'completed' AND owner_token = ${request.ownerToken}`.execute(db);
  return mine.rows.length === 1;
}

/**
 * Reads nothing but names every column the store uses, so a missing table, schema or column
 * fails here (at start-up) rather than on the first keyed request.
 */
export async function checkIdempotencyTable(
  db: QueryExecutorProvider,
  table: ResolvedIdempotencyTable,
): Promise<void> {
  await sql`
    SELECT scope, key, fingerprint, state, owner_token, result, lease_expires_at, expires_at,
      takeovers, created_at, completed_at
    FROM ${table.ref} LIMIT 0`.execute(db);
}

/** Gives an in-flight key back, only when `ownerToken` still holds it. */
export async function releaseKey(
  db: QueryExecutorProvider,
  table: ResolvedIdempotencyTable,
  request: ReleaseRequest,
): Promise<boolean> {
  const { rows } = await sql`
    DELETE FROM ${table.ref}
    WHERE scope = ${request.scope} AND key = ${request.key}
      AND state = 'in_flight' AND owner_token = ${request.ownerToken}
    RETURNING 1 AS done`.execute(db);
  return rows.length === 1;
}

/** Moves the lease of an in-flight key, only when `ownerToken` still holds it. */
export async function extendKeyLease(
  db: QueryExecutorProvider,
  table: ResolvedIdempotencyTable,
  request: ExtendLeaseRequest,
): Promise<boolean> {
  const { rows } = await sql`
    UPDATE ${table.ref} SET lease_expires_at = ${new Date(request.leaseExpiresAt)}
    WHERE scope = ${request.scope} AND key = ${request.key}
      AND state = 'in_flight' AND owner_token = ${request.ownerToken}
    RETURNING 1 AS done`.execute(db);
  return rows.length === 1;
}

/** Deletes records past their expiry, `batchSize` per statement (see {@link deleteInBatches}). */
export function deleteExpiredKeys(
  db: QueryExecutorProvider,
  table: ResolvedIdempotencyTable,
  now: number,
  batchSize: number,
): Promise<number> {
  return deleteInBatches(db, {
    table: table.ref,
    keyColumns: ['scope', 'key'],
    where: sql`expires_at <= ${new Date(now)}`,
    batchSize,
  });
}
