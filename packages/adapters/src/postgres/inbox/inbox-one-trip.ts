/**
 * Opening the inbox's transaction and writing its mark in one round trip.
 *
 * Kysely's `db.transaction()` sends `BEGIN` on its own, so a delivery cost four round trips
 * (BEGIN, the mark, the handler's effect, COMMIT), two of them before the handler starts: on a
 * loaded machine each is a socket write and a wake-up on both sides, and the outbox benchmark's
 * commit→handler latency and events/s follow their count. Here `BEGIN` and the mark go as one
 * message (`one-trip-transaction.ts`), and the handler gets a Kysely `Transaction` on that
 * connection: the guarantee is the same (the mark and the effect commit together or not at all;
 * a concurrent delivery's mark waits on the first one's uncommitted row).
 *
 * The mark is a plain `INSERT`, so "already processed" arrives as a unique violation (a
 * multi-statement message returns no rows through Kysely), answered by a rollback and
 * `duplicate`. Its values are inlined as literals, so only printable ASCII without a backslash
 * takes this path; anything else, and any driver that prepares every statement (PGlite, whose
 * dialects refuse two commands in one), goes through `db.transaction()` as before.
 */
import type { InboxOutcome } from '@ballast/core';
import type { Kysely, Transaction } from 'kysely';
import { oneTripTransactions, oneTripUnsupported } from '../one-trip-transaction.js';
import { isLiteralSafe, sqlStringLiteral as literal } from '../sql-literal.js';

const uniqueViolationState = '23505';
const runInOneTrip = oneTripTransactions('inbox.runOnce()');

/**
 * Runs `handle` in a transaction opened together with `mark` (an `INSERT` of the inbox row with
 * literal values). Answers `duplicate` when the row exists, {@link oneTripUnsupported} when the
 * driver refused the two commands (nothing ran), and otherwise what `handle` returned, after the
 * commit. A mark that fails otherwise rejects with its error, flagged by `onMarkFailed`.
 */
export async function runWithOneTripMark<DB, T>(
  db: Kysely<DB>,
  mark: string,
  handle: (transaction: Transaction<DB>) => Promise<T>,
  onMarkFailed: (error: unknown) => unknown,
): Promise<InboxOutcome<T> | typeof oneTripUnsupported> {
  const outcome = await runInOneTrip(db, mark, handle);
  if (outcome === oneTripUnsupported) return outcome;
  if (outcome.kind === 'committed') return { kind: 'ran', value: outcome.value };
  const code = (outcome.error as { code?: unknown } | null)?.code;
  if (code === uniqueViolationState) return { kind: 'duplicate' };
  throw onMarkFailed(outcome.error);
}

/**
 * The mark's statement for `table` (quoted), with literal values; undefined when a value cannot
 * be inlined safely (the caller then marks through `db.transaction()` with parameters).
 */
export function markStatement(
  table: string,
  consumer: string,
  eventId: string,
): string | undefined {
  if (!isLiteralSafe(consumer) || !isLiteralSafe(eventId)) return undefined;
  return `INSERT INTO ${table} (consumer, event_id) VALUES (${literal(consumer)}, ${literal(eventId)})`;
}
