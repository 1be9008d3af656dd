/**
 * Finding `pg_dump` and `pg_restore` that can handle the server. `pg_dump` refuses a server
 * newer than itself, and Debian/Ubuntu, RHEL and Homebrew install each major version in its own
 * directory with only one of them on `PATH`, so picking "the `pg_dump` on `PATH`" fails exactly
 * when a server was upgraded. This asks the server its major version and takes the first
 * candidate whose own major version is at least that.
 */
import { execFile } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BallastError } from '@ballast/core';
import { invalidArgument } from '@ballast/core/adapter-kit';

/** Paths of the two tools. */
export interface PgBinaries {
  readonly pgDump: string;
  readonly pgRestore: string;
  /** Major version of the tools found. */
  readonly major: number;
}

function versionOf(binary: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    execFile(binary, ['--version'], { timeout: 10_000 }, (error, stdout) => {
      if (error) return resolve(undefined);
      const match = /\b(\d+)(?:\.\d+)?/.exec(String(stdout));
      resolve(match ? Number(match[1]) : undefined);
    });
  });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function candidateDirectories(serverMajor: number, binDir?: string): Promise<string[]> {
  if (binDir !== undefined) return [binDir];
  const directories = [
    `/usr/lib/postgresql/${serverMajor}/bin`,
    `/usr/pgsql-${serverMajor}/bin`,
    `/opt/homebrew/opt/postgresql@${serverMajor}/bin`,
    `/usr/local/opt/postgresql@${serverMajor}/bin`,
  ];
  // Newer installed majors can dump an older server too.
  const installed = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  for (const version of installed
    .map(Number)
    .filter((v) => v > serverMajor)
    .sort((a, b) => a - b)) {
    directories.push(`/usr/lib/postgresql/${version}/bin`);
  }
  return directories;
}

/**
 * Finds `pg_dump` and `pg_restore` for a server of major version `serverMajor`: in `binDir`
 * when given, else in the usual per-version directories, else on `PATH`. Throws
 * `INVALID_OPTIONS` saying what was tried when none fits, and for a `serverMajor` that is not a
 * positive integer.
 */
export async function findPgBinaries(serverMajor: number, binDir?: string): Promise<PgBinaries> {
  // A string or NaN would build paths like `/usr/lib/postgresql/NaN/bin` and compare false
  // against every installed version, ending in a misleading "none found".
  if (!Number.isInteger(serverMajor) || serverMajor < 1) {
    throw invalidArgument('findPgBinaries()', 'serverMajor', 'a major version number such as 15');
  }
  if (binDir !== undefined && (typeof binDir !== 'string' || binDir === '')) {
    throw invalidArgument('findPgBinaries()', 'binDir', 'a directory path');
  }
  const tried: string[] = [];
  for (const directory of await candidateDirectories(serverMajor, binDir)) {
    const pgDump = join(directory, 'pg_dump');
    const pgRestore = join(directory, 'pg_restore');
    if (!(await exists(pgDump)) || !(await exists(pgRestore))) {
      tried.push(`${directory} (absent)`);
      continue;
    }
    const major = await versionOf(pgDump);
    if (major !== undefined && major >= serverMajor) return { pgDump, pgRestore, major };
    tried.push(`${pgDump} (version ${major ?? 'unknown'})`);
  }
  if (binDir === undefined) {
    const major = await versionOf('pg_dump');
    if (major !== undefined && major >= serverMajor) {
      return { pgDump: 'pg_dump', pgRestore: 'pg_restore', major };
    }
    tried.push(`pg_dump on PATH (${major === undefined ? 'absent' : `version ${major}`})`);
  }
  throw new BallastError('INVALID_OPTIONS', {
    message: `No pg_dump/pg_restore of version ${serverMajor} or newer found; install the PostgreSQL ${serverMajor} client tools or pass pgBinDir. Tried: ${tried.join('; ')}`,
    details: { field: 'pgBinDir', serverMajor },
  });
}
