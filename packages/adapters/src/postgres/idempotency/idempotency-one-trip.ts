/**
 * withIdempotency() in three round trips, like the transaction it guards: `BEGIN` goes with the
 * claim, the operation's statements go as they are, and the completion goes with `COMMIT`
 * (`one-trip-transaction.ts`). Through `db.transaction()` it took five (BEGIN, claim, the
 * operation, completion, COMMIT), and each round trip cost about a tenth of the bench's
 * throughput.
 *
 * A message of several statements returns no rows through Kysely, so both ends speak through errors
 * (the transaction-bound procedures of idempotency-functions.ts): a claim made is the silent
 * success, and any other answer raises `keyExistsState` with the key's row, read here after the
 * rollback; a completion that matches no row raises `completionMissedState`, so the `COMMIT` in its
 * message never runs. The price is one `ERROR` line in the server log per replay, refused reuse or
 * in-flight answer.
 *
 * Values go inline, so the claim takes this path only when its texts are literal-safe and its
 * times have an ISO form; a result that cannot be dollar-quoted is completed by a statement of
 * its own before the `COMMIT` (four round trips). Everything else goes back to the caller's
 * `db.transaction()`: a driver that refuses several commands in one message (PGlite), a table
 * migrated before the transaction-bound procedures existed, and a row the claim must take over.
 */
import type { ClaimOutcome, ClaimRequest, CompleteRequest } from '@ballast/core';
import type { Kysely, Transaction } from 'kysely';
import { oneTripTransactions, oneTripUnsupported } from '../one-trip-transaction.js';
import {
  dollarQuoted,
  isLiteralSafe,
  sqlStringLiteral as literal,
  timestampLiteral as timestamp,
} from '../sql-literal.js';
import { completionMissedState, keyExistsState } from './idempotency-functions.js';
import { completeKey, keyRowOf, resultJsonOf, settledClaim } from './idempotency-statements.js';
import { keyChangedInTransaction } from './idempotency-store-errors.js';
import type { ResolvedIdempotencyTable } from './idempotency-table.js';

/** What {@link runWithOneTripClaim} answers when the caller must use `db.transaction()`. */
export const takeTwoStepPath = Symbol('withIdempotency() two-step path');

/** How a one-trip call ended, unless it threw. */
export type OneTripAnswer<T> =
  /** The key exists and settles the request; nothing ran, the transaction rolled back. */
  | { readonly kind: 'existing'; readonly outcome: Exclude<ClaimOutcome, { kind: 'claimed' }> }
  /** The operation ran and its result committed with the key. */
  | { readonly kind: 'ran'; readonly result: T }
  | typeof takeTwoStepPath;

const runInOneTrip = oneTripTransactions('withIdempotency()');
const undefinedFunctionState = '42883';

// Where one trip was refused for good, so later calls go straight to db.transaction(): by the
// driver, for every table, or by a table whose transaction-bound procedures are missing.
const refusals = new WeakMap<object, Set<ResolvedIdempotencyTable | 'driver'>>();

function refused(db: object, table: ResolvedIdempotencyTable): boolean {
  const seen = refusals.get(db);
  return seen !== undefined && (seen.has('driver') || seen.has(table));
}

function refuse(db: object, what: ResolvedIdempotencyTable | 'driver'): void {
  const seen = refusals.get(db) ?? new Set();
  seen.add(what);
  refusals.set(db, seen);
}

const codeOf = (error: unknown) => (error as { code?: unknown } | null)?.code;

/**
 * Claims `claim`'s key with `BEGIN` in one message, runs `operation` in that transaction, then
 * records `completion(result)` with `COMMIT` in one message. The operation's error rejects as it
 * is, after the rollback; so do the driver's errors of the two messages, for the caller to map.
 */
