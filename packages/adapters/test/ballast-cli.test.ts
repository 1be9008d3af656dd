/**
 * The `ballast` command as a user runs it: a child process, configured by flags and
 * environment, read through its output and exit code. Output is a pipe here (not a TTY), so
 * this also proves the plain-lines mode: no progress animation, no carriage returns.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDocuments } from '../src/postgres/index.js';
import { ballastCli, repositoryRoot as root } from './support/ballast-cli.js';
import { databaseUrl, describeWith, postgresUrl, queryRows as sql } from './support/services.js';

const cli = ballastCli();
const ballast = cli.run;

describe('ballast CLI without services', () => {
  it('prints help for every command with --help and exits 0', async () => {
    const commands = [
      [],
      ['backup'],
      ['backup', 'run'],
      ['backup', 'list'],
      ['backup', 'verify'],
      ['backup', 'restore'],
      ['reconcile'],
    ];
    const results = await Promise.all(commands.map((command) => ballast([...command, '--help'])));
    for (const [i, result] of results.entries()) {
      expect(result.code, commands[i]!.join(' ')).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: ballast ${commands[i]!.join(' ')}`));
      expect(result.stdout).toContain('Exit codes:');
    }
  }, 60_000);

  it('exits 2 on a usage error and says what was wrong', async () => {
    const result = await ballast(['backup', 'run', '--keep', 'many']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--keep must be a positive integer');
    // Too many is as much a bad value as too few (it used to pass here and exit 3 later).
    const tooMany = await ballast(['backup', 'run', '--keep', '100000']);
    expect(tooMany.code, tooMany.stderr).toBe(2);
    expect(tooMany.stderr).toContain('--keep must be a positive integer up to 10000');
  }, 30_000);

  it('answers a usage error under --json with one JSON document on stdout, exit 2', async () => {
    // docs/cli.md: with --json, stdout holds exactly one JSON document, failures included.
    const result = await ballast(['backup', 'list', '--limit', 'abc', '--json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--limit must be a positive integer');
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      error: {
        code: 'USAGE',
        message: expect.stringContaining('--limit must be a positive integer'),
      },
    });
    const unknown = await ballast(['backup', 'lst', '--json']);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
  }, 30_000);

  it('never repeats a password from a mistyped flag or a misplaced value, on stderr or in the JSON', async () => {
    // Commander quotes the offending token in its message; a typo in `--database-url=…` would
    // otherwise print the whole URL, password included, into the cron job's log.
    for (const args of [
      ['backup', 'run', '--databse-url=postgres://app:hunter2@db/prod', '--json'],
      ['backup', 'list', '--limit', 'postgres://app:hunter2@db/prod', '--json'],
      [
        'backup',
        'restore',
        'x',
        '--into=postgresql://app:hunter2@db/copy?sslmode=require',
        '--bogus',
        '--json',
      ],
      [
        'backup',
        'run',
        '--reason',
        'x',
        '--keep=postgres://app@db/prod?password=hunter2',
        '--json',
      ],
    ]) {
      const result = await ballast(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).not.toContain('hunter2');
      expect(result.stdout, args.join(' ')).not.toContain('hunter2');
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    }
  }, 60_000);

  it('ends quietly when the reader of its output goes away, as in `ballast backup list | head`', async () => {
    const child = spawn(process.execPath, [cli.bundle(), 'backup', '--help'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    child.stdout.destroy(); // the reader is gone before the first line
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  }, 60_000);

  it('exits 3 without a database, naming the flag and the variable', async () => {
    const result = await ballast(['backup', 'list', '--json']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('DATABASE_URL');
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_OPTIONS' },
    });
  }, 30_000);

  it('exits 3 on a database URL that is not one, naming its source and not repeating it', async () => {
    for (const [args, env, source] of [
      [
        ['reconcile', '--database-url', 'notaurl', '--bucket', 'documents'],
        {},
        '--database-url (DATABASE_URL)',
      ],
      [
        ['backup', 'list'],
        { DATABASE_URL: 'host=db password=hunter2' },
        '--database-url (DATABASE_URL)',
      ],
      [
        // A password with a stray % (not percent-encoded): pg reads it, pg_dump's environment
        // cannot be built from it, so it must fail here, not when the nightly dump starts.
        ['backup', 'list'],
        { DATABASE_URL: 'postgres://app:hunter2%zz@127.0.0.1:1/x' },
        '--database-url (DATABASE_URL)',
      ],
      [
        ['backup', 'restore', 'latest', '--into', 'mysql://root:hunter2@db/app'],
        { DATABASE_URL: 'postgres://127.0.0.1:1/x' },
        '--into',
      ],
    ] as const) {
      const result = await ballast([...args], env);
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toContain(`${source} is not a database URL`);
      expect(result.stderr).not.toContain('ENOTFOUND');
      expect(result.stderr).not.toContain('hunter2');
    }
  }, 60_000);
});

describeWith('postgres', 'ballast CLI against Postgres', () => {
  const name = `ballast_cli_${randomBytes(4).toString('hex')}`;
  const scratch = `${name}_restored`;
  const url = databaseUrl(name);
  let work: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    await sql(postgresUrl, `CREATE DATABASE ${name}`);
    await sql(postgresUrl, `CREATE DATABASE ${scratch}`);
    await sql(url, 'CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)');
    await sql(
      url,
      "INSERT INTO customers SELECT g, 'cliente ' || g FROM generate_series(1, 500) g",
    );
    work = await mkdtemp(join(tmpdir(), 'ballast-cli-'));
    env = { DATABASE_URL: url, BALLAST_BACKUP_DIR: join(work, 'local') };
  }, 60_000);

  afterAll(async () => {
    for (const database of [name, scratch]) {
      await sql(postgresUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    }
    if (work) await rm(work, { recursive: true, force: true });
  }, 60_000);

  it('backup run → list → verify → restore, with plain lines and JSON', async () => {
    const offsite = ['--storage-dir', join(work, 'offsite')];
    const run = await ballast(['backup', 'run', ...offsite, '--json'], env);
    expect(run.code).toBe(0);
    const { run: recorded } = JSON.parse(run.stdout);
    expect(recorded).toMatchObject({ status: 'succeeded', offsite: 'copied' });

    const plain = await ballast(['backup', 'run', ...offsite, '--keep', '1'], env);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^backup \S+ succeeded: [\d.]+ KB, sha256 [0-9a-f]{64}\n/);
    expect(plain.stdout + plain.stderr).not.toContain('\r');

    const list = await ballast(['backup', 'list', '--json'], env);
    const { runs } = JSON.parse(list.stdout);
    expect(runs).toHaveLength(1); // --keep 1 pruned the first
    const all = await ballast(['backup', 'list', '--all'], env);
    expect(all.stdout.trim().split('\n')).toHaveLength(2);
    expect(all.stdout).toContain('pruned');

    const verify = await ballast(['backup', 'verify', '--restore', ...offsite], env);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toContain('verification passed');
    expect(verify.stdout).toMatch(/restore of \S+: ok/);

    const restore = await ballast(
      ['backup', 'restore', runs[0].id, '--into', databaseUrl(scratch)],
      env,
    );
    expect(restore.code).toBe(0);
    const [count] = await sql<{ n: number }>(
      databaseUrl(scratch),
      'SELECT count(*)::int AS n FROM customers',
    );
    expect(count?.n).toBe(500);

    // One flipped byte: verify fails with exit code 1 and names the damage.
    const file = join(work, 'local', runs[0].path);
    const bytes = await readFile(file);
    bytes[bytes.length >> 1]! ^= 0xff;
    await writeFile(file, bytes);
    const damaged = await ballast(['backup', 'verify', ...offsite], env);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toContain('corrupt (checksum mismatch)');

    // Restoring it is refused before pg_restore touches the target: a byte flipped in the
    // archive's table of contents would otherwise restore a silently different schema.
    const target = `${name}_damaged`;
    await sql(postgresUrl, `CREATE DATABASE ${target}`);
    try {
      const refused = await ballast(
        ['backup', 'restore', runs[0].id, '--into', databaseUrl(target), '--json'],
        env,
      );
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.stdout)).toMatchObject({
        ok: false,
        error: { code: 'BACKUP_FAILED', message: expect.stringContaining('checksum') },
      });
      const tables = await sql(
        databaseUrl(target),
        "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(tables).toEqual([]);
    } finally {
      await sql(postgresUrl, `DROP DATABASE IF EXISTS ${target} WITH (FORCE)`);
    }
  }, 120_000);

  it('refuses to restore into a database that already has tables unless --clean, leaving it untouched', async () => {
    const run = await ballast(['backup', 'run', '--json'], env);
    expect(run.code).toBe(0);
    const { id } = JSON.parse(run.stdout).run;
    const target = `${name}_occupied`;
    await sql(postgresUrl, `CREATE DATABASE ${target}`);
    try {
      // A table the dump also has: pg_restore creates the dump's objects in order, stops at the
      // first name that exists, and leaves the database half restored.
      await sql(databaseUrl(target), 'CREATE TABLE customers (id int)');
      const refused = await ballast(
        ['backup', 'restore', id, '--into', databaseUrl(target), '--json'],
        env,
      );
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.stdout)).toMatchObject({
        ok: false,
        error: { code: 'ALREADY_EXISTS', message: expect.stringContaining('--clean') },
      });
      const tables = await sql<{ table_name: string }>(
        databaseUrl(target),
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
      );
      expect(tables.map((row) => row.table_name)).toEqual(['customers']);

      const clean = await ballast(
        ['backup', 'restore', id, '--into', databaseUrl(target), '--clean'],
        env,
      );
      expect(clean.code, clean.stderr).toBe(0);
      const [count] = await sql<{ n: number }>(
        databaseUrl(target),
        'SELECT count(*)::int AS n FROM customers',
      );
      expect(count?.n).toBe(500);
    } finally {
      await sql(postgresUrl, `DROP DATABASE IF EXISTS ${target} WITH (FORCE)`);
    }
  }, 120_000);

  it('exits 3 at once when --dir is a file, never hanging on a pg_dump nobody reads', async () => {
    // Refused at start-up (the runner checks its directory). A file that appears after it is
    // the runner's case: it cancels the unread dump (core's backup-runner tests).
    const file = join(work, 'not-a-directory');
    await writeFile(file, 'a file');
    const result = await ballast(['backup', 'run', '--dir', file, '--json'], env);
    expect(result.code, result.stderr).toBe(3);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: false,
      error: { code: 'INVALID_OPTIONS', message: expect.stringContaining('not a directory') },
    });
  }, 30_000);

  it('SIGTERM mid-dump records the run failed, deletes its partial file and exits 1, so the next run need not wait', async () => {
    // Ctrl-C, `systemctl stop`, a deploy: the run must not stay `running` (every run for the
    // next staleAfterMs would exit 4) nor leave its partial dump behind.
    const dir = join(work, 'interrupted');
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      // pg_dump waits for this lock, so the run is reliably mid-dump when the signal comes.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE customers IN ACCESS EXCLUSIVE MODE');
      const child = spawn(process.execPath, [cli.bundle(), 'backup', 'run', '--dir', dir], {
        cwd: root,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      const partial = async () =>
        (await readdir(dir).catch(() => [] as string[])).filter((file) =>
          file.startsWith('.partial-'),
        );
      for (let i = 0; i < 200 && (await partial()).length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await partial()).toHaveLength(1);
      child.kill('SIGTERM');
      expect(await exited, stderr).toBe(1);
      expect(stderr).toContain('aborted');
      expect(await partial()).toEqual([]);
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
    }
    const list = await ballast(['backup', 'list', '--json', '--dir', dir], env);
    expect(JSON.parse(list.stdout).runs[0]).toMatchObject({ status: 'failed' });
    const next = await ballast(['backup', 'run', '--dir', dir], env);
    expect(next.code, next.stderr).toBe(0);
  }, 60_000);

  it('says so and exits 5 when retention cannot delete an old backup, instead of keeping it silently', async () => {
    const dir = join(work, 'retention');
    for (let i = 0; i < 2; i++) {
      expect((await ballast(['backup', 'run', '--dir', dir], env)).code).toBe(0);
    }
    // The oldest file cannot be deleted (here: something else now has its name).
    const [oldest] = (await readdir(dir)).sort();
    await rm(join(dir, oldest!));
    await mkdir(join(dir, oldest!, 'not-a-dump'), { recursive: true });
    const result = await ballast(['backup', 'run', '--dir', dir, '--keep', '1', '--json'], env);
    expect(result.code, result.stderr).toBe(5);
    expect(result.stderr).toContain('Retention could not delete backup');
    const document = JSON.parse(result.stdout);
    expect(document).toMatchObject({ ok: true, run: { status: 'succeeded' } });
    expect(document.alerts.map((alert: { kind: string }) => alert.kind)).toEqual([
      'retention-failed',
    ]);
  }, 60_000);

  it('exits 5 when the backup is good but the off-site copy failed', async () => {
    const result = await ballast(
      ['backup', 'run', '--bucket', 'unreachable', '--s3-endpoint', 'http://127.0.0.1:9'],
      { ...env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' },
    );
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('off-site copy failed');
  }, 60_000);

  it('reconcile --dry-run reports a row whose object is missing and changes nothing', async () => {
    const db = new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
    });
    try {
      await migrateDocuments(db);
    } finally {
      await db.destroy();
    }
    await sql(
      url,
      "INSERT INTO documents (id, storage_key, status, created_at) VALUES (gen_random_uuid(), 'docs/lost.pdf', 'active', now() - interval '2 hours')",
    );
    const storageDir = join(work, 'documents');
    const dry = await ballast(
      ['reconcile', '--dry-run', '--storage-dir', storageDir, '--json'],
      env,
    );
    expect(dry.code).toBe(0);
    const report = JSON.parse(dry.stdout);
    expect(report).toMatchObject({ dryRun: true, found: { missingObject: 1 } });
    const [row] = await sql<{ status: string }>(url, 'SELECT status FROM documents');
    expect(row?.status).toBe('active');

    const real = await ballast(['reconcile', '--storage-dir', storageDir], env);
    expect(real.code).toBe(0);
    expect(real.stdout).toContain('repaired missingObject=1');
    const [after] = await sql<{ status: string }>(url, 'SELECT status FROM documents');
    expect(after?.status).toBe('error');
    expect(await readdir(work)).toContain('local');
  }, 60_000);
});
