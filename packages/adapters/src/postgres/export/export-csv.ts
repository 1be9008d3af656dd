/**
 * Per-entity CSV exports (seed 002 §1.3 and §4.1: "export sales or customers for a date range
 * while the connection is good, and keep working from the sheet"). Rows stream from a
 * server-side cursor inside one read-only transaction, a batch at a time and only as fast as
 * the consumer reads, so exporting a million rows holds one batch in memory and sees one
 * consistent snapshot. Output is RFC 4180: comma-separated, CRLF line ends, fields with a comma,
 * quote or line break quoted, quotes doubled; optionally a UTF-8 BOM so Excel reads accents.
 */
import { BallastError } from '@ballast/core';
import { invalidArgument, parseOptions } from '@ballast/core/adapter-kit';
import { functionSchema } from '@ballast/server/adapter-kit';
import { type Compilable, CompiledQuery, type Kysely, sql } from 'kysely';
import { z } from 'zod';

/** Options for {@link exportCsv}: a `table` (with an optional date range) or a `query`. */
export interface ExportCsvOptions {
  /** Table to export (`'sales'` or `'shop.sales'`). Either this or `query`. */
  table?: string;
  /** A Kysely query to export, e.g. `db.selectFrom('sales').select([...]).where(...)`. */
  query?: Compilable;
  /** Columns to export, in order (with `table`). Default: all. Also the header of an empty export. */
  columns?: string[];
  /** The timestamp column `from`/`to` filter on (with `table`). Required when they are given. */
  dateColumn?: string;
  /** Rows with `dateColumn >= from`. */
  from?: Date;
  /** Rows with `dateColumn < to` (half-open, so consecutive ranges never overlap). */
  to?: Date;
  /** Order of rows (with `table`). Default: `dateColumn` when given, else unordered. */
  orderBy?: string;
  /** Start with a UTF-8 byte order mark, for spreadsheet users. Default `false`. */
  bom?: boolean;
  /** Write a header line with the column names. Default `true`. */
  header?: boolean;
  /**
   * Prefix text cells starting with `=`, `+`, `-`, `@`, tab or CR with `'`, so a spreadsheet
   * does not run them as formulas (CSV injection). Plain numbers (`-12.50`, which Postgres
   * numeric and bigint arrive as) are left as they are. Default `false`: values are exported
   * as they are.
   */
  escapeFormulas?: boolean;
  /** Rows fetched per round trip. Default `1000`. */
  batchSize?: number;
  /** Turns a database value into cell text. Default: dates as ISO 8601, objects as JSON. */
  formatValue?: (value: unknown, column: string) => string;
}

const identifier = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/, 'must be a plain SQL identifier');

const optionsSchema = z
  .strictObject({
    table: identifier.optional(),
    query: z
      .custom<Compilable>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          typeof (value as { compile?: unknown }).compile === 'function',
        { message: 'expected a Kysely query (with compile())' },
      )
      .optional(),
    columns: z.array(identifier).min(1).optional(),
    dateColumn: identifier.optional(),
    from: z.date().optional(),
    to: z.date().optional(),
    orderBy: identifier.optional(),
    bom: z.boolean().default(false),
    header: z.boolean().default(true),
    escapeFormulas: z.boolean().default(false),
    batchSize: z.number().int().min(1).max(100_000).default(1_000),
    formatValue:
      functionSchema<(value: unknown, column: string) => string>('a function').optional(),
  })
  .superRefine((options, context) => {
    if ((options.table === undefined) === (options.query === undefined)) {
      context.addIssue({
        code: 'custom',
        path: ['table'],
        message: 'give exactly one of table or query',
      });
    }
    if (options.query !== undefined) {
      for (const field of ['dateColumn', 'from', 'to', 'orderBy'] as const) {
        if (options[field] !== undefined) {
          context.addIssue({
            code: 'custom',
            path: [field],
            message: 'only applies to table; put it in the query',
          });
        }
      }
    }
    if (
      (options.from !== undefined || options.to !== undefined) &&
      options.dateColumn === undefined
    ) {
      context.addIssue({
        code: 'custom',
        path: ['dateColumn'],
        message: 'is required with from/to',
      });
    }
    if (options.from && options.to && options.from > options.to) {
      context.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    }
  });

const ref = (name: string) => sql.id(...(name.split('.') as [string]));

