/**
 * The Postgres outbox: the writer an application publishes through inside its own Kysely
 * transaction (the event commits or rolls back with the business write), and the store relays
 * claim from.
 *
 * Claims are exclusive twice over: a transaction-scoped advisory lock serialises the claim
 * statements of all relays on one table (a few milliseconds each; publishing, the slow part,
 * stays parallel), and `FOR UPDATE SKIP LOCKED` keeps a claim from waiting on rows another
 * statement is settling. The lock is what makes per-key order hold across relays: without it, two
 * concurrent claims could each see a key's earlier row as free, one take it and the other take
 * the next row of the same key, and publish them out of order. Lock and claim run in one round
 * trip, inside the table's claim function (`outbox-claim.ts`).
 *
 * The relay's own writes (claim, markSent, release, park) commit asynchronously: they record
 * leases and outcomes, never events, and one lost in a database crash only makes the relay
 * publish a row again, which the publisher's event-id idempotency absorbs. Waiting for the WAL
 * flush on each of them cost a disk sync per batch on the path from commit to handler.
 *
 * A publish notifies relays only while one sleeps (`outbox-wake-up.ts`): a notifying commit
 * holds a database-wide lock through its disk flush, so notifying on every publish made every
 * writer's commit wait for the one before it.
 *
 * `maxDepth` is enforced without counting the table on every publish: the writer counts unsent
 * rows at most once per `depthCheckIntervalMs` and adds what it has published since.
 */
