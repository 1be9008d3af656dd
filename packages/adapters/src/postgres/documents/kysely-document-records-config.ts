/**
 * The types and option schema of `KyselyDocumentRecords`, apart from its behaviour (kysely's
 * `*-config.ts` split): the row it returns, its options, and the restore point `softDelete`
 * hands to `restore`.
 */
import type { Clock, DocumentRecordRef } from '@ballast/core';
import type { QueryExecutorProvider } from 'kysely';
import { z } from 'zod';
import { kyselyExecutorSchema } from '../kysely-executor-schema.js';
import { type DocumentTablesOptions, documentTablesSchema } from './documents-table.js';

/** A document row as the records return it. */
export interface DocumentRow extends DocumentRecordRef {
  readonly updatedAt: number;
  /** Every column of the row as the driver returned it, your own columns included. */
  readonly columns: Readonly<Record<string, unknown>>;
}

/** Options for {@link KyselyDocumentRecords}. */
export interface KyselyDocumentRecordsOptions<Data> extends DocumentTablesOptions {
  /**
   * A Kysely instance on Postgres (`pg`, PGlite or any Postgres dialect), or a transaction,
   * which binds the records to it. Its database type does not matter: the records issue their
   * own SQL.
   */
  db: QueryExecutorProvider;
  /**
   * Turns the recipe's `record` (your data) into column values of the inserted row. Default:
   * `record` is already an object of column name → value (`{ name: 'deed.pdf' }`).
   */
  dataColumns?: (data: Data) => Record<string, unknown>;
  /** Id of a new row. Default `crypto.randomUUID()`. */
  generateId?: () => string;
  /** Source of `now` for {@link KyselyDocumentRecords.transactional}. Default: system clock. */
  clock?: Clock;
}

/** @internal */
export const optionsSchema = documentTablesSchema.extend({
  db: kyselyExecutorSchema,
  dataColumns: z
    .custom<(data: unknown) => Record<string, unknown>>(
      (value) => typeof value === 'function',
      'must be a function',
    )
    .optional(),
  generateId: z
    .custom<() => string>((value) => typeof value === 'function', 'must be a function')
    .optional(),
  clock: z
    .custom<Clock>(
      (value) => typeof (value as Partial<Clock>)?.now === 'function',
      'must be a Clock',
    )
    .optional(),
});

/** What `softDelete` hands to `restore`. */
export interface RestorePoint {
  readonly kind: 'ballast-kysely-restore-point';
  readonly id: string;
  readonly status: unknown;
  readonly updatedAt: unknown;
  readonly deletedAt: unknown;
  /** Dependants this soft delete retired, as text; chunks deleted earlier are not in it. */
  readonly dependantIds: readonly string[];
}

export function isRestorePoint(token: unknown): token is RestorePoint {
  return (
    typeof token === 'object' &&
    token !== null &&
    (token as Partial<RestorePoint>).kind === 'ballast-kysely-restore-point'
  );
}
