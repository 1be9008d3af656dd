/**
 * Reconciliation (seed 001 §3): the pass that makes "no orphaned object and no row pointing at a
 * missing object survives" true even after crashes, lost responses and failed compensations.
 *
 * It compares by listing, not by asking: rows are paged in storage-key order, the bucket is
 * listed in the same order, and the two streams are merge-joined by key. A consistent
 * 1,000-row stretch costs one `listByKey` query and one `list` request, where the seed's
 * loop costs a HEAD per row; only anomalies cost more (one HEAD to confirm a missing object
 * before acting on it, and the repair itself). Repairs run with bounded concurrency, each
 * isolated: one failure is counted and logged, and the pass goes on.
 *
 * Repairs, by what the merge finds for one key:
 * - `active` row, no object → confirm with HEAD → `markError` (row to `error`, dependants
 *   soft-deleted): `missingObject`.
 * - only `deleted` rows (changed before the grace period), object present → delete the object:
 *   `deletedRowObject`.
 * - no row, object older than the grace period → delete the object: `orphanObject` (a crashed
 *   upload, a rollback whose delete failed).
 * - `pending` row past its `expiresAt` → `expirePending`, then delete its object if one was
 *   uploaded and no live row uses the key: `expiredUpload`.
 * Rows in `error` are left for a person; a key with a live or unexpired pending row keeps its
 * object, and so do its signed upload's staged objects (`<key>.upload-<hex>`, listed after the
 * key), which that upload may still confirm however long its window is.
 */