export async function runWithOneTripClaim<DB, T>(
  db: Kysely<DB>,
  table: ResolvedIdempotencyTable,
  claim: ClaimRequest,
  operation: (transaction: Transaction<DB>) => Promise<T>,
  completion: (result: T) => CompleteRequest,
): Promise<OneTripAnswer<T>> {
  if (refused(db, table)) return takeTwoStepPath;
  const texts = claimTexts(claim);
  if (texts === undefined) return takeTwoStepPath;
  const opening = claimStatement(table, claim, texts);
  if (opening === undefined) return takeTwoStepPath;
  let ran = false;
  const run = async (transaction: Transaction<DB>) => {
    const result = await operation(transaction);
    ran = true;
    const request = completion(result);
    const closing = completeStatement(table, request, claim, texts);
    if (closing !== undefined) return { result, closing };
    if (!(await completeKey(transaction, table, request))) throw keyChangedInTransaction(claim.key);
    return { result, closing: '' };
  };
  const outcome = await runInOneTrip(db, opening, run, (done) => done.closing).catch(
    (error: unknown) => {
      throw ran && codeOf(error) === completionMissedState
        ? keyChangedInTransaction(claim.key)
        : error;
    },
  );
  if (outcome === oneTripUnsupported) {
    refuse(db, 'driver');
    return takeTwoStepPath;
  }
  if (outcome.kind === 'committed') return { kind: 'ran', result: outcome.value.result };
  const { error } = outcome;
  if (codeOf(error) === undefinedFunctionState) {
    refuse(db, table);
    return takeTwoStepPath;
  }
  if (codeOf(error) !== keyExistsState) throw error;
  const settled = settledClaim(keyRowOf((error as { column?: unknown }).column), claim);
  // Vanished, expired or past its lease for this request: the claim's later rounds (a takeover)
  // need a live transaction. (A raised row is never the key inserted: `claimed` cannot occur.)
  if (settled === undefined || settled.kind === 'claimed') return takeTwoStepPath;
  return { kind: 'existing', outcome: settled };
}

/** The claim's texts as SQL literals, quoted once for both messages. */
interface ClaimTexts {
  readonly scope: string;
  readonly key: string;
  readonly ownerToken: string;
}

/** The claim's texts quoted, or undefined when one cannot be inlined safely. */
function claimTexts(claim: ClaimRequest): ClaimTexts | undefined {
  const { scope, key, ownerToken } = claim;
  if (!isLiteralSafe(scope) || !isLiteralSafe(key) || !isLiteralSafe(ownerToken)) return undefined;
  return { scope: literal(scope), key: literal(key), ownerToken: literal(ownerToken) };
}

/** The transaction-bound claim with literal values, or undefined when one cannot be inlined. */
function claimStatement(
  table: ResolvedIdempotencyTable,
  claim: ClaimRequest,
  texts: ClaimTexts,
): string | undefined {
  if (!isLiteralSafe(claim.fingerprint)) return undefined;
  const expiresAt = timestamp(claim.expiresAt);
  // withIdempotency gives the lease the whole TTL: one instant, formatted once.
  const leaseExpiresAt =
    claim.leaseExpiresAt === claim.expiresAt ? expiresAt : timestamp(claim.leaseExpiresAt);
  const now = timestamp(claim.now);
  if (expiresAt === undefined || leaseExpiresAt === undefined || now === undefined) {
    return undefined;
  }
  return `CALL ${table.claimInTransaction}(${texts.scope}, ${texts.key}, ${literal(claim.fingerprint)}, ${texts.ownerToken}, ${leaseExpiresAt}, ${expiresAt}, ${now})`;
}

/**
 * The transaction-bound completion with literal values, or undefined when one cannot be inlined.
 * Its texts are the claim's, quoted for the claim's message; a request that names other texts
 * (no caller does) is refused rather than inlined unchecked.
 */
function completeStatement(
  table: ResolvedIdempotencyTable,
  request: CompleteRequest,
  claim: ClaimRequest,
  texts: ClaimTexts,
): string | undefined {
  if (
    request.scope !== claim.scope ||
    request.key !== claim.key ||
    request.ownerToken !== claim.ownerToken
  ) {
    return undefined;
  }
  const json = resultJsonOf(request);
  const result = typeof json === 'string' ? dollarQuoted(json) : undefined;
  const now = timestamp(request.now);
  const expiresAt = timestamp(request.expiresAt);
  if (result === undefined || now === undefined || expiresAt === undefined) return undefined;
  return `CALL ${table.completeInTransaction}(${texts.scope}, ${texts.key}, ${texts.ownerToken}, ${result}, ${now}, ${expiresAt})`;
}
