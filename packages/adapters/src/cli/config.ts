/**
 * Configuration of CLI commands from flags, then environment variables, so the same command
 * works in a shell (`--database-url …`) and in a container (`DATABASE_URL=…`). Every value has
 * one flag and at most one variable; `ballast <command> --help` lists both.
 */
import { BallastError, type ObjectStorage } from '@ballast/core';
import { InvalidArgumentError } from 'commander';
import { isPostgresUrl } from '../postgres/is-postgres-url.js';
import { importPeer } from './import-peer.js';

export interface StorageFlags {
  bucket?: string;
  s3Endpoint?: string;
  s3Region?: string;
  storageDir?: string;
}

export function configError(message: string, field: string): BallastError {
  return new BallastError('INVALID_OPTIONS', { message, details: { field } });
}

export function databaseUrlFrom(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const url = flag ?? env.DATABASE_URL;
  if (!url) {
    throw configError('no database: pass --database-url or set DATABASE_URL', 'databaseUrl');
  }
  // Commander fills the flag from DATABASE_URL too, so the message names both.
  return postgresUrlFrom(url, '--database-url (DATABASE_URL)');
}

/**
 * `url` if it is a `postgres://` URL, checked before any connection. The value is not repeated
 * in the message, since a URL may carry a password.
 */
export function postgresUrlFrom(url: string, source: string): string {
  if (!isPostgresUrl(url)) {
    throw configError(
      `${source} is not a database URL: expected postgres://user:password@host:5432/database (a % or @ in the user name or password percent-encoded)`,
      'databaseUrl',
    );
  }
  return url;
}

/**
 * Object storage from `--bucket` (S3; endpoint, region and credentials from flags or the AWS
 * environment) or `--storage-dir` (a local directory, `@ballast/adapters/fs`). `undefined`
 * when neither is given and `required` is false.
 */
export async function storageFrom(
  flags: StorageFlags,
  env: NodeJS.ProcessEnv,
  variable: string,
  required: boolean,
): Promise<ObjectStorage | undefined> {
  const bucket = flags.bucket ?? env[variable];
  const directory = flags.storageDir;
  if (bucket && directory) {
    throw configError('pass either --bucket or --storage-dir, not both', 'bucket');
  }
  // Loaded on demand: the AWS SDK is most of the CLI's start-up time, and most runs skip it.
  if (directory) {
    const { FileSystemObjectStorage } = await import('../fs/index.js');
    return new FileSystemObjectStorage({ directory });
  }
  if (!bucket) {
    if (!required) return undefined;
    throw configError(`no storage: pass --bucket (or set ${variable}) or --storage-dir`, 'bucket');
  }
  const endpoint = flags.s3Endpoint ?? env.S3_ENDPOINT ?? env.AWS_ENDPOINT_URL_S3;
  const region = flags.s3Region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const { S3ObjectStorage } = await importPeer(
    () => import('../s3/index.js'),
    '@aws-sdk/client-s3',
    '--bucket (S3 storage)',
    'bucket',
  );
  return new S3ObjectStorage({
    bucket,
    ...(endpoint && { endpoint }),
    ...(region && { region }),
    // Each request (the one PUT of a dump under 64 MiB, or each 16 MiB part of a larger one)
    // may take as long as a slow link needs; the default 60 s suits documents, not backups.
    uploadTimeoutMs: 6 * 3_600_000,
  });
}

/**
 * A commander parser for a positive integer flag, up to `max` when given (the option's own
 * limit), so a value out of range is a usage error (exit 2) like any other bad value.
 */
export function positiveInteger(name: string, max?: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (
      !/^\d+$/.test(value) ||
      !Number.isSafeInteger(number) ||
      number < 1 ||
      (max !== undefined && number > max)
    ) {
      const range = max === undefined ? '' : ` up to ${max}`;
      throw new InvalidArgumentError(`${name} must be a positive integer${range}.`);
    }
    return number;
  };
}
