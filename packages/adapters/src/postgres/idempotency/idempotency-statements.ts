/**
 * The SQL behind the Postgres idempotency store, shared by the store and the transaction-bound
 * mode. Every decision that must be atomic is made by one statement under the primary key or a
 * row condition, never by a read followed by a write in the application, so any number of
 * processes can share the table.
 *
 * Statement budget: a first execution costs 2 statements (the claim and the completion) and a
 * replay costs 1 (the claim, which returns the recorded row). A takeover costs one more. The claim
 * and the completion are calls of PL/pgSQL functions created by the migration
 * (idempotency-functions.ts), whose plans Postgres caches per connection.
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

/**
 * A key's row as the claim function returns it; times as epoch milliseconds, so no date is
 * parsed. `inserted` is null when the row vanished between the function's two statements.
 */
export interface KeyRow {
  readonly inserted: boolean | null;
  readonly fingerprint: string;
  readonly state: 'in_flight' | 'completed';
  readonly result: unknown;
  readonly lease_expires_ms: number | string;
  readonly expires_ms: number | string;
}

// float8 arrives as a number from pg; a driver that hands it over as text still reads right.
const epochMs = (value: number | string) => Number(value);

// A claim is retried only when the row changes between two statements (another claimant took
// it over or it was deleted); each retry sees newer committed state, so a handful suffices.
const maxClaimRounds = 5;

/**
 * Claims a key. Statement 1 (the claim function) inserts the row or, when the key exists,
 * returns the existing row, so a replay never needs a second round trip. ON CONFLICT DO NOTHING
 * writes nothing on a conflict, so a replay is a read: no tuple version, no WAL flush.
 * `firstRound` runs that first call another way (the store's batch); the rare later rounds,
 * which must see the state after a takeover race, always go alone.
 */
