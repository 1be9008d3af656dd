/**
 * Mark, then delete (seed 001 §2). The row and its dependants are soft-deleted first, so nothing
 * reads a document whose object is about to vanish; then the object is deleted. If storage
 * fails, the row and dependants are restored exactly as they were and storage's error
 * propagates. If the restore fails too, the document is deleted in the database but its object
 * survives: that is `COMPENSATION_FAILED` (critical), and reconciliation deletes the object of a
 * deleted row on its next pass.
 */
import { systemClock } from '../clock/system-clock.js';
import { BallastError } from '../errors/ballast-error.js';
import { noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import { saga } from '../saga/saga.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import type { DocumentRecords } from './document-records.js';
import {
  portSchema,
  type RecipeOptions,
  storageSchema,
  withRecipeOptions,
} from './recipe-options.js';

/** Options for {@link markThenDelete}. */
export interface MarkThenDeleteOptions extends RecipeOptions {
  readonly storage: ObjectStorage;
  /** Only `softDelete` and `restore` are used. */
  readonly records: Pick<DocumentRecords, 'softDelete' | 'restore'>;
  /** Id of the row to delete. */
  readonly id: string;
}

/** What {@link markThenDelete} deleted. */
export interface DeletedDocument {
  readonly id: string;
  /** Key of the deleted object. */
  readonly key: string;
}

const schema = v.object(
  withRecipeOptions({
    storage: storageSchema('delete'),
    records: portSchema('a DocumentRecords', 'softDelete', 'restore'),
    id: v.string({ minLength: 1 }),
  }),
);

/**
 * Soft-deletes the row `id` and its dependants, then deletes its object. Throws `NOT_FOUND`
 * when there is no `active` or `error` row with that id (nothing changes); storage's error after
 * restoring the rows; `COMPENSATION_FAILED` when the restore failed as well.
 *
 * @example
 * ```ts
 * try {
 *   await markThenDelete({ storage, records, id: req.params.id, logger });
 * } catch (error) {
 *   if (isBallastError(error, 'NOT_FOUND')) return reply.code(404).send();
 *   throw error; // STORAGE_UNAVAILABLE: the document is back, try again later
 * }
 * ```
 */
export async function markThenDelete(options: MarkThenDeleteOptions): Promise<DeletedDocument> {
  parseOptions(schema, options, 'markThenDelete()');
  const { storage, records, id, signal } = options;
  const clock = options.clock ?? systemClock;
  const traceId = options.traceId ?? crypto.randomUUID();
  const results = await saga({
    name: 'markThenDelete',
    logger: options.logger ?? noopLogger,
    traceId,
    signal,
  })
    .step({
      name: 'row',
      run: async (ctx) => {
        const deleted = await records.softDelete(id, {
          traceId,
          now: clock.now(),
          signal: ctx.signal,
        });
        if (!deleted) throw new BallastError('NOT_FOUND', { message: `No live document ${id}.` });
        return deleted;
      },
      compensate: (_ctx, deleted) =>
        records.restore(deleted.restoreToken, { traceId, now: clock.now() }),
      critical: true,
    })
    .step({
      name: 'object',
      run: ({ results, signal: stepSignal }) =>
        storage.delete(results.row.key, { signal: stepSignal }),
    })
    .run();
  return { id, key: results.row.key };
}
