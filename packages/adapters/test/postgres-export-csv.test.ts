import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { csvFileName, exportCsv } from '../src/postgres/index.js';
import { describeWith, postgresUrl, uniqueSchemaName } from './support/services.js';

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(
    await new Response(stream).arrayBuffer(),
  );
}

describeWith('postgres', 'exportCsv on Postgres', () => {
  const schema = uniqueSchemaName('csv');
  let pool: pg.Pool;
  let db: Kysely<unknown>;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: postgresUrl, max: 2 });
    db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
    await sql.raw(`CREATE SCHEMA ${schema}`).execute(db);
    await sql
      .raw(
        `CREATE TABLE ${schema}.sales (id int PRIMARY KEY, customer text, total numeric(10,2), sold_at timestamptz NOT NULL, meta jsonb)`,
      )
      .execute(db);
    await sql
      .raw(
        `INSERT INTO ${schema}.sales VALUES
          (1, 'Ana "la jefa" López', 10.50, '2026-01-01T00:00:00Z', '{"a":1}'),
          (2, 'Núñez, Pedro', 20.00, '2026-01-15T12:00:00Z', NULL),
          (3, E'línea\\nnueva', 30.00, '2026-02-01T00:00:00Z', NULL),
          (4, '=HYPERLINK("x")', 40.00, '2026-02-10T00:00:00Z', NULL)`,
      )
      .execute(db);
  });

  afterAll(async () => {
    await sql.raw(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).execute(db);
    await db.destroy();
  });

  it('quotes per RFC 4180, ends lines with CRLF and filters a half-open date range', async () => {
    const csv = await text(
      exportCsv(db, {
        table: `${schema}.sales`,
        columns: ['id', 'customer', 'total', 'sold_at', 'meta'],
        dateColumn: 'sold_at',
        from: new Date('2026-01-01T00:00:00Z'),
        to: new Date('2026-02-01T00:00:00Z'),
      }),
    );
    expect(csv).toBe(
      'id,customer,total,sold_at,meta\r\n' +
        '1,"Ana ""la jefa"" López",10.50,2026-01-01T00:00:00.000Z,"{""a"":1}"\r\n' +
        '2,"Núñez, Pedro",20.00,2026-01-15T12:00:00.000Z,\r\n',
    );
  });

  it('adds a UTF-8 BOM on request and keeps line breaks inside quoted cells', async () => {
    const bytes = new Uint8Array(
      await new Response(
        exportCsv(db, {
          table: `${schema}.sales`,
          columns: ['id', 'customer'],
          orderBy: 'id',
          bom: true,
        }),
      ).arrayBuffer(),
    );
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(new TextDecoder().decode(bytes)).toContain('3,"línea\nnueva"\r\n');
  });

  it('escapes formula-looking text only when asked', async () => {
    const plain = await text(
      exportCsv(db, { table: `${schema}.sales`, columns: ['customer'], orderBy: 'id' }),
    );
    expect(plain).toContain('"=HYPERLINK(""x"")"');
    const safe = await text(
      exportCsv(db, {
        table: `${schema}.sales`,
        columns: ['customer'],
        orderBy: 'id',
        escapeFormulas: true,
      }),
    );
    expect(safe).toContain(`"'=HYPERLINK(""x"")"`);
  });

  it('escapes formulas without turning negative numbers into text', async () => {
    // node-postgres returns numeric and bigint as strings: a refund of -12.50 is the string
    // '-12.50', and prefixed with ' a spreadsheet reads it as text and leaves it out of sums.
    const query = db.selectNoFrom([
      sql<string>`-12.50::numeric(10,2)`.as('refund'),
      sql<string>`-3::bigint`.as('delta'),
      sql<string>`'+1e3'::numeric`.as('exponent'),
      sql<string>`'-1+cmd|'' /C calc''!A0'`.as('attack'),
    ]);
    expect(await text(exportCsv(db, { query, escapeFormulas: true }))).toBe(
      "refund,delta,exponent,attack\r\n-12.50,-3,1000,'-1+cmd|' /C calc'!A0\r\n",
    );
  });

  it('exports a Kysely query with its parameters bound', async () => {
    const query = db
      .withSchema(schema)
      .selectFrom('sales' as never)
      .select(['id', 'total'] as never)
      .where('total' as never, '>', 15 as never)
      .orderBy('id' as never);
    expect(await text(exportCsv(db, { query }))).toBe(
      'id,total\r\n2,20.00\r\n3,30.00\r\n4,40.00\r\n',
    );
  });

  it('streams a large table in batches and releases the connection when the reader cancels', async () => {
    await sql
      .raw(
        `CREATE TABLE ${schema}.big AS SELECT g AS id, repeat('x', 100) AS pad FROM generate_series(1, 20000) g`,
      )
      .execute(db);
    const reader = exportCsv(db, {
      table: `${schema}.big`,
      orderBy: 'id',
      batchSize: 500,
    }).getReader();
    try {
      const header = await reader.read();
      expect(new TextDecoder().decode(header.value)).toBe('id,pad\r\n');
      const batch = new TextDecoder().decode((await reader.read()).value);
      expect(batch.split('\r\n').length - 1).toBe(500);
    } finally {
      await reader.cancel();
    }
    // Both pool connections are free again: two concurrent queries complete.
    await Promise.all([sql`SELECT 1`.execute(db), sql`SELECT 2`.execute(db)]);
    const all = await text(exportCsv(db, { table: `${schema}.big`, batchSize: 1000 }));
    expect(all.split('\r\n').length).toBe(20002);
  });

  it('rejects bad options with INVALID_OPTIONS before touching the database', () => {
    expect(() => exportCsv(db, {} as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => exportCsv(db, { table: 'sales; DROP TABLE x' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => exportCsv(db, { table: 'sales', from: new Date() })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        message: expect.stringContaining('dateColumn'),
      }),
    );
    expect(() => exportCsv({} as never, { table: 'sales' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });

  it('surfaces a database failure as UPSTREAM_ERROR without the SQL in the message', async () => {
    const stream = exportCsv(db, { table: `${schema}.missing_table` });
    await expect(text(stream)).rejects.toMatchObject({
      code: 'UPSTREAM_ERROR',
      message: 'exportCsv(): the database failed during the export',
    });
  });

  it("reports a formatValue that throws as the caller's failure, not as a retryable database one", async () => {
    const bug = new Error('formatValue bug');
    const stream = exportCsv(db, {
      table: `${schema}.sales`,
      formatValue: () => {
        throw bug;
      },
    });
    // UPSTREAM_ERROR is retryable: a client would retry an export that fails the same way each time.
    await expect(text(stream)).rejects.toMatchObject({ code: 'INTERNAL', cause: bug });
  });

  it('names export files after the entity and range', () => {
    expect(csvFileName('sales', new Date('2026-01-01'), new Date('2026-02-01'))).toBe(
      'sales-from-2026-01-01-to-2026-02-01.csv',
    );
  });
});
