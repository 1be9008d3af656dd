/**
 * `pg_dump -Fc` as a `BackupSource`, and `pg_restore` for restore checks and restores. The dump
 * is read from the child's stdout with backpressure, so memory stays flat whatever the database
 * size, and the stream errors when `pg_dump` exits non-zero: a dump cut short can never be
 * recorded as good. The password travels in the child's environment (`PGPASSWORD`), never on
 * its command line, where `ps` would show it.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type BackupSource,
  BallastError,
  type Logger,
  noopLogger,
  type RestoreCheckResult,
} from '@ballast/core';
import { invalidArgument, parseOptions } from '@ballast/core/adapter-kit';
import { loggerSchema } from '@ballast/server/adapter-kit';
import { z } from 'zod';
import { isObject } from '../../options/is-object.js';
import { isPostgresUrl } from '../is-postgres-url.js';
import { databaseConnectionError } from './database-connection-error.js';
import { findPgBinaries, type PgBinaries } from './pg-binaries.js';

/** Options for {@link pgDumpSource}. */
export interface PgDumpSourceOptions {
  /** `postgres://user:password@host:port/database`. */
  readonly databaseUrl: string;
  /** Directory holding `pg_dump` and `pg_restore`. Default: found by the server's version. */
  readonly pgBinDir?: string;
  /** Extra `pg_dump` arguments, e.g. `['--exclude-table-data=audit_log']`. Default none. */
  readonly dumpArgs?: readonly string[];
  /**
   * SQL run in the scratch database after a restore check; its first column of the first row
   * must be true (or a non-zero number). Default: at least one user table exists.
   */
  readonly sanityQuery?: string;
  readonly logger?: Logger;
}

const pgDumpSourceOptionsSchema = z.strictObject({
  databaseUrl: z.string().min(1),
  pgBinDir: z.string().min(1).optional(),
  dumpArgs: z.array(z.string().regex(/^-/, 'must be pg_dump options')).optional(),
  sanityQuery: z.string().min(1).optional(),
  logger: loggerSchema.optional(),
});

/** Default sanity check: the restore produced at least one user table. */
export const defaultSanityQuery =
  "SELECT count(*) > 0 FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')";

/**
 * The URL without its password, and the password for `PGPASSWORD`. libpq also reads a
 * `?password=` parameter (and lets it win over the userinfo), so that one is moved too: left in
 * the URL it would sit on the child's command line, which `ps` shows to every user.
 */
export function connectionForChild(databaseUrl: string): {
  url: string;
  env: NodeJS.ProcessEnv;
} {
  const url = new URL(databaseUrl);
  const password = url.searchParams.get('password') ?? decodeURIComponent(url.password);
  url.password = '';
  // Filtered by hand: URLSearchParams would re-encode the rest (`%20` as `+`), which libpq
  // does not decode, so `?options=-c%20…` would break.
  const kept = url.search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '' && pair.split('=')[0] !== 'password');
  url.search = kept.length > 0 ? `?${kept.join('&')}` : '';
  return {
    url: url.toString(),
    env: { ...process.env, ...(password !== '' && { PGPASSWORD: password }) },
  };
}

/** `databaseUrl` pointed at another database on the same server. */
export function withDatabase(databaseUrl: string, database: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** The server's major version (`15` for 15.20). */
export async function serverMajorVersion(databaseUrl: string): Promise<number> {
  return withClient(databaseUrl, async (client) => {
    const { rows } = await client.query<{ v: string }>(
      "SELECT current_setting('server_version_num') AS v",
    );
    return Math.floor(Number(rows[0]?.v) / 10_000);
  });
}

type PgClient = {
  query<R>(text: string): Promise<{ rows: R[] }>;
  end(): Promise<void>;
};

/** Runs `fn` with a one-off `pg` client (imported on demand: `pg` is an optional peer). */
export async function withClient<T>(
  databaseUrl: string,
  fn: (client: PgClient) => Promise<T>,
): Promise<T> {
  const pg = await import('pg');
  const Client = (pg.default ?? pg).Client;
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 10_000 });
  await client.connect().catch((error: unknown) => {
    throw databaseConnectionError(error, 'backup');
  });
  try {
    return await fn(client as unknown as PgClient);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Keeps the last few KB of a child's stderr for the error message. */
function stderrTail(child: ChildProcess): () => string {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4096);
  });
  return () => tail.trim();
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; error?: Error }> {
  return new Promise((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    child.once('close', (code) => resolve({ code, ...(spawnError && { error: spawnError }) }));
  });
}

