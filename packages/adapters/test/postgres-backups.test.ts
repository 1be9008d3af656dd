/**
 * The backup promise against real services: a backup Ballast reports as good restores, and a
 * verified copy exists off the machine (S3 through s3rver). Each run gets its own database
 * (created and dropped here), so `pg_dump` never sees other test files' tables.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackupAlert } from '@ballast/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createPostgresBackupRunner,
  migrateBackupRuns,
  type PostgresBackupRunner,
  PostgresBackupRunStore,
  restorePostgresBackup,
} from '../src/postgres/index.js';
import { S3ObjectStorage } from '../src/s3/index.js';
import { type CuttableProxy, startCuttableProxy } from './support/cuttable-proxy.js';
import { type S3TestServer, s3TestCredentials, startS3Server } from './support/s3-server.js';
import { databaseUrl, describeWith, postgresUrl } from './support/services.js';

const rows = 3_000;

async function admin<T>(fn: (client: pg.Client) => Promise<T>, url = postgresUrl): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Row count and a hash of every row, in id order. */
async function fingerprint(url: string): Promise<{ count: number; hash: string }> {
  return admin(async (client) => {
    const { rows: result } = await client.query<{ count: string; hash: string }>(
      "SELECT count(*) AS count, md5(coalesce(string_agg(s::text, '|' ORDER BY id), '')) AS hash FROM sales s",
    );
    return { count: Number(result[0]!.count), hash: result[0]!.hash };
  }, url);
}

/** Creates and fills `sales` (ids 1…rows, so a re-seed gives the same fingerprint). */
async function seed(url: string): Promise<void> {
  await admin(async (client) => {
    await client.query(
      'CREATE TABLE sales (id int PRIMARY KEY, amount numeric(12,2) NOT NULL, note text, created_at timestamptz NOT NULL)',
    );
    await client.query(
      `INSERT INTO sales (id, amount, note, created_at)
       SELECT g, (g * 1.25)::numeric(12,2), 'venta nº ' || g || ', "café"', timestamptz '2026-01-01' + g * interval '1 hour'
       FROM generate_series(1, ${rows}) g`,
    );
  }, url);
}

/** The scratch databases that restore checks create (and must drop), on the whole server. */
async function scratchDatabaseNames(): Promise<string[]> {
  const { rows: result } = await admin((client) =>
    client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE starts_with(datname, 'ballast_restore_')",
    ),
  );
  return result.map((row) => row.datname);
}

