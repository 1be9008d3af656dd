/**
 * Upload inside a database transaction (seed 004 "Upload Resilience"). The transaction is open
 * around the upload and the row write, so the database never shows a half-done state: either
 * the write commits with the object stored, or it rolls back and the object is deleted. The
 * object is deleted in both failure paths: when the write fails (before rollback) and when the
 * commit itself fails after the write succeeded. A failed delete is logged and attached; the
 * original error propagates and reconciliation removes the orphan later.
 *
 * The price is a transaction held open for the duration of the upload; for large files prefer
 * `uploadThenRecord` or a signed upload.
 */
import { BallastError } from '../errors/ballast-error.js';
import { type Logger, noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import { saga } from '../saga/saga.js';
import { attachSagaFailure, type CompensationFailure } from '../saga/saga-failure.js';
import type { ObjectBody } from '../storage/object-body.js';
import type { ObjectInfo, ObjectStorage } from '../storage/object-storage.js';
import {
  bodySchema,
  keySchema,
  type RecipeOptions,
  storageSchema,
  withRecipeOptions,
} from './recipe-options.js';
import type { RecordedObject } from './upload-then-record.js';

/** Options for {@link uploadInTransaction}. */
export interface UploadInTransactionOptions<Tx, Row> extends RecipeOptions {
  readonly storage: ObjectStorage;
  /**
   * Runs `work` in one database transaction and resolves with its result after COMMIT, or
   * rejects after ROLLBACK. With Kysely: `(work) => db.transaction().execute(work)`.
   */
  readonly transaction: (work: (tx: Tx) => Promise<Row>) => Promise<Row>;
  /** Writes the row(s) for the stored object inside the transaction. */
  readonly write: (tx: Tx, object: ObjectInfo) => Promise<Row>;
  /** A fresh key no other row uses: it is deleted again on rollback. */
  readonly key: string;
  readonly body: ObjectBody;
  readonly contentType?: string;
  readonly contentLength?: number;
}

const schema = v.object(
  withRecipeOptions({
    storage: storageSchema('put', 'delete'),
    transaction: v.func(),
    write: v.func(),
    key: keySchema,
    body: bodySchema,
    contentType: v.optional(v.string({ minLength: 1 })),
    contentLength: v.optional(v.number({ integer: true, min: 0 })),
  }),
);

/**
 * Opens a transaction, stores `body` under `key` and calls `write` with the stored object; the
 * object is deleted again if `write` or the commit fails. Resolves after COMMIT.
 *
 * @example
 * ```ts
 * const { row } = await uploadInTransaction({
 *   storage, key: `covers/${crypto.randomUUID()}`, body, contentType: 'image/png',
 *   transaction: (work) => db.transaction().execute(work),
 *   write: (tx, object) =>
 *     tx.updateTable('releases').set({ cover_key: object.key }).where('id', '=', releaseId)
 *       .returningAll().executeTakeFirstOrThrow(),
 * });
 * ```
 */
export async function uploadInTransaction<Tx, Row>(
  options: UploadInTransactionOptions<Tx, Row>,
): Promise<RecordedObject<Row>> {
  parseOptions(schema, options, 'uploadInTransaction()');
  const { storage, key, body, contentType, contentLength, signal } = options;
  const logger = options.logger ?? noopLogger;
  const traceId = options.traceId ?? crypto.randomUUID();
  let stored: ObjectInfo | undefined;
  let undoneInside = false;
  try {
    const row = await options.transaction(async (tx) => {
      try {
        const results = await saga({ name: 'uploadInTransaction', logger, traceId, signal })
          .step({
            name: 'object',
            run: (ctx) =>
              storage.put(key, body, { contentType, contentLength, signal: ctx.signal }),
            compensate: () => storage.delete(key),
          })
          .step({ name: 'write', run: ({ results }) => options.write(tx, results.object) })
          .run();
        stored = results.object;
        return results.write;
      } catch (error) {
        undoneInside = true;
        throw error;
      }
    });
    if (!stored) {
      throw new BallastError('INVALID_OPTIONS', {
        message: 'uploadInTransaction(): "transaction" resolved without running its work',
        details: { field: 'transaction' },
      });
    }
    return { row, object: stored };
  } catch (error) {
    // The work succeeded but COMMIT failed (or the transaction wrapper threw afterwards): the
    // rows are gone, so the object must go too.
    if (stored && !undoneInside)
      await deleteAfterFailedCommit(storage, key, error, logger, traceId);
    throw error;
  }
}

async function deleteAfterFailedCommit(
  storage: ObjectStorage,
  key: string,
  error: unknown,
  logger: Logger,
  traceId: string,
): Promise<void> {
  const failures: CompensationFailure[] = [];
  try {
    await storage.delete(key);
    logger.info(
      { saga: 'uploadInTransaction', traceId, step: 'object', key },
      'object deleted after failed commit',
    );
  } catch (deleteError) {
    failures.push({ step: 'object', error: deleteError, critical: false });
    logger.error(
      { saga: 'uploadInTransaction', traceId, step: 'object', key, err: deleteError, cause: error },
      'object could not be deleted after failed commit; left for reconciliation',
    );
  }
  attachSagaFailure(error, {
    saga: 'uploadInTransaction',
    traceId,
    failedStep: 'commit',
    compensated: failures.length === 0 ? ['object'] : [],
    compensationFailures: failures,
  });
}