function failure(name: string, exit: { code: number | null; error?: Error }, tail: string): Error {
  if (exit.error) {
    return new BallastError('BACKUP_FAILED', {
      message: `${name} could not run: ${exit.error.message}`,
      cause: exit.error,
    });
  }
  return new BallastError('BACKUP_FAILED', {
    message: `${name} exited with code ${exit.code}${tail ? `: ${tail}` : ''}`,
  });
}

/**
 * `body`, with its own failure reported to `onError` before it errors the copy: piped into a
 * child, a source that fails looks like an early end of input, which a tool may accept.
 */
function reportingErrors(
  body: ReadableStream<Uint8Array>,
  onError: (error: unknown) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (error) {
          onError(error);
          controller.error(error);
          return;
        }
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/**
 * Runs a tool, optionally feeding `stdin`; rejects with `BACKUP_FAILED` and its stderr when it
 * exits non-zero, and when `stdin` fails: the tool is stopped then, since it would otherwise
 * take the cut for the end of the input and could finish as if the input were whole.
 */
async function runTool(
  binary: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; stdin?: ReadableStream<Uint8Array>; signal?: AbortSignal },
): Promise<void> {
  const name = binary.split('/').pop() ?? binary;
  const child = spawn(binary, args, {
    env: options.env,
    stdio: [options.stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'],
    ...(options.signal && { signal: options.signal }),
  });
  const tail = stderrTail(child);
  const exited = exitOf(child);
  let inputFailed: { error: unknown } | undefined;
  if (options.stdin && child.stdin) {
    const input = reportingErrors(options.stdin, (error) => {
      inputFailed = { error };
      child.kill('SIGTERM');
    });
    // If the tool dies early the pipe breaks; its exit code below says why.
    await pipeline(Readable.fromWeb(input as never), child.stdin).catch(() => {});
  }
  const exit = await exited;
  if (options.signal?.aborted) {
    throw new BallastError('ABORTED', {
      message: `${name} aborted.`,
      cause: options.signal.reason,
    });
  }
  if (inputFailed) {
    throw new BallastError('BACKUP_FAILED', {
      // The input's own words (a storage error, a checksum mismatch) say what to fix.
      message: `${name} stopped: its input failed: ${inputFailed.error instanceof Error ? inputFailed.error.message : 'not an Error'}`,
      cause: inputFailed.error,
    });
  }
  if (exit.code !== 0) throw failure(name, exit, tail());
}

/**
 * Restores a `pg_dump -Fc` stream into `databaseUrl` with `pg_restore --no-owner`. With
 * `clean`, existing objects are dropped first (`--clean --if-exists`). Rejects with
 * `BACKUP_FAILED` when `pg_restore` fails or `body` errors (its error is the `cause`), and with
 * `ABORTED` when `signal` aborts.
 */
export async function restorePostgresBackup(options: {
  readonly databaseUrl: string;
  readonly body: ReadableStream<Uint8Array>;
  readonly clean?: boolean;
  readonly pgBinDir?: string;
  readonly signal?: AbortSignal;
}): Promise<void> {
  if (!isObject(options) || typeof options.databaseUrl !== 'string') {
    throw invalidArgument('restorePostgresBackup()', 'databaseUrl', 'a database URL');
  }
  assertPostgresUrl(options.databaseUrl, 'restorePostgresBackup()');
  if (typeof (options.body as Partial<ReadableStream> | undefined)?.getReader !== 'function') {
    throw invalidArgument('restorePostgresBackup()', 'body', 'a ReadableStream');
  }
  let binaries: PgBinaries;
  try {
    binaries = await findPgBinaries(
      await serverMajorVersion(options.databaseUrl),
      options.pgBinDir,
    );
  } catch (error) {
    // Nothing will read the body now: cancelled, so a file or a download behind it is released.
    if (!options.body.locked) await options.body.cancel(error).catch(() => {});
    throw error;
  }
  const { url, env } = connectionForChild(options.databaseUrl);
  await runTool(
    binaries.pgRestore,
    [
      '--no-owner',
      '--no-privileges',
      '--exit-on-error',
      ...(options.clean ? ['--clean', '--if-exists'] : []),
      '--dbname',
      url,
    ],
    { env, stdin: options.body, ...(options.signal && { signal: options.signal }) },
  );
}

/**
 * A `BackupSource` that runs `pg_dump -Fc` against `databaseUrl`, and checks restores by
 * restoring into a scratch database (`ballast_restore_<random>`, created and dropped on the
 * same server) and running `sanityQuery` there.
 */
export function pgDumpSource(input: PgDumpSourceOptions): BackupSource {
  // Checked here, not at the first dump: a typo or a string of arguments (spread into one
  // argument per character) must fail at start-up, not when the nightly backup runs.
  const options = parseOptions(pgDumpSourceOptionsSchema, input, 'pgDumpSource()');
  assertPostgresUrl(options.databaseUrl, 'pgDumpSource()');
  const logger = options.logger ?? noopLogger;
  let binaries: Promise<PgBinaries> | undefined;
  const tools = () => {
    binaries ??= serverMajorVersion(options.databaseUrl).then((major) =>
      findPgBinaries(major, options.pgBinDir),
    );
    binaries.catch(() => {
      binaries = undefined;
    });
    return binaries;
  };

  return {
    extension: '.dump',
    async dump(signal) {
      const { pgDump } = await tools();
      const { url, env } = connectionForChild(options.databaseUrl);
      const child = spawn(
        pgDump,
        ['--format=custom', '--no-password', ...(options.dumpArgs ?? []), '--dbname', url],
        { env, stdio: ['ignore', 'pipe', 'pipe'], signal },
      );
      const tail = stderrTail(child);
      const exited = exitOf(child);
      const chunks = child.stdout![Symbol.asyncIterator]() as AsyncIterator<Uint8Array>;
      return new ReadableStream<Uint8Array>(
        {
          async pull(controller) {
            let next: IteratorResult<Uint8Array>;
            try {
              next = await chunks.next();
            } catch (error) {
              controller.error(error);
              return;
            }
            if (!next.done) {
              controller.enqueue(next.value);
              return;
            }
            const exit = await exited;
            if (exit.code === 0) controller.close();
            else controller.error(failure('pg_dump', exit, tail()));
          },
          cancel() {
            child.kill('SIGTERM');
          },
        },
        { highWaterMark: 0 },
      );
    },
    async checkRestore(body, { signal }): Promise<RestoreCheckResult> {
      const { pgRestore } = await tools();
      const scratch = `ballast_restore_${randomBytes(6).toString('hex')}`;
      await withClient(options.databaseUrl, (client) =>
        client.query(`CREATE DATABASE "${scratch}"`),
      );
      try {
        const scratchUrl = withDatabase(options.databaseUrl, scratch);
        const { url, env } = connectionForChild(scratchUrl);
        try {
          await runTool(
            pgRestore,
            ['--no-owner', '--no-privileges', '--exit-on-error', '--dbname', url],
            { env, stdin: body, signal },
          );
        } catch (error) {
          return { ok: false, detail: `pg_restore failed: ${(error as Error).message}` };
        }
        const query = options.sanityQuery ?? defaultSanityQuery;
        try {
          const value = await withClient(scratchUrl, async (client) => {
            const { rows } = await client.query<Record<string, unknown>>(query);
            return rows[0] === undefined ? undefined : Object.values(rows[0])[0];
          });
          const ok = value === true || (typeof value === 'number' && value !== 0) || value === 't';
          return { ok, detail: `sanity query returned ${JSON.stringify(value ?? null)}` };
        } catch (error) {
          return { ok: false, detail: `sanity query failed: ${(error as Error).message}` };
        }
      } finally {
        await withClient(options.databaseUrl, (client) =>
          client.query(`DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`),
        ).catch((error: unknown) => {
          logger.error(
            { err: error, database: scratch },
            'backup: could not drop scratch database',
          );
        });
      }
    },
  };
}

/** Thrown by {@link pgDumpSource} helpers when the URL is not a Postgres URL. */
export function assertPostgresUrl(databaseUrl: string, where: string): void {
  if (!isPostgresUrl(databaseUrl)) {
    throw new BallastError('INVALID_OPTIONS', {
      message: `Invalid options for ${where}: "databaseUrl" must be a postgres:// URL`,
      details: { field: 'databaseUrl' },
    });
  }
}