/** One cell as RFC 4180 text. */
export function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function defaultFormat(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const formulaStart = /^[=+\-@\t\r]/;
// node-postgres hands numeric and bigint over as strings; a plain number such as `-12.50` is
// never run as a formula, and prefixed with `'` a spreadsheet would read it as text.
const plainNumber = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Whether `text` would start a formula in a spreadsheet (CSV injection). */
function looksLikeFormula(text: string): boolean {
  return formulaStart.test(text) && !plainNumber.test(text);
}

/** A CSV file name for an export: `sales-2026-01-01-to-2026-02-01.csv`. */
export function csvFileName(entity: string, from?: Date, to?: Date): string {
  if (typeof entity !== 'string') throw invalidArgument('csvFileName()', 'entity', 'a name');
  const day = (date: Date) => date.toISOString().slice(0, 10);
  const range = [from && `from-${day(from)}`, to && `to-${day(to)}`].filter(Boolean).join('-');
  const base = entity.replace(/[^A-Za-z0-9_-]+/g, '-');
  return `${base}${range ? `-${range}` : ''}.csv`;
}

/**
 * Streams rows as CSV (UTF-8). Errors surface as the stream's error: `INVALID_OPTIONS` for bad
 * options (thrown at once), `UPSTREAM_ERROR` when the database fails mid-export (the driver's
 * message goes to `cause`, never into the file), `INTERNAL` when `formatValue` throws (its
 * error is the `cause`).
 *
 * @example
 * ```ts
 * // Express: GET /reports/export?entity=sales&from=…&to=…  (admin only)
 * const csv = exportCsv(db, { table: 'sales', dateColumn: 'created_at', from, to, bom: true });
 * res.attachment(csvFileName('sales', from, to));
 * Readable.fromWeb(csv).pipe(res);
 * ```
 */
export function exportCsv<DB>(
  db: Kysely<DB>,
  options: ExportCsvOptions,
): ReadableStream<Uint8Array> {
  if (typeof (db as { transaction?: unknown })?.transaction !== 'function') {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'Invalid options for exportCsv(): "db" must be a Kysely instance',
      details: { field: 'db' },
    });
  }
  const parsed = parseOptions(optionsSchema, options, 'exportCsv()');
  const format = parsed.formatValue ?? defaultFormat;
  const encoder = new TextEncoder();
  let source: CompiledQuery<unknown>;
  if (parsed.query) source = parsed.query.compile();
  else {
    const where = [sql`true`];
    const column = parsed.dateColumn ? ref(parsed.dateColumn) : undefined;
    if (column && parsed.from) where.push(sql`${column} >= ${parsed.from}`);
    if (column && parsed.to) where.push(sql`${column} < ${parsed.to}`);
    const order = parsed.orderBy ?? parsed.dateColumn;
    source = sql`SELECT ${parsed.columns ? sql.join(parsed.columns.map(ref)) : sql`*`}
      FROM ${ref(parsed.table!)} WHERE ${sql.join(where, sql` AND `)}
      ${order ? sql`ORDER BY ${ref(order)}` : sql``}`.compile(db);
  }
  const declare = CompiledQuery.raw(`DECLARE ballast_export NO SCROLL CURSOR FOR ${source.sql}`, [
    ...source.parameters,
  ]);

  let wake: (() => void) | undefined;
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        let columns = parsed.columns;
        const line = (cells: string[]) => `${cells.map(csvCell).join(',')}\r\n`;
        let formatFailure: { error: unknown } | undefined;
        const formatted = (value: unknown, name: string) => {
          try {
            return format(value, name);
          } catch (error) {
            // Remembered so the export fails as the caller's bug, not as the database's.
            formatFailure = { error };
            throw error;
          }
        };
        const cellsOf = (row: Record<string, unknown>) =>
          columns!.map((name) => {
            const value = row[name];
            const text = formatted(value, name);
            return parsed.escapeFormulas && typeof value === 'string' && looksLikeFormula(text)
              ? `'${text}`
              : text;
          });
        let started = false;
        const begin = (first?: Record<string, unknown>) => {
          if (started) return;
          started = true;
          columns ??= first ? Object.keys(first) : [];
          const head = parsed.header && columns.length > 0 ? line(columns) : '';
          controller.enqueue(encoder.encode(`${parsed.bom ? '\uFEFF' : ''}${head}`));
        };
        db.transaction()
          .setAccessMode('read only')
          .execute(async (trx) => {
            await trx.executeQuery(declare);
            for (;;) {
              if ((controller.desiredSize ?? 1) <= 0) {
                await new Promise<void>((resolve) => {
                  wake = resolve;
                });
              }
              if (cancelled) break;
              const { rows } = await sql<Record<string, unknown>>`FETCH ${sql.raw(
                String(parsed.batchSize),
              )} FROM ballast_export`.execute(trx);
              begin(rows[0]);
              if (rows.length === 0) break;
              controller.enqueue(encoder.encode(rows.map((row) => line(cellsOf(row))).join('')));
            }
            await sql`CLOSE ballast_export`.execute(trx);
          })
          .then(
            () => {
              if (!cancelled) controller.close();
            },
            (error: unknown) => {
              if (cancelled) return;
              if (formatFailure) {
                controller.error(
                  new BallastError('INTERNAL', {
                    message: 'exportCsv(): formatValue threw',
                    cause: formatFailure.error,
                  }),
                );
                return;
              }
              controller.error(
                new BallastError('UPSTREAM_ERROR', {
                  message: 'exportCsv(): the database failed during the export',
                  cause: error,
                }),
              );
            },
          );
      },
      pull() {
        wake?.();
        wake = undefined;
      },
      cancel() {
        cancelled = true;
        wake?.();
      },
    },
    { highWaterMark: 2 },
  );
}