import {
  BallastError,
  type Clock,
  type EventEnvelope,
  type Logger,
  noopLogger,
  type OutboxClaimRequest,
  type OutboxDeadLetter,
  type OutboxEntry,
  type OutboxParkRequest,
  type OutboxRedriveFilter,
  type OutboxReleaseRequest,
  type OutboxSettleRequest,
  type OutboxStore,
  type OutboxWriter,
  systemClock,
} from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { type Kysely, type QueryExecutorProvider, type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import { kyselyExecutorSchema } from '../kysely-executor-schema.js';
import { isStorableText, storableDescription } from '../storable-text.js';
import { createOutboxClaimer } from './outbox-claim.js';
import { outboxCall, toOutboxError } from './outbox-errors.js';
import { checkEnvelopes, envelopeJson } from './outbox-input.js';
import { type ListenOptions, OutboxListener } from './outbox-listener.js';
import {
  type OutboxTableOptions,
  outboxTableOptionsSchema,
  type ResolvedOutboxTable,
  resolveOutboxTable,
} from './outbox-table.js';
import { sleepingLockName, wakeUpStatements } from './outbox-wake-up.js';

/** Options for {@link createPostgresOutbox}. */
export interface PostgresOutboxOptions extends OutboxTableOptions {
  /**
   * Most unsent events; a publish past it rejects with `QUEUE_FULL` (503, retryable), so a
   * stalled relay or engine turns into back-pressure instead of an ever-growing table.
   * Default: no limit.
   */
  maxDepth?: number;
  /** With `maxDepth`: how old the writer's count of unsent rows may be, ms. Default `1_000`. */
  depthCheckIntervalMs?: number;
  /**
   * The LISTEN connection that wakes relays on commit: `{ connectionString }` (opened with `pg`)
   * or `{ connect }` returning a connected `pg.Client`. Default: none, relays only poll.
   */
  listen?: ListenOptions;
  /** Default `systemClock`. */
  clock?: Clock;
  /** Default: none. */
  logger?: Logger;
}

/**
 * The outbox made by {@link createPostgresOutbox}: a writer and a relay store on one table, with
 * the dead-letter side (`park`, `deadLetters`, `redrive`) always present.
 */
export interface PostgresOutbox extends OutboxWriter<QueryExecutorProvider>, OutboxStore {
  park(request: OutboxParkRequest): Promise<number>;
  deadLetters(options?: { readonly limit?: number }): Promise<readonly OutboxDeadLetter[]>;
  redrive(filter?: OutboxRedriveFilter): Promise<number>;
  /** The table's schema-qualified name, for logs. */
  readonly table: string;
  /** Closes the LISTEN connection, if any. The Kysely instance stays the caller's. */
  close(): Promise<void>;
}

const optionsSchema = outboxTableOptionsSchema.extend({
  maxDepth: z.number().int().min(1).optional(),
  depthCheckIntervalMs: z.number().int().min(0).max(2_147_483_647).optional(),
  listen: z
    .union([
      z.strictObject({ connectionString: z.string().min(1) }),
      z.strictObject({
        connect: z.custom<() => Promise<never>>(
          (value) => typeof value === 'function',
          'a function',
        ),
      }),
    ])
    .optional(),
  clock: z
    .custom<Clock>((value) => typeof (value as Clock | null)?.now === 'function', 'a Clock')
    .optional(),
  logger: z
    .custom<Logger>((value) => typeof (value as Logger | null)?.warn === 'function', 'a Logger')
    .optional(),
});

// Text Postgres can compare: a NUL failed with the driver's raw 22021 error.
const storableFilter = z
  .string()
  .refine(isStorableText, 'expected text without NUL or lone surrogates');
// No row failed before year 1 (a timestamptz holds nothing before 4713 BC).
const earliestFailure = Date.parse('0001-01-01T00:00:00Z');
const redriveSchema = z.strictObject({
  ids: z.array(storableFilter.min(1)).max(10_000).optional(),
  type: storableFilter.min(1).max(500).optional(),
  // An instant before any a failed row can have means every row; sent as it is, one before
  // 4713 BC failed with the driver's raw "timestamp out of range".
  since: z
    .date()
    .transform((since) => (since.getTime() < earliestFailure ? undefined : since))
    .optional(),
});

const deadLettersSchema = z.strictObject({
  limit: z.number().int().min(1).max(1_000).optional(),
});

// A NUL in the failure's description (an echoed binary body) failed the release or the park,
// so the row stayed claimed until its lease lapsed and was never backed off or parked.
const lastError = (error: string | undefined): string | null =>
  error === undefined ? null : storableDescription(error.slice(0, 1_000));

interface DeadRow {
  readonly event: EventEnvelope | string;
  readonly attempts: number;
  readonly last_error: string | null;
  readonly failed_at: Date | string;
}

const parseEvent = (event: EventEnvelope | string) =>
  (typeof event === 'string' ? JSON.parse(event) : event) as EventEnvelope;

const toDate = (epochMs: number) => new Date(epochMs);

/**
 * Builds the Postgres outbox on `db` (a Kysely instance; its pool serves the relay side and the
 * depth count).
 *
 * @example
 * ```ts
 * await migrateOutbox(db);
 * const outbox = createPostgresOutbox(db, { listen: { connectionString }, maxDepth: 50_000 });
 * await db.transaction().execute(async (trx) => {
 *   await trx.insertInto('orders').values(order).execute();
 *   await outbox.publish(trx, OrderCreated.create({ orderId: order.id }, { key: order.id }));
 * });
 * ```
 */
export function createPostgresOutbox(
  // biome-ignore lint/suspicious/noExplicitAny: the outbox works on any database's Kysely
  db: Kysely<any>,
  options: PostgresOutboxOptions = {},
): PostgresOutbox {
  parseOptions(kyselyExecutorSchema, db, 'createPostgresOutbox()');
  const opts = parseOptions(optionsSchema, options, 'createPostgresOutbox()');
  const table: ResolvedOutboxTable = resolveOutboxTable(opts);
  const name = table.schema === undefined ? table.tableName : `${table.schema}.${table.tableName}`;
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? noopLogger;
  const depthCheckIntervalMs = opts.depthCheckIntervalMs ?? 1_000;
  const listener =
    opts.listen === undefined
      ? undefined
      : new OutboxListener(
          options.listen as ListenOptions,
          table.channel,
          wakeUpStatements(table, table.channel),
          clock,
          logger,
        );
  const sleepingLock = sleepingLockName(table);
  const claimRows = createOutboxClaimer(db, table, logger);

  // The writer's view of the depth: counted at `countedAt`, plus what this writer added since.
  let counted = 0;
  let countedAt = Number.NEGATIVE_INFINITY;
  let addedSince = 0;
  let counting: Promise<void> | undefined;

  async function countUnsent(): Promise<number> {
    const { rows } = await sql<{ depth: string | number }>`
      SELECT count(*) AS depth FROM ${table.ref}
      WHERE sent_at IS NULL AND failed_at IS NULL`.execute(db);
    return Number(rows[0]?.depth ?? 0);
  }

  async function guardDepth(adding: number): Promise<void> {
    const maxDepth = opts.maxDepth;
    if (maxDepth === undefined) return;
    if (clock.now() - countedAt >= depthCheckIntervalMs) {
      counting ??= (async () => {
        try {
          const started = clock.now();
          counted = await outboxCall(name, countUnsent);
          countedAt = started;
          addedSince = 0;
        } finally {
          counting = undefined;
        }
      })();
      await counting;
    }
    const depth = counted + addedSince;
    if (depth + adding > maxDepth) {
      throw new BallastError('QUEUE_FULL', {
        message: `outbox.publish(): ${name} holds about ${depth} unsent events (maxDepth ${maxDepth})`,
        details: { depth, maxDepth },
      });
    }
  }

  async function publishMany(
    transaction: QueryExecutorProvider,
    events: readonly EventEnvelope[],
  ): Promise<void> {
    parseOptions(kyselyExecutorSchema, transaction, 'outbox.publish()');
    const checked = checkEnvelopes(events);
    if (checked.length === 0) return;
    const encoded = checked.map(envelopeJson);
    await guardDepth(checked.length);
    const values = checked.map(
      (event, index) =>
        sql`(${event.id}, ${event.type}, ${event.key ?? null}, ${encoded[index]}::jsonb)`,
    );
    try {
      // One round trip: the insert, then the NOTIFY (delivered at commit) only when a relay
      // sleeps; otherwise the shared lock, held to the end of the transaction, makes a relay
      // going to sleep wait for this commit (`outbox-wake-up.ts`).
      await sql`
        WITH inserted AS (
          INSERT INTO ${table.ref} (id, type, key, event) VALUES ${sql.join(values)}
          RETURNING 1
        )
        SELECT CASE WHEN pg_try_advisory_xact_lock_shared(hashtext(${sleepingLock})) THEN NULL
                    ELSE pg_notify(${table.channel}, '') END
        FROM (SELECT count(*) FROM inserted) AS n`.execute(transaction);
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === '23505') {
        throw new BallastError('ALREADY_EXISTS', {
          message: `outbox.publish(): an event with one of these ids is already in ${name}`,
          details: { eventIds: checked.map((event) => event.id).slice(0, 20) },
          cause: error,
        });
      }
      throw toOutboxError(error, name);
    }
    addedSince += checked.length;
  }

  async function claim(request: OutboxClaimRequest): Promise<readonly OutboxEntry[]> {
    const rows = await claimRows(request);
    return rows
      .map((row) => ({ position: BigInt(row.position), row }))
      .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0))
      .map(({ row }) => ({
        event: parseEvent(row.event as EventEnvelope | string),
        attempts: row.attempts,
      }));
  }

  /**
   * Runs one of the relay's settling updates, committed asynchronously (see the header), and
   * returns how many rows it changed.
   */
  async function settle(update: RawBuilder<unknown>): Promise<number> {
    const { rows } = await outboxCall(name, () =>
      sql<{ n: string | number }>`
        WITH settled AS (${update} RETURNING 1)
        SELECT count(*) AS n, set_config('synchronous_commit', 'off', true) FROM settled`.execute(
        db,
      ),
    );
    return Number(rows[0]?.n ?? 0);
  }

  async function markSent(request: OutboxSettleRequest): Promise<number> {
    if (request.ids.length === 0) return 0;
    return settle(sql`
      UPDATE ${table.ref}
      SET sent_at = ${toDate(request.now)}, owner_token = NULL, lease_expires_at = NULL
      WHERE id = ANY(${[...request.ids]}::text[]) AND owner_token = ${request.owner}
        AND sent_at IS NULL`);
  }

  async function release(request: OutboxReleaseRequest): Promise<number> {
    if (request.ids.length === 0) return 0;
    return settle(sql`
      UPDATE ${table.ref}
      SET owner_token = NULL, lease_expires_at = NULL, retry_at = ${toDate(request.retryAt)},
          attempts = attempts + ${request.countAttempt === false ? 0 : 1},
          last_error = ${lastError(request.error)}
      WHERE id = ANY(${[...request.ids]}::text[]) AND owner_token = ${request.owner}
        AND sent_at IS NULL`);
  }

  async function park(request: OutboxParkRequest): Promise<number> {
    if (request.ids.length === 0) return 0;
    return settle(sql`
      UPDATE ${table.ref}
      SET owner_token = NULL, lease_expires_at = NULL, failed_at = ${toDate(request.now)},
          attempts = attempts + 1, last_error = ${lastError(String(request.error))}
      WHERE id = ANY(${[...request.ids]}::text[]) AND owner_token = ${request.owner}
        AND sent_at IS NULL AND failed_at IS NULL`);
  }

  async function deadLetters(
    options: { readonly limit?: number } = {},
  ): Promise<readonly OutboxDeadLetter[]> {
    const { limit = 100 } = parseOptions(deadLettersSchema, options, 'outbox.deadLetters()');
    const { rows } = await outboxCall(name, () =>
      sql<DeadRow>`
        SELECT event, attempts, last_error, failed_at FROM ${table.ref}
        WHERE failed_at IS NOT NULL AND sent_at IS NULL
        ORDER BY position
        LIMIT ${limit}`.execute(db),
    );
    return rows.map((row) => ({
      event: parseEvent(row.event),
      attempts: row.attempts,
      lastError: row.last_error ?? undefined,
      failedAt: new Date(row.failed_at).getTime(),
    }));
  }

  async function redrive(filter: OutboxRedriveFilter = {}): Promise<number> {
    const { ids, type, since } = parseOptions(redriveSchema, filter, 'outbox.redrive()');
    const { rows } = await outboxCall(name, () =>
      sql<{ n: string | number }>`
        WITH redriven AS (
          UPDATE ${table.ref}
          SET failed_at = NULL, attempts = 0, retry_at = NULL
          WHERE failed_at IS NOT NULL AND sent_at IS NULL
            AND (${ids ?? null}::text[] IS NULL OR id = ANY(${ids ?? null}::text[]))
            AND (${type ?? null}::text IS NULL OR type = ${type ?? null})
            AND (${since ?? null}::timestamptz IS NULL OR failed_at >= ${since ?? null})
          RETURNING 1
        )
        SELECT count(*) AS n, pg_notify(${table.channel}, '') FROM redriven`.execute(db),
    );
    return Number(rows[0]?.n ?? 0);
  }

  async function deleteSent(request: { readonly before: number; readonly limit: number }) {
    const { rows } = await outboxCall(name, () =>
      sql<{ done: number }>`
        DELETE FROM ${table.ref}
        WHERE position IN (
          SELECT position FROM ${table.ref}
          WHERE sent_at IS NOT NULL AND sent_at < ${toDate(request.before)}
          ORDER BY sent_at
          LIMIT ${request.limit}
          FOR UPDATE SKIP LOCKED
        )
        RETURNING 1 AS done`.execute(db),
    );
    return rows.length;
  }

  const outbox: PostgresOutbox = {
    table: name,
    publish: (transaction, event) => publishMany(transaction, [event]),
    publishMany,
    claim,
    markSent,
    release,
    park,
    deadLetters,
    redrive,
    depth: () => outboxCall(name, countUnsent),
    deleteSent,
    close: async () => {
      await listener?.close();
    },
  };
  if (listener !== undefined) {
    return {
      ...outbox,
      onCommit: (wake: () => void) => listener.subscribe(wake),
      watchCommits: (wake: () => void) => listener.watch(wake),
    };
  }
  return outbox;
}