describeWith('postgres', 'Postgres backups with pg_dump and an S3 off-site copy', () => {
  const name = `ballast_bk_${randomBytes(4).toString('hex')}`;
  const url = databaseUrl(name);
  const scratchDatabases: string[] = [];
  let dir: string;
  let s3: S3TestServer;
  let proxy: CuttableProxy;
  let offsite: S3ObjectStorage;
  let runner: PostgresBackupRunner;
  const alerts: BackupAlert[] = [];

  beforeAll(async () => {
    await admin((client) => client.query(`CREATE DATABASE ${name}`));
    await seed(url);
    dir = await mkdtemp(join(tmpdir(), 'ballast-backups-'));
    s3 = await startS3Server();
    proxy = await startCuttableProxy(s3.endpoint);
    offsite = new S3ObjectStorage({
      bucket: s3.bucket,
      endpoint: proxy.endpoint,
      credentials: s3TestCredentials,
      timeoutMs: 3_000,
    });
    runner = await createPostgresBackupRunner({
      databaseUrl: url,
      dir,
      keep: 2,
      offsite,
      sanityQuery: `SELECT count(*) = ${rows} FROM sales`,
      on: { alert: (alert) => alerts.push(alert) },
    });
  }, 60_000);

  afterAll(async () => {
    await runner?.close();
    offsite?.close();
    await proxy?.close();
    await s3?.close();
    for (const database of [name, ...scratchDatabases]) {
      await admin((client) => client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('backs up, and after the data is dropped the backup restores with the same rows', async () => {
    const before = await fingerprint(url);
    expect(before.count).toBe(rows);
    const run = await runner.run();
    expect(run).toMatchObject({ status: 'succeeded', offsite: 'copied' });
    // The checksum is the file's SHA-256, the same `sha256sum` prints.
    const file = await readFile(join(dir, run.path));
    expect(createHash('sha256').update(file).digest('hex')).toBe(run.checksum);
    expect(file.byteLength).toBe(run.bytes);

    await admin((client) => client.query('DROP TABLE sales'), url);
    const scratch = `${name}_restored`;
    scratchDatabases.push(scratch);
    await admin((client) => client.query(`CREATE DATABASE ${scratch}`));
    const download = await runner.open(run.id);
    expect(download.fileName).toMatch(/^backup-\d{4}-\d{2}-\d{2}\.dump$/);
    await restorePostgresBackup({ databaseUrl: databaseUrl(scratch), body: download.body });
    expect(await fingerprint(databaseUrl(scratch))).toEqual(before);

    // The run records are not in the dump at all: their rows would revive this run as running,
    // and their table, restored with --clean over the live database, would empty the history.
    const restoredRuns = await admin(
      (client) => client.query("SELECT to_regclass('ballast_backup_runs') AS runs"),
      databaseUrl(scratch),
    );
    expect(restoredRuns.rows[0].runs).toBeNull();
    await seed(url); // the data back for the next tests
    expect(await fingerprint(url)).toEqual(before);
  }, 60_000);

  it('periodic verification restores the newest backup into a scratch database and runs the sanity query', async () => {
    const before = new Set(await scratchDatabaseNames());
    const report = await runner.verify({ restore: true });
    expect(report.restore).toMatchObject({ ok: true, detail: 'sanity query returned true' });
    expect(report.ok).toBe(true);
    // Another file (the CLI's `backup verify --restore`) may be restoring at this moment, so a
    // scratch database that appeared meanwhile may be its, still in use: a leftover is one that
    // never goes away.
    await expect
      .poll(async () => (await scratchDatabaseNames()).filter((name) => !before.has(name)), {
        timeout: 30_000,
        interval: 250,
      })
      .toEqual([]);
  }, 60_000);

  it('reports one corrupted byte in the local file while the off-site copy still verifies', async () => {
    const [newest] = await runner.list({ status: 'succeeded', limit: 1 });
    const path = join(dir, newest!.path);
    const original = await readFile(path);
    const corrupted = Buffer.from(original);
    corrupted[Math.floor(corrupted.length / 2)]! ^= 0x01;
    await writeFile(path, corrupted);
    alerts.length = 0;
    const report = await runner.verify();
    expect(report.runs.find((r) => r.runId === newest!.id)).toEqual({
      runId: newest!.id,
      local: 'mismatch',
      offsite: 'ok',
    });
    expect(alerts.map((a) => a.kind)).toContain('local-checksum-mismatch');
    await writeFile(path, original);
  }, 60_000);

  it('records the local backup as good with offsite failed while S3 is down, and the next run copies it', async () => {
    proxy.up = false;
    alerts.length = 0;
    const during = await runner.run();
    expect(during).toMatchObject({ status: 'succeeded', offsite: 'failed' });
    expect(alerts.map((a) => a.kind)).toEqual(['offsite-copy-failed']);
    proxy.up = true;
    const after = await runner.run();
    expect(after.offsite).toBe('copied');
    expect(await runner.get(during.id)).toMatchObject({ offsite: 'copied' });
  }, 60_000);

  it('keeps exactly N backups, locally and off-site', async () => {
    await runner.run();
    const kept = await runner.list({ status: 'succeeded' });
    expect(kept).toHaveLength(2);
    const files = (await readdir(dir)).filter((file) => file.endsWith('.dump')).sort();
    expect(files).toEqual(kept.map((run) => run.path).sort());
    const remote = (await offsite.list({ prefix: 'backups/' })).objects.map((o) => o.key);
    expect(remote).toEqual(kept.map((run) => `backups/${run.path}`).sort());
    const presigned = await runner.presignOffsite(kept[0]!.id, { expiresInSeconds: 60 });
    expect(presigned.url).toContain(kept[0]!.path);
  }, 60_000);

  it('refuses a second run while one is going, across runners sharing the table', async () => {
    const other = await createPostgresBackupRunner({ databaseUrl: url, dir, keep: 2 });
    try {
      const results = await Promise.allSettled([runner.run(), other.run()]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toMatchObject({ code: 'BACKUP_IN_PROGRESS' });
    } finally {
      await other.close();
    }
  }, 60_000);

  it('takes over from a run whose process died once its heartbeat is staleAfterMs old, never from one still beating', async () => {
    const crashed = await createPostgresBackupRunner({
      databaseUrl: url,
      dir,
      keep: 2,
      staleAfterMs: 60_000,
    });
    const insertRunning = (id: string, silentForSeconds: number) =>
      admin(
        (client) =>
          client.query(
            `INSERT INTO ballast_backup_runs (id, reason, status, started_at, heartbeat_at, path, offsite)
             VALUES ($1, 'scheduled', 'running', now() - interval '3 hours',
                     now() - make_interval(secs => $2), $1 || '.dump', 'none')`,
            [id, silentForSeconds],
          ),
        url,
      );
    try {
      // Started three hours ago, beat ten seconds ago: a long dump, not a dead one.
      await insertRunning('alive', 10);
      await expect(crashed.run()).rejects.toMatchObject({ code: 'BACKUP_IN_PROGRESS' });
      expect(await crashed.get('alive')).toMatchObject({ status: 'running' });
      await admin(
        (client) => client.query("DELETE FROM ballast_backup_runs WHERE id = 'alive'"),
        url,
      );

      await insertRunning('dead', 120);
      // What a process killed mid-dump leaves in the directory: its dump, half written under
      // the temporary name. Nothing lists it, so unless the takeover deletes it, it stays for ever.
      await writeFile(join(dir, '.partial-dead.dump'), 'PGDMP half a dump');
      const run = await crashed.run();
      expect(await readdir(dir)).not.toContain('.partial-dead.dump');
      expect(run.status).toBe('succeeded');
      const dead = await crashed.get('dead');
      expect(dead).toMatchObject({ status: 'failed' });
      expect(dead?.error).toMatch(/interrupted/);
      // Its end is its last sign of life, not the moment it was found.
      expect(dead?.finishedAt?.getTime()).toBe(dead?.heartbeatAt?.getTime());
    } finally {
      await crashed.close();
    }
  }, 60_000);

  it('adds the heartbeat and location columns to a run records table created before they existed', async () => {
    const db = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
    });
    try {
      await sql`CREATE TABLE old_backup_runs (
        id text PRIMARY KEY, reason text NOT NULL, status text NOT NULL, started_at timestamptz NOT NULL,
        finished_at timestamptz, path text NOT NULL, bytes bigint, checksum text, offsite text NOT NULL,
        offsite_key text, error text, pruned_at timestamptz, verified_at timestamptz)`.execute(db);
      await sql`INSERT INTO old_backup_runs (id, reason, status, started_at, path, offsite)
        VALUES ('old', 'manual', 'running', now() - interval '10 minutes', 'old.dump', 'none')`.execute(
        db,
      );
      await migrateBackupRuns(db, { tableName: 'old_backup_runs' });
      await migrateBackupRuns(db, { tableName: 'old_backup_runs' });
      const store = new PostgresBackupRunStore({ db, tableName: 'old_backup_runs' });
      // A row from before the upgrade has no heartbeat: its start is its last sign of life.
      expect(await store.failStale(new Date(Date.now() - 15 * 60_000), 'interrupted')).toBe(0);
      expect(await store.failStale(new Date(Date.now() - 5 * 60_000), 'interrupted')).toBe(1);
      await store.start({
        id: 'new',
        reason: 'manual',
        startedAt: new Date(),
        path: 'new.dump',
        location: '/var/backups/new.dump',
        offsite: 'none',
      });
      expect((await store.get('new'))?.location).toBe('/var/backups/new.dump');
      // A row from before the upgrade has no location: its file is looked for by name.
      expect(await store.get('old')).not.toHaveProperty('location');
      const beat = new Date(Date.now() + 1_000);
      await store.update('new', { heartbeatAt: beat });
      expect((await store.get('new'))?.heartbeatAt?.getTime()).toBe(beat.getTime());
    } finally {
      await db.destroy();
    }
  }, 60_000);

  it('records a failed dump as failed and leaves no file behind', async () => {
    const broken = await createPostgresBackupRunner({
      databaseUrl: url,
      dir,
      keep: 2,
      dumpArgs: ['--table=no_such_table_anywhere'],
    });
    try {
      const before = await readdir(dir);
      await expect(broken.run()).rejects.toMatchObject({ code: 'BACKUP_FAILED' });
      const [failed] = await broken.list({ limit: 1 });
      expect(failed).toMatchObject({ status: 'failed' });
      expect(failed?.error).toMatch(/pg_dump exited with code 1/);
      expect(await readdir(dir)).toEqual(before);
    } finally {
      await broken.close();
    }
  }, 60_000);

  it('validates its options with INVALID_OPTIONS naming the field', async () => {
    await expect(
      createPostgresBackupRunner({ databaseUrl: 'mysql://x', dir } as never),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    await expect(
      createPostgresBackupRunner({ databaseUrl: url, dir, keep: 0 }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', message: expect.stringContaining('keep') });
    await expect(
      createPostgresBackupRunner({ databaseUrl: url, dir, retention: 3 } as never),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    // A dir that cannot be one (a file is in the way) is configuration, found at start-up,
    // not a failed run at 02:00 (which the CLI reported as exit 1, with a failed run recorded).
    const file = join(dir, 'not-a-directory');
    await writeFile(file, 'x');
    for (const notADirectory of [file, join(file, 'below')]) {
      await expect(
        createPostgresBackupRunner({ databaseUrl: url, dir: notADirectory, migrate: false }),
      ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'dir' } });
    }
    await rm(file);
    // Refused before anything connects: pg would read "notaurl" as a host name.
    await expect(
      restorePostgresBackup({ databaseUrl: 'notaurl', body: new Blob([]).stream() }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      message: expect.stringContaining('"databaseUrl" must be a postgres:// URL'),
    });
  });
});