import { systemClock } from '../clock/system-clock.js';
import type { DocumentRecordRef } from '../consistency/document-records.js';
import { uploadKeyOfStaging } from '../consistency/staging-key.js';
import { toBallastError } from '../errors/ballast-error.js';
import { noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import { compareObjectKeys } from '../storage/object-key.js';
import type { ObjectInfo } from '../storage/object-storage.js';
import { withListingRetries } from './listing-retry.js';
import { PageReader } from './page-reader.js';
import { type ReconcileOptions, reconcileOptionsSchema } from './reconcile-options.js';

export type { ReconcileOptions } from './reconcile-options.js';

/** The kinds of inconsistency reconciliation repairs. */
export type ReconcileKind = 'missingObject' | 'deletedRowObject' | 'orphanObject' | 'expiredUpload';

/** A count per kind. */
export type ReconcileCounts = { readonly [K in ReconcileKind]: number };

/**
 * One inconsistency and what was done about it.
 * - `repaired`: fixed. `planned`: found in a dry run, nothing changed.
 * - `skipped`: found, then not acted on (`reason` says why: the object turned out to exist, the
 *   row changed meanwhile). `failed`: the repair threw; `reason` is the error's code.
 */
export interface ReconcileAction {
  readonly kind: ReconcileKind;
  readonly key: string;
  readonly rowIds: readonly string[];
  readonly outcome: 'repaired' | 'planned' | 'skipped' | 'failed';
  readonly reason?: string;
}

/** Counters of a pass in progress, passed to `onProgress`. */
export interface ReconcileProgress {
  /** Distinct keys compared (rows and objects joined). */
  readonly checked: number;
  readonly rowsChecked: number;
  readonly objectsChecked: number;
  /** Inconsistencies found (in a dry run: that would be repaired). */
  readonly found: ReconcileCounts;
  readonly repaired: ReconcileCounts;
  /** Repairs that threw. */
  readonly failed: number;
}

/** The outcome of a pass. */
export interface ReconcileReport extends ReconcileProgress {
  readonly dryRun: boolean;
  /** True when `signal` aborted the pass; the counts cover what was done before. */
  readonly aborted: boolean;
  readonly startedAt: number;
  readonly durationMs: number;
  /** The first `maxActions` actions, in key order of discovery. */
  readonly actions: readonly ReconcileAction[];
  /** Actions beyond `maxActions`, counted but not listed. */
  readonly actionsOmitted: number;
}

const maxStoragePage = 1000;

const kindMessages: Record<ReconcileKind, string> = {
  missingObject: 'active row without its object: marked error, dependants soft-deleted',
  deletedRowObject: 'deleted row still had its object: object deleted',
  orphanObject: 'object without a row past the grace period: object deleted',
  expiredUpload: 'signed upload never confirmed: row expired, object deleted',
};

interface Planned {
  readonly kind: ReconcileKind;
  readonly key: string;
  readonly rows: readonly DocumentRecordRef[];
  readonly object: ObjectInfo | undefined;
}

const nothingToDo: readonly Planned[] = [];

function zeroCounts(): Record<ReconcileKind, number> {
  return { missingObject: 0, deletedRowObject: 0, orphanObject: 0, expiredUpload: 0 };
}

/**
 * Runs one reconciliation pass and resolves with its report. Rejects only when a listing page
 * cannot be read (storage or database down, after `listRetries` retries of a retryable
 * failure), since the merge cannot go on without it; each repair's failure is isolated and
 * counted in `failed`.
 *
 * @example
 * ```ts
 * const report = await reconcile({ storage, records, prefix: 'documents/', dryRun: true, logger });
 * console.log(report.found, report.failed);
 * ```
 */
export async function reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
  const parsed = parseOptions(reconcileOptionsSchema, options, 'reconcile()');
  const { storage, records, prefix, signal, dryRun, graceMs, concurrency, batchSize } = parsed;
  const clock = parsed.clock ?? systemClock;
  const traceId = parsed.traceId ?? crypto.randomUUID();
  const logger = parsed.logger ?? noopLogger;
  const startedAt = clock.now();
  const graceLine = startedAt - graceMs;
  const context = () => ({ traceId, now: clock.now(), signal });
  // Repairs get no signal: one that started finishes, so an abort never leaves half a repair.
  const repairContext = () => ({ traceId, now: clock.now() });

  const found = zeroCounts();
  const repaired = zeroCounts();
  const actions: ReconcileAction[] = [];
  let actionsOmitted = 0;
  let failed = 0;
  let checked = 0;
  let rowsChecked = 0;
  let objectsChecked = 0;
  let aborted = false;

  const progress = (): ReconcileProgress => ({
    checked,
    rowsChecked,
    objectsChecked,
    found: { ...found },
    repaired: { ...repaired },
    failed,
  });
  const reportProgress = () => {
    try {
      parsed.onProgress?.(progress());
    } catch (error) {
      // A broken progress bar must not stop a repair pass.
      logger.warn({ traceId, err: error }, 'reconcile: onProgress threw; ignored');
    }
  };

  const record = (planned: Planned, outcome: ReconcileAction['outcome'], reason?: string) => {
    const action: ReconcileAction = {
      kind: planned.kind,
      key: planned.key,
      rowIds: planned.rows.map((r) => r.id),
      outcome,
      ...(reason === undefined ? {} : { reason }),
    };
    if (actions.length < parsed.maxActions) actions.push(action);
    else actionsOmitted++;
    const fields = { audit: 'reconcile', traceId, dryRun, ...action };
    if (outcome === 'failed') logger.error(fields, `reconcile: repair failed (${planned.kind})`);
    else if (outcome === 'skipped')
      logger.info(fields, `reconcile: ${planned.kind} skipped: ${reason}`);
    else
      logger.warn(
        fields,
        `reconcile: ${dryRun ? '[dry run] would repair: ' : ''}${kindMessages[planned.kind]}`,
      );
  };

  /** Performs one repair; never throws. */
  const repair = async (planned: Planned): Promise<void> => {
    try {
      if (planned.kind === 'missingObject') {
        // The listing is a snapshot: an upload may have landed since. Confirm before acting.
        if (await storage.head(planned.key)) {
          record(planned, 'skipped', 'object-present');
          return;
        }
        found.missingObject++;
        if (dryRun) return record(planned, 'planned');
        let changed = 0;
        for (const row of planned.rows) {
          if (await records.markError(row.id, 'object missing in storage', repairContext()))
            changed++;
        }
        if (changed === 0) return record(planned, 'skipped', 'row-changed');
        repaired.missingObject++;
        return record(planned, 'repaired');
      }
      found[planned.kind]++;
      if (dryRun) return record(planned, 'planned');
      if (planned.kind === 'expiredUpload') {
        let expired = 0;
        for (const row of planned.rows) {
          if (await records.expirePending(row.id, repairContext())) expired++;
        }
        // A row confirmed meanwhile now owns the object: keep it.
        if (expired < planned.rows.length) return record(planned, 'skipped', 'row-changed');
      }
      if (planned.object) await storage.delete(planned.key);
      repaired[planned.kind]++;
      record(planned, 'repaired');
    } catch (error) {
      failed++;
      const code = toBallastError(error).code;
      record(planned, 'failed', code);
      logger.error(
        { traceId, key: planned.key, kind: planned.kind, err: error },
        'reconcile: repair error',
      );
    }
  };

  // Keys whose pending row may still be confirmed. A key sorts before its staging keys, so the
  // merge-join meets the row before its staged objects; the set holds one entry per open upload.
  const awaitingConfirmation = new Set<string>();
  const plan = (
    key: string,
    rows: readonly DocumentRecordRef[],
    object: ObjectInfo | undefined,
  ): readonly Planned[] => {
    // The common case, one live row with its object, decided without allocating.
    if (object && rows.length === 1 && rows[0]!.status === 'active') return nothingToDo;
    const live = rows.filter((r) => r.status === 'active');
    const pending = rows.filter((r) => r.status === 'pending');
    const expired = pending.filter((r) => r.expiresAt !== undefined && r.expiresAt <= startedAt);
    const waiting = pending.length - expired.length;
    if (waiting > 0) awaitingConfirmation.add(key);
    const planned: Planned[] = [];
    if (live.length > 0 && !object) {
      planned.push({ kind: 'missingObject', key, rows: live, object });
    }
    if (expired.length > 0) {
      // The object goes only when nothing else on this key still needs it.
      const keepObject = live.length > 0 || waiting > 0;
      planned.push({
        kind: 'expiredUpload',
        key,
        rows: expired,
        object: keepObject ? undefined : object,
      });
    }
    if (live.length > 0 || pending.length > 0 || !object) return planned;
    if (rows.length === 0) {
      const uploadKey = uploadKeyOfStaging(key);
      if (uploadKey !== undefined && awaitingConfirmation.has(uploadKey)) return planned;
      if (object.lastModified <= graceLine)
        planned.push({ kind: 'orphanObject', key, rows, object });
      return planned;
    }
    const allDeleted = rows.every((r) => r.status === 'deleted');
    const settled = rows.every((r) => r.updatedAt === undefined || r.updatedAt <= graceLine);
    if (allDeleted && settled) planned.push({ kind: 'deletedRowObject', key, rows, object });
    return planned;
  };

  const retrying = { retries: parsed.listRetries, clock, logger, traceId, signal };
  const rowReader = new PageReader<DocumentRecordRef, { key: string; id: string }>(
    withListingRetries(
      'records',
      async (after) => {
        const page = await records.listByKey({ after, limit: batchSize, prefix }, context());
        const last = page.at(-1);
        return {
          items: page,
          next: page.length < batchSize || !last ? undefined : { key: last.key, id: last.id },
        };
      },
      retrying,
    ),
  );
  const objectReader = new PageReader<ObjectInfo, string>(
    withListingRetries(
      'storage',
      async (cursor) => {
        const page = await storage.list({
          prefix,
          cursor,
          pageSize: Math.min(batchSize, maxStoragePage),
          signal,
        });
        return { items: page.objects, next: page.nextCursor };
      },
      retrying,
    ),
  );

  const inFlight = new Set<Promise<void>>();
  const schedule = async (planned: Planned) => {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    const task = repair(planned).finally(() => inFlight.delete(task));
    inFlight.add(task);
  };

  let pageError: unknown;
  try {
    for (;;) {
      if (signal?.aborted) {
        aborted = true;
        break;
      }
      let row = rowReader.peekBuffered();
      let object = objectReader.peekBuffered();
      if (row instanceof Promise || object instanceof Promise)
        [row, object] = await Promise.all([row, object]);
      if (!row && !object) break;
      const key =
        row && object
          ? compareObjectKeys(row.key, object.key) <= 0
            ? row.key
            : object.key
          : (row ?? object)!.key;
      const rows: DocumentRecordRef[] = [];
      for (;;) {
        let next = rowReader.peekBuffered();
        if (next instanceof Promise) next = await next;
        if (next?.key !== key) break;
        rows.push(rowReader.take());
      }
      const matched = object?.key === key ? objectReader.take() : undefined;
      checked++;
      rowsChecked += rows.length;
      if (matched) objectsChecked++;
      for (const planned of plan(key, rows, matched)) await schedule(planned);
      if (checked % batchSize === 0) reportProgress();
    }
  } catch (error) {
    if (signal?.aborted) aborted = true;
    else pageError = error;
  }
  await Promise.all(inFlight);

  const durationMs = clock.now() - startedAt;
  if (pageError !== undefined) {
    logger.error(
      { traceId, err: pageError, ...progress() },
      'reconcile: listing failed; pass stopped (repairs done so far are kept)',
    );
    throw pageError;
  }
  reportProgress();
  const report: ReconcileReport = {
    ...progress(),
    dryRun,
    aborted,
    startedAt,
    durationMs,
    actions,
    actionsOmitted,
  };
  logger.info(
    { audit: 'reconcile', traceId, dryRun, aborted, checked, found, repaired, failed, durationMs },
    `reconcile: ${aborted ? 'aborted' : 'done'}: ${checked} keys checked`,
  );
  return report;
}
