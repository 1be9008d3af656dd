/**
 * What to do when a queued edit meets a newer version on the server (seed 002 §3.2). The
 * default parks the write as `conflict` so the user decides ("use my changes or the server's?");
 * a resolver decides for them: `keepMine` re-sends against the server's version, `keepTheirs`
 * drops the edit, `mergeChanges` merges field by field and parks only when both sides changed
 * the same field. Creations never reach a resolver (seed 002 §3.3): a new sale has no version
 * to conflict with, so a 409 on it is a rejection, shown as `failed`.
 */
import { type BallastError, mergeFields as coreMergeFields } from '@ballast/core';
import { func, object, optional, parseOptions } from '../options/option-checks.js';
import type { QueuedWrite, WriteConflict } from './queued-write.js';

/** What a resolver sees. */
export interface ConflictContext {
  /** The queued edit; `body` holds its changes, `base` the record as it was loaded. */
  write: QueuedWrite;
  /** What the server holds now. */
  conflict: WriteConflict;
  /** The server's 409/412 answer. */
  error: BallastError;
}

/**
 * A resolver's decision:
 * - `resend`: send again against `version` (with `body` when given), under a new idempotency key;
 * - `drop`: remove the write from the queue (the server's version stands);
 * - `park`: keep it as `conflict` for the user, with the conflicting `fields` when known.
 */
export type ConflictDecision =
  | { action: 'resend'; version: string | number; body?: unknown }
  | { action: 'drop' }
  | { action: 'park'; fields?: string[] };

/** Decides what happens to a conflicting edit. */
export type ConflictResolver = (
  context: ConflictContext,
) => ConflictDecision | Promise<ConflictDecision>;

/** My changes win: re-send them against the server's current version (last write wins). */
export function keepMine(): ConflictResolver {
  return ({ conflict }) =>
    conflict.currentVersion === undefined
      ? { action: 'park' }
      : { action: 'resend', version: conflict.currentVersion };
}

/** The server's version wins: drop my edit. */
export function keepTheirs(): ConflictResolver {
  return () => ({ action: 'drop' });
}

/** The result of a three-way field merge, as core's `mergeFields` returns it. */
export type FieldMergeResult =
  | { ok: true; merged: Record<string, unknown> }
  | { ok: false; conflicts: string[]; merged: Record<string, unknown> };

/** A three-way field merge: core's `mergeFields(base, mine, theirs)`. */
export type FieldMerge = (
  base: Record<string, unknown>,
  mine: Record<string, unknown>,
  theirs: Record<string, unknown>,
) => FieldMergeResult;

/** Options of {@link mergeChanges}. */
export interface MergeChangesOptions {
  /**
   * The three-way merge to use. Default: core's `mergeFields` (a field both sides changed to
   * different values is a conflict; values compared structurally). Pass your own to merge some
   * fields differently (e.g. add up stock deltas).
   */
  mergeFields?: FieldMerge;
}

/**
 * Field-level three-way merge: my changes (the write's `body`, applied to its `base`) against
 * the server's `current` record, by core's `mergeFields` unless another merge is given. Fields
 * only one side changed are kept from that side and the merged changes are re-sent against the
 * current version; when both sides changed a field, the write is parked as `conflict` with
 * those fields. A write without `base`, or a server answer
 * without `current`, cannot be merged and is parked.
 */
export function mergeChanges(options: MergeChangesOptions = {}): ConflictResolver {
  const parsed = parseOptions(
    object({ mergeFields: optional(func<FieldMerge>()) }),
    options,
    'mergeChanges()',
  );
  const mergeFields: FieldMerge = parsed.mergeFields ?? coreMergeFields;
  return ({ write, conflict }) => {
    const changes = write.body;
    if (
      write.base === undefined ||
      conflict.current === undefined ||
      conflict.currentVersion === undefined ||
      typeof changes !== 'object' ||
      changes === null
    ) {
      return { action: 'park' };
    }
    const mine = { ...write.base, ...(changes as Record<string, unknown>) };
    const result = mergeFields(write.base, mine, conflict.current);
    if (!result.ok) return { action: 'park', fields: result.conflicts };
    // Send only the fields this edit touches, with their merged values, so the server's
    // other changes are not written back over themselves.
    const body: Record<string, unknown> = {};
    for (const field of Object.keys(changes)) body[field] = result.merged[field];
    return { action: 'resend', version: conflict.currentVersion, body };
  };
}
