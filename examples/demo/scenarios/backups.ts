/**
 * Seed 002 §1: a backup Ballast reports as good can be restored, and a copy lives somewhere
 * else. On embedded PGlite (no server, no `pg_dump`) the runner backs up with PGlite's own
 * data-dir dump, copies it "off-site" (memory storage here, S3 in production), restores it
 * after the data is lost, notices a corrupted byte, keeps only the newest N, and exports a
 * table as CSV for a spreadsheet.
 */

import { exportCsv, pgliteBackupSource } from '@ballast/adapters/postgres';
import {
  createBackupRunner,
  ManualClock,
  MemoryBackupFiles,
  MemoryBackupRunStore,
  MemoryObjectStorage,
} from '@ballast/core';
import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import type { DemoScenario } from '../scenario.js';

const scenario: DemoScenario = {
  title: 'Backups on embedded PGlite: back up, lose the data, restore, detect damage, export CSV',
  order: 60,
  async run(say) {
    let held = true;
    const check = (promise: boolean, line: string) => {
      held &&= promise;
      say(`${promise ? '' : '✗ '}${line}`);
    };
    const clock = new ManualClock(Date.UTC(2026, 11, 4, 2, 0));
    const pglite = new PGlite();
    await pglite.exec(`
      CREATE TABLE sales (id int PRIMARY KEY, customer text NOT NULL, total numeric(10,2) NOT NULL, sold_at timestamptz NOT NULL);
      INSERT INTO sales SELECT g, 'Cliente ' || g || ', S.A.', g * 9.5, timestamptz '2026-11-01' + g * interval '6 hours'
      FROM generate_series(1, 200) g;`);
    const files = new MemoryBackupFiles();
    const offsite = new MemoryObjectStorage({ clock });
    const runner = createBackupRunner({
      source: pgliteBackupSource({
        pglite,
        open: (dataDir) => PGlite.create({ loadDataDir: dataDir }),
        sanityQuery: 'SELECT count(*) = 200 FROM sales',
      }),
      files,
      runs: new MemoryBackupRunStore(),
      offsite,
      keep: 2,
      clock,
    });

    const run = await runner.run({ reason: 'scheduled' });
    check(
      run.status === 'succeeded' && run.offsite === 'copied',
      `backup ${run.id}: ${run.bytes} bytes, sha256 ${run.checksum?.slice(0, 12)}…, off-site copy verified`,
    );

    await pglite.exec('DROP TABLE sales');
    say('the sales table is dropped (the disaster)');
    const download = await runner.open(run.id);
    const restored = await PGlite.create({ loadDataDir: await new Response(download.body).blob() });
    const { rows } = await restored.query<{ n: number }>('SELECT count(*)::int AS n FROM sales');
    check(rows[0]?.n === 200, `restored ${download.fileName}: ${rows[0]?.n} sales rows are back`);
    await restored.close();

    const report = await runner.verify({ restore: true });
    check(
      report.ok && report.restore?.ok === true,
      `verification: restore check ${report.restore?.detail}`,
    );

    files.corrupt(run.path);
    const damaged = await runner.verify();
    check(
      !damaged.ok && damaged.runs[0]?.local === 'mismatch' && damaged.runs[0]?.offsite === 'ok',
      'one flipped byte in the local file → verification alerts; the off-site copy still verifies',
    );

    for (let i = 0; i < 3; i++) {
      await clock.advance(86_400_000);
      await runner.run({ reason: 'scheduled' });
    }
    const kept = await runner.list();
    const remote = (await offsite.list({ prefix: 'backups/' })).objects.length;
    check(
      kept.length === 2 && remote === 2,
      `retention keep=2: ${kept.length} local, ${remote} off-site`,
    );

    await pglite.exec(`
      CREATE TABLE customers (id int PRIMARY KEY, name text, joined_at timestamptz);
      INSERT INTO customers VALUES (1, 'Ana "la jefa" López', '2026-11-02'), (2, 'Núñez, Pedro', '2026-11-20');`);
    const db = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
    const bytes = new Uint8Array(
      await new Response(
        exportCsv(db, {
          table: 'customers',
          dateColumn: 'joined_at',
          from: new Date('2026-11-01'),
          to: new Date('2026-12-01'),
          bom: true,
        }),
      ).arrayBuffer(),
    );
    const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
    const lines = new TextDecoder().decode(bytes).trimEnd().split('\r\n');
    check(
      bom && lines.length === 3 && lines[1]!.includes('"Ana ""la jefa"" López"'),
      `CSV export for spreadsheets (BOM, RFC 4180 quoting): ${lines[2]}`,
    );
    await db.destroy();
    return held;
  },
};

export default scenario;
