/**
 * The Postgres inbox: the "processed" mark is written in the handler's own transaction, so the
 * effect and the mark commit together or not at all. A redelivery after a crash finds the mark
 * and is skipped; a crash before the commit leaves neither, and the redelivery runs the handler
 * again. This is what turns the queue's at-least-once delivery into an exactly-once effect, for
 * effects that live in the same database. The transaction's `BEGIN` and the mark share one round
 * trip where the driver and the values allow (`inbox-one-trip.ts`).
 */
import { BallastError, type InboxOutcome, type InboxRef, type InboxStore } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { type Kysely, sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { kyselyExecutorSchema } from '../kysely-executor-schema.js';
import { oneTripUnsupported } from '../one-trip-transaction.js';
import { isStorableText } from '../storable-text.js';
import { quoteQualified, tableRef } from '../table-identifier.js';
import { markStatement, runWithOneTripMark } from './inbox-one-trip.js';
import { type InboxTableOptions, inboxTableOptionsSchema } from './inbox-table.js';

/** Options for {@link createPostgresInbox}. */
export type PostgresInboxOptions = InboxTableOptions;

/** The inbox made by {@link createPostgresInbox}. */
export interface PostgresInbox<DB> extends InboxStore<Transaction<DB>> {
  /** Deletes marks older than `before` (at most `limit`, default 10 000); returns how many. */
  prune(options: { before: Date; limit?: number }): Promise<number>;
}

const storableKey = z
  .string()
  .min(1)
  .max(200)
  .refine(isStorableText, 'expected text without NUL or lone surrogates');
const refSchema = z.strictObject({ consumer: storableKey, eventId: storableKey });

/** What `refSchema` accepts, checked without building a parse result. */
function isPlainRef(ref: unknown): ref is InboxRef {
  const { consumer, eventId } = (ref ?? {}) as { consumer?: unknown; eventId?: unknown };
  return (
    typeof ref === 'object' &&
    Object.keys(ref as object).length === 2 &&
    typeof consumer === 'string' &&
    consumer.length >= 1 &&
    consumer.length <= 200 &&
    typeof eventId === 'string' &&
    eventId.length >= 1 &&
    eventId.length <= 200 &&
    isStorableText(consumer) &&
    isStorableText(eventId)
  );
}

const earliestMark = Date.parse('0001-01-01T00:00:00Z');

// SQLSTATEs of a missing table, column or schema: the inbox was never migrated.
const notMigratedStates = new Set(['42P01', '42703', '3F000']);

/**
 * Builds the Postgres inbox on `db`. Handlers receive the Kysely transaction the mark is written
 * in: write the effect with it.
 *
 * @example
 * ```ts
 * await migrateInbox(db);
 * const inbox = createPostgresInbox(db);
 * await inbox.runOnce({ consumer: 'emails', eventId: event.id }, async (trx) => {
 *   await trx.insertInto('emails').values({ orderId: event.payload.orderId }).execute();
 * });
 * ```
 */
export function createPostgresInbox<DB>(
  db: Kysely<DB>,
  options: PostgresInboxOptions = {},
): PostgresInbox<DB> {
  parseOptions(kyselyExecutorSchema, db, 'createPostgresInbox()');
  const table = parseOptions(inboxTableOptionsSchema, options, 'createPostgresInbox()');
  const ref = tableRef(table);
  const name = table.schema === undefined ? table.tableName : `${table.schema}.${table.tableName}`;
  const quotedTable = quoteQualified(table.tableName, table.schema);
  // Until a driver refuses two commands in one message (`inbox-one-trip.ts`); a Kysely
  // transaction passed as `db` keeps the plain path, which refuses it as before.
  let oneTrip = !db.isTransaction;

  const notMigrated = (error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !notMigratedStates.has(code)) return error;
    return new BallastError('OUTBOX_NOT_MIGRATED', {
      message: `The inbox table ${name} is missing (SQLSTATE ${code}); run migrateInbox() or inboxMigrationSql().`,
      cause: error,
    });
  };

  async function runOnce<T>(
    inboxRef: InboxRef,
    handle: (transaction: Transaction<DB>) => Promise<T>,
  ): Promise<InboxOutcome<T>> {
    // Once per event: a plain check first, the schema (and its error message) only when it fails.
    const { consumer, eventId } = isPlainRef(inboxRef)
      ? inboxRef
      : parseOptions(refSchema, inboxRef, 'inbox.runOnce()');
    if (typeof handle !== 'function') {
      throw new BallastError('INVALID_OPTIONS', {
        message: 'Invalid options for inbox.runOnce(): "handle": expected a function',
        details: { field: 'handle' },
      });
    }
    const mark = oneTrip ? markStatement(quotedTable, consumer, eventId) : undefined;
    if (mark !== undefined) {
      const outcome = await runWithOneTripMark(db, mark, handle, notMigrated);
      if (outcome !== oneTripUnsupported) return outcome;
      oneTrip = false;
    }
    // Only the mark's own insert can mean "not migrated": the handler's queries may hit a
    // missing table of their own, and that error is theirs to see as it is.
    let markFailed = false;
    try {
      return await db.transaction().execute(async (trx) => {
        // A concurrent delivery's insert waits here on the first one's uncommitted row, then
        // inserts nothing if that one committed (duplicate) or goes ahead if it rolled back.
        markFailed = true;
        const { rows } = await sql<{ inserted: number }>`
          INSERT INTO ${ref} (consumer, event_id) VALUES (${consumer}, ${eventId})
          ON CONFLICT DO NOTHING RETURNING 1 AS inserted`.execute(trx);
        markFailed = false;
        if (rows.length === 0) return { kind: 'duplicate' } as const;
        return { kind: 'ran', value: await handle(trx) } as const;
      });
    } catch (error) {
      throw markFailed ? notMigrated(error) : error;
    }
  }

  async function prune(pruneOptions: { before: Date; limit?: number }): Promise<number> {
    const { before, limit } = parseOptions(
      z.strictObject({ before: z.date(), limit: z.number().int().min(1).optional() }),
      pruneOptions,
      'inbox.prune()',
    );
    // No mark is older than year 1, and an instant before 4713 BC (a timestamptz's first) failed
    // with the driver's raw "timestamp out of range".
    if (before.getTime() < earliestMark) return 0;
    const { rows } = await sql<{ done: number }>`
      DELETE FROM ${ref} WHERE (consumer, event_id) IN (
        SELECT consumer, event_id FROM ${ref} WHERE processed_at < ${before}
        LIMIT ${limit ?? 10_000} FOR UPDATE SKIP LOCKED
      ) RETURNING 1 AS done`.execute(db);
    return rows.length;
  }

  return { runOnce, prune };
}
