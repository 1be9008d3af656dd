/**
 * Upload, then record (seed 001 §1). The object is stored first and the row inserted second, so
 * a row never points at an object that was not stored. If the insert fails the object is
 * deleted again; if that delete fails too, the failure is logged and attached, the insert's
 * error still propagates, and the orphan is left to reconciliation, which deletes objects
 * without a row once they are older than its grace period.
 */
import { systemClock } from '../clock/system-clock.js';
import { noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import { saga } from '../saga/saga.js';
import type { ObjectBody } from '../storage/object-body.js';
import type { ObjectInfo, ObjectStorage } from '../storage/object-storage.js';
import type { DocumentRecords } from './document-records.js';
import {
  bodySchema,
  keySchema,
  portSchema,
  type RecipeOptions,
  storageSchema,
  withRecipeOptions,
} from './recipe-options.js';

/** Options for {@link uploadThenRecord}. */
export interface UploadThenRecordOptions<Data, Row extends { readonly id: string }>
  extends RecipeOptions {
  readonly storage: ObjectStorage;
  /** Only `insert` is used. */
  readonly records: Pick<DocumentRecords<Data, Row>, 'insert'>;
  /**
   * A fresh key no other row uses (`${prefix}/${crypto.randomUUID()}`): after a failed insert
   * the object under this key is deleted, which must never be someone else's object.
   */
  readonly key: string;
  readonly body: ObjectBody;
  readonly contentType?: string;
  /** Byte length of a streamed `body`, which some backends need. */
  readonly contentLength?: number;
  /** The caller's own columns for the new row. */
  readonly record: Data;
}

/** A stored object and the row that points at it. */
export interface RecordedObject<Row> {
  readonly row: Row;
  readonly object: ObjectInfo;
}

const schema = v.object(
  withRecipeOptions({
    storage: storageSchema('put', 'delete'),
    records: portSchema('a DocumentRecords', 'insert'),
    key: keySchema,
    body: bodySchema,
    contentType: v.optional(v.string({ minLength: 1 })),
    contentLength: v.optional(v.number({ integer: true, min: 0 })),
    record: v.unknown(),
  }),
);

/**
 * Stores `body` under `key`, then inserts an `active` row for it. On insert failure deletes the
 * object and rethrows the insert's error (with a `SagaFailure` attached; a failed delete shows
 * in its `compensationFailures`). On put failure nothing is inserted.
 *
 * @example
 * ```ts
 * const { row, object } = await uploadThenRecord({
 *   storage, records, logger,
 *   key: `documents/${crypto.randomUUID()}`,
 *   body: file.stream(), contentLength: file.size, contentType: file.type,
 *   record: { title: file.name, caseId },
 * });
 * ```
 */
export async function uploadThenRecord<Data, Row extends { readonly id: string }>(
  options: UploadThenRecordOptions<Data, Row>,
): Promise<RecordedObject<Row>> {
  parseOptions(schema, options, 'uploadThenRecord()');
  const { storage, records, key, body, contentType, contentLength, signal } = options;
  const clock = options.clock ?? systemClock;
  const traceId = options.traceId ?? crypto.randomUUID();
  const results = await saga({
    name: 'uploadThenRecord',
    logger: options.logger ?? noopLogger,
    traceId,
    signal,
  })
    .step({
      name: 'object',
      run: (ctx) => storage.put(key, body, { contentType, contentLength, signal: ctx.signal }),
      // Best effort: if this fails the object is an orphan that reconciliation removes.
      compensate: () => storage.delete(key),
    })
    .step({
      name: 'row',
      run: ({ results, signal: stepSignal }) =>
        records.insert(
          { key, status: 'active', data: options.record, object: results.object },
          { traceId, now: clock.now(), signal: stepSignal },
        ),
    })
    .run();
  return { row: results.row, object: results.object };
}
