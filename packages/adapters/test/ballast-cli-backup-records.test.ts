/**
 * What `ballast backup` records, read back by later commands that run elsewhere: a run records
 * where its file is as an absolute path, so `list`, `verify` and retention started from another
 * working directory (another cron job, a shell in $HOME) find the files of earlier runs under
 * the default relative `--dir ./backups`, instead of missing them and leaving them on disk.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ballastCli } from './support/ballast-cli.js';
import { databaseUrl, describeWith, postgresUrl, queryRows as sql } from './support/services.js';

const cli = ballastCli();

describeWith('postgres', 'ballast backup records', () => {
  const name = `ballast_records_${randomBytes(4).toString('hex')}`;
  const url = databaseUrl(name);
  // The default directory is relative: each command resolves it in its own working directory.
  const env = { DATABASE_URL: url, BALLAST_BACKUP_DIR: undefined };
  let work: string;

  beforeAll(async () => {
    await sql(postgresUrl, `CREATE DATABASE ${name}`);
    await sql(url, 'CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');
    await sql(url, "INSERT INTO notes SELECT g, 'nota ' || g FROM generate_series(1, 50) g");
    work = await mkdtemp(join(tmpdir(), 'ballast-records-'));
  }, 60_000);

  afterAll(async () => {
    await sql(postgresUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    if (work) await rm(work, { recursive: true, force: true });
  }, 60_000);

  const dumpsIn = async (directory: string) =>
    (await readdir(join(directory, 'backups')).catch(() => [] as string[])).filter((file) =>
      file.endsWith('.dump'),
    );

  it('finds, verifies and prunes the files of runs made from another working directory', async () => {
    const first = await mkdtemp(join(work, 'cron-'));
    const second = await mkdtemp(join(work, 'shell-'));
    for (let i = 0; i < 2; i++) {
      const run = await cli.run(['backup', 'run'], env, { cwd: first });
      expect(run.code, run.stderr).toBe(0);
    }
    expect(await dumpsIn(first)).toHaveLength(2);

    const listed = await cli.run(['backup', 'list', '--json'], env, { cwd: second });
    expect(JSON.parse(listed.stdout).runs).toHaveLength(2);

    const verify = await cli.run(['backup', 'verify'], env, { cwd: second });
    expect(verify.stderr).not.toContain('missing');
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain('verification passed');

    // Retention from the second directory deletes the first directory's files it prunes.
    const pruning = await cli.run(['backup', 'run', '--keep', '1'], env, { cwd: second });
    expect(pruning.code, pruning.stderr).toBe(0);
    expect(await dumpsIn(first)).toEqual([]);
    expect(await dumpsIn(second)).toHaveLength(1);

    const all = await cli.run(['backup', 'list', '--all', '--json'], env, { cwd: first });
    const { runs } = JSON.parse(all.stdout) as { runs: Array<{ path: string; location: string }> };
    expect(runs.map((run) => run.location)).toEqual([
      join(second, 'backups', runs[0]!.path),
      join(first, 'backups', runs[1]!.path),
      join(first, 'backups', runs[2]!.path),
    ]);
  }, 120_000);

  it('restore --clean over the live database keeps the run history and restores the data', async () => {
    const dir = await mkdtemp(join(work, 'restore-'));
    const run = await cli.run(['backup', 'run', '--json'], env, { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const { id } = JSON.parse(run.stdout).run as { id: string };
    const before = JSON.parse(
      (await cli.run(['backup', 'list', '--all', '--json'], env, { cwd: dir })).stdout,
    ).runs as Array<{ id: string }>;
    await sql(url, 'DELETE FROM notes WHERE id > 10');

    const restore = await cli.run(['backup', 'restore', id, '--into', url, '--clean'], env, {
      cwd: dir,
    });
    expect(restore.code, restore.stderr).toBe(0);
    const [count] = await sql<{ n: number }>(url, 'SELECT count(*)::int AS n FROM notes');
    expect(count?.n).toBe(50);
    const after = JSON.parse(
      (await cli.run(['backup', 'list', '--all', '--json'], env, { cwd: dir })).stdout,
    ).runs as Array<{ id: string }>;
    expect(after.map((recorded) => recorded.id)).toEqual(before.map((recorded) => recorded.id));
    // The next run goes ahead on the kept records and adds to them.
    expect((await cli.run(['backup', 'run'], env, { cwd: dir })).code).toBe(0);
  }, 120_000);

  it('list and verify on a database without run records say so and create nothing', async () => {
    const fresh = `${name}_fresh`;
    await sql(postgresUrl, `CREATE DATABASE ${fresh}`);
    try {
      const freshEnv = { ...env, DATABASE_URL: databaseUrl(fresh) };
      const list = await cli.run(['backup', 'list'], freshEnv, { cwd: work });
      expect(list.code, list.stderr).toBe(0);
      expect(list.stdout).toContain('no backups recorded');
      const listed = await cli.run(['backup', 'list', '--json'], freshEnv, { cwd: work });
      expect(JSON.parse(listed.stdout)).toEqual({ ok: true, runs: [] });

      const verify = await cli.run(['backup', 'verify', '--json'], freshEnv, { cwd: work });
      expect(verify.code, verify.stderr).toBe(1);
      expect(JSON.parse(verify.stdout)).toMatchObject({
        ok: false,
        alerts: [{ kind: 'no-backups' }],
      });

      // Read-only commands: no table, no schema change of any kind.
      const tables = await sql(
        databaseUrl(fresh),
        "SELECT table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')",
      );
      expect(tables).toEqual([]);
    } finally {
      await sql(postgresUrl, `DROP DATABASE IF EXISTS ${fresh} WITH (FORCE)`);
    }
  }, 60_000);
});
