/**
 * Table names for the Postgres adapters' own tables (idempotency keys, nonces, backup runs):
 * plain identifiers only. They are quoted in every statement anyway, but an index name derived
 * from a long table name would be truncated silently by Postgres (63 bytes), so each table caps
 * its name's length.
 */
import { type RawBuilder, sql } from 'kysely';
import { z } from 'zod';

/** A plain SQL identifier (letters, digits, `_`) of at most `maxLength` characters. */
export function sqlIdentifierSchema(maxLength: number) {
  return z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain SQL identifier (letters, digits, _)')
    .max(maxLength);
}

/** The table as a Kysely identifier, quoted the same way by every statement. */
export function tableRef(options: {
  tableName: string;
  schema?: string | undefined;
}): RawBuilder<unknown> {
  return options.schema === undefined
    ? sql.id(options.tableName)
    : sql.id(options.schema, options.tableName);
}

/**
 * `name` as a quoted SQL identifier, for SQL written as text (migrations, function bodies,
 * LISTEN), where Kysely's `sql.id` cannot go.
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."name"`, or `"name"` without a schema (it then resolves through `search_path`). */
export function quoteQualified(name: string, schema: string | undefined): string {
  return schema === undefined
    ? quoteIdentifier(name)
    : `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
}
