/**
 * `reconcile()`'s options: what each one means and its default, and the schema that checks
 * them at the call.
 */
import type { Clock } from '../clock/clock.js';
import type { DocumentRecords } from '../consistency/document-records.js';
import { portSchema } from '../consistency/recipe-options.js';
import type { Logger } from '../logging/logger.js';
import * as v from '../options/small-validator.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import type { ReconcileProgress } from './reconcile.js';

/** Options for `reconcile()`. */
export interface ReconcileOptions {
  /** Uses `list`, `head` (to confirm a missing object) and `delete`. */
  readonly storage: ObjectStorage;
  /** Uses `listByKey`, `markError` and `expirePending`. */
  readonly records: Pick<DocumentRecords, 'listByKey' | 'markError' | 'expirePending'>;
  /** Only keys under this prefix (rows and objects). Default: all. */
  readonly prefix?: string;
  /** Rows per `listByKey` query and objects per `list` page (at most 1,000 for storage). Default `1000`. */
  readonly batchSize?: number;
  /** Repairs in flight at once. Default `4`. */
  readonly concurrency?: number;
  /**
   * Age (ms) below which an object without a row, or a deleted row's object, is left alone: an
   * upload between its PUT and its INSERT, or a delete about to restore its row, looks exactly
   * like an inconsistency. Default `3_600_000` (1 hour).
   */
  readonly graceMs?: number;
  /** Find and report, change nothing (HEADs to confirm missing objects still run). Default `false`. */
  readonly dryRun?: boolean;
  /** Stops the pass at the next key; repairs in flight finish; the report says `aborted`. */
  readonly signal?: AbortSignal;
  /** Source of time for grace periods, expiries and duration. Default `systemClock`. */
  readonly clock?: Clock;
  /** Receives one audit line per action (warn), per failure (error) and a summary (info). Default: none. */
  readonly logger?: Logger;
  /** Trace id in log lines and records calls. Default: a random UUID. */
  readonly traceId?: string;
  /** Called after every `batchSize` keys and once at the end. Errors it throws are logged and ignored. */
  readonly onProgress?: (progress: ReconcileProgress) => void;
  /** Most actions kept in the report. Default `1000`. */
  readonly maxActions?: number;
  /**
   * Retries of a listing page whose read failed with a retryable error (S3 `InternalError` or
   * `SlowDown`, a dropped connection), with the `'read'` preset's backoff (1 s, 2 s, 4 s),
   * before the pass stops. `0` stops at the first failure. Default `3`.
   */
  readonly listRetries?: number;
}

// Read here, not in the schema: a property read in a schema's arguments makes a bundler keep it.
const maxSafeInteger = Number.MAX_SAFE_INTEGER;

export const reconcileOptionsSchema = v.object({
  storage: portSchema<ObjectStorage>('an ObjectStorage', 'list', 'head', 'delete'),
  records: portSchema<ReconcileOptions['records']>(
    'a DocumentRecords',
    'listByKey',
    'markError',
    'expirePending',
  ),
  prefix: v.optional(v.string({ maxLength: 1024 })),
  batchSize: v.optional(v.number({ integer: true, min: 1, max: 10_000 }), 1000),
  concurrency: v.optional(v.number({ integer: true, min: 1, max: 256 }), 4),
  graceMs: v.optional(v.durationMs({ max: maxSafeInteger }), 3_600_000),
  dryRun: v.optional(v.boolean(), false),
  signal: v.optional(v.abortSignal()),
  clock: v.optional(portSchema<Clock>('a Clock', 'now')),
  logger: v.optional(portSchema<Logger>('a Logger', 'debug', 'info', 'warn', 'error')),
  traceId: v.optional(v.string({ minLength: 1, maxLength: 200 })),
  onProgress: v.optional(v.func<(p: ReconcileProgress) => void>()),
  maxActions: v.optional(v.number({ integer: true, min: 0, max: 1_000_000 }), 1000),
  listRetries: v.optional(v.number({ integer: true, min: 0, max: 10 }), 3),
});