export async function claimKey(
  db: QueryExecutorProvider,
  table: ResolvedIdempotencyTable,
  request: ClaimRequest,
  firstRound: (request: ClaimRequest) => Promise<KeyRow | undefined> = (first) =>
    claimRow(db, table, first),
): Promise<ClaimOutcome> {
  const { scope, key, fingerprint, ownerToken } = request;
  const now = new Date(request.now);
  const leaseExpiresAt = new Date(request.leaseExpiresAt);
  const expiresAt = new Date(request.expiresAt);
  let last: KeyRow | undefined;
  for (let round = 0; round < maxClaimRounds; round++) {
    const row = round === 0 ? await firstRound(request) : await claimRow(db, table, request);
    const settled = settledClaim(row, request);
    if (settled !== undefined) return settled;
    // Deleted between the insert and the read (released, or an expired record swept): again.
    if (row === undefined || row.inserted === null) continue;
    last = row;
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

/**
 * What a claim function's answer settles: `claimed` when it inserted the key, the existing row's
 * outcome when that row stands. Undefined when the claim must go on: the row vanished, expired,
 * or is in flight past its lease for this same request (a takeover).
 */
export function settledClaim(
  row: KeyRow | undefined,
  request: ClaimRequest,
): ClaimOutcome | undefined {
  if (row === undefined || row.inserted === null) return undefined;
  if (row.inserted) return { kind: 'claimed', takeover: false };
  const expired = epochMs(row.expires_ms) <= request.now;
  const leaseOver =
    row.state === 'in_flight' &&
    epochMs(row.lease_expires_ms) <= request.now &&
    row.fingerprint === request.fingerprint;
  return expired || leaseOver ? undefined : outcomeOf(row);
}

/** One call of the claim function (its json form): inserts the key or returns its row. */
async function claimRow(
  db: QueryExecutorProvider,
  table: ResolvedIdempotencyTable,
  request: ClaimRequest,
): Promise<KeyRow | undefined> {
  const { rows } = await sql<{ claim: unknown }>`
    SELECT ${table.claimJsonFunction}(${request.scope}, ${request.key}, ${request.fingerprint},
      ${request.ownerToken}, ${new Date(request.leaseExpiresAt)}, ${new Date(request.expiresAt)},
      ${new Date(request.now)}) AS claim`.execute(db);
  return keyRowOf(rows[0]?.claim);
}

const inserted: KeyRow = {
  inserted: true,
  fingerprint: '',
  state: 'in_flight',
  result: null,
  lease_expires_ms: 0,
  expires_ms: 0,
};

/**
 * The json claim's answer as a row: `true`, the existing row, or NULL (vanished: undefined, so
 * the caller claims again). pg and PGlite parse json; text (a pool whose json type parser was
 * replaced) is parsed here, so the row reads the same either way.
 */
export function keyRowOf(claim: unknown): KeyRow | undefined {
  const value: unknown = typeof claim === 'string' ? JSON.parse(claim) : claim;
  if (value === true) return inserted;
  if (value === null || typeof value !== 'object') return undefined;
  return { ...(value as Omit<KeyRow, 'inserted'>), inserted: false };
}

// What the claim function returns when the row vanished between its two statements.
const claimAgain: KeyRow = {
  inserted: null,
  fingerprint: '',
  state: 'in_flight',
  result: null,
  lease_expires_ms: 0,
  expires_ms: 0,
};

// SQLSTATE 55P03: a batch function waited for a row lock longer than its lock_timeout.
const isLockNotAvailable = (error: unknown) =>
  (error as { code?: unknown } | null)?.code === '55P03';

// A batch runs in (scope, key) order, so two concurrent batches that share keys wait on each
// other's uncommitted inserts in the same order and never deadlock.
function inKeyOrder<T extends { readonly scope: string; readonly key: string }>(
  items: readonly T[],
): number[] {
  return items
    .map((_, index) => index)
    .sort((a, b) => {
      const left = items[a] as T;
      const right = items[b] as T;
      if (left.scope !== right.scope) return left.scope < right.scope ? -1 : 1;
      return left.key < right.key ? -1 : left.key > right.key ? 1 : a - b;
    });
}

/**
 * The first claim round of several requests in one statement (one round trip, one commit):
 * each request's row, in the order given, exactly as {@link claimKey}'s first call returns it.
 */
export async function claimRowsInBatch(
  db: QueryExecutorProvider,
  table: ResolvedIdempotencyTable,
  requests: readonly ClaimRequest[],
): Promise<Array<KeyRow | undefined>> {
  if (requests.length === 1) return [await claimRow(db, table, requests[0] as ClaimRequest)];
  const order = inKeyOrder(requests);
  const sorted = order.map((index) => requests[index] as ClaimRequest);
  let rows: Array<KeyRow & { ordinal: number }>;
  try {
    ({ rows } = await sql<KeyRow & { ordinal: number }>`
    SELECT * FROM ${table.claimBatchFunction}(
      ${sorted.map((r) => r.scope)}::text[], ${sorted.map((r) => r.key)}::text[],
      ${sorted.map((r) => r.fingerprint)}::text[], ${sorted.map((r) => r.ownerToken)}::text[],
      ${sorted.map((r) => new Date(r.leaseExpiresAt))}::timestamptz[],
      ${sorted.map((r) => new Date(r.expiresAt))}::timestamptz[],
      ${sorted.map((r) => new Date(r.now))}::timestamptz[])`.execute(db));
  } catch (error) {
    // A key held by another transaction: the batch rolled back, so nothing was claimed. The
    // claim function's "row vanished" answer makes claimKey claim again, alone, where only that
    // key's request waits for the lock.
    if (isLockNotAvailable(error)) return new Array(requests.length).fill(claimAgain);
    throw error;
  }
  const result: Array<KeyRow | undefined> = new Array(requests.length);
  for (const row of rows) result[order[row.ordinal - 1] as number] = row;
  return result;
}

/** A completion and its result, encoded as JSON text. */
export interface CompletionItem {
  readonly request: CompleteRequest;
  readonly result: string;
}

/**
 * Several completions in one statement (one round trip, one commit): each one's answer, in the
 * order given, exactly as {@link completeKey} answers it.
 */
export async function completeKeysInBatch(
  db: QueryExecutorProvider,
  table: ResolvedIdempotencyTable,
  items: readonly CompletionItem[],
): Promise<boolean[]> {
  if (items.length === 1) {
    const only = items[0] as CompletionItem;
    return [await completeKey(db, table, only.request, only.result)];
  }
  const order = inKeyOrder(items.map((item) => item.request));
  const sorted = order.map((index) => items[index] as CompletionItem);
  let rows: Array<{ ordinal: number; done: boolean }>;
  try {
    ({ rows } = await sql<{ ordinal: number; done: boolean }>`
    SELECT * FROM ${table.completeBatchFunction}(
      ${sorted.map((i) => i.request.scope)}::text[], ${sorted.map((i) => i.request.key)}::text[],
      ${sorted.map((i) => i.request.ownerToken)}::text[], ${sorted.map((i) => i.result)}::json[],
      ${sorted.map((i) => new Date(i.request.now))}::timestamptz[],
      ${sorted.map((i) => new Date(i.request.expiresAt))}::timestamptz[])`.execute(db));
  } catch (error) {
    // As for claims: rolled back, so each completion goes alone and only one waits for the lock.
    if (!isLockNotAvailable(error)) throw error;
    return Promise.all(items.map((item) => completeKey(db, table, item.request, item.result)));
  }
  const done: boolean[] = new Array(items.length).fill(false);
  for (const row of rows) done[order[row.ordinal - 1] as number] = row.done === true;
  return done;
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

/**
 * The result as JSON text: the text the caller already wrote (the server's guard writes its
 * responses' text by hand), else `result` serialised; `?? null` because JSON.stringify(undefined)
 * is not a SQL value.
 */
export function resultJsonOf(request: CompleteRequest): string {
  return typeof request.resultJson === 'string'
    ? request.resultJson
    : JSON.stringify(request.result ?? null);
}

/**
 * Records the result: a compare-and-set on the owner token (fencing), one call of the completion
 * function. When nothing matched, it tells a completion this owner already wrote (a retried
 * record whose first answer was lost: true) from a takeover (false).
 */
export async function completeKey(
  db: QueryExecutorProvider,
  table: ResolvedIdempotencyTable,
  request: CompleteRequest,
  result: string = resultJsonOf(request),
): Promise<boolean> {
  const { rows } = await sql<{ done: boolean }>`
    SELECT ${table.completeFunction}(${request.scope}, ${request.key}, ${request.ownerToken},
      ${result}::json, ${new Date(request.now)}, ${new Date(request.expiresAt)}) AS done`.execute(
    db,
  );
  return rows[0]?.done === true;
}

/**
 * Reads nothing but names every column and function the store uses, so a missing table, schema,
 * column or function fails here (at start-up) rather than on the first keyed request.
 */
export async function checkIdempotencyTable(
  db: QueryExecutorProvider,
  table: ResolvedIdempotencyTable,
): Promise<void> {
  await sql`
    SELECT scope, key, fingerprint, state, owner_token, result, lease_expires_at, expires_at,
      takeovers, created_at, completed_at
    FROM ${table.ref} LIMIT 0`.execute(db);
  // A table migrated before the functions existed: 42883 (undefined_function), not migrated.
  await sql`
    SELECT ${table.claimSignature}::regprocedure, ${table.claimJsonSignature}::regprocedure,
      ${table.completeSignature}::regprocedure`.execute(db);
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
