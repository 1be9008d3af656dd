import { BallastError } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { exitCodeFor } from './command-kit.js';
import { exitCodes } from './exit-codes.js';

/** A node-postgres `DatabaseError` as the driver throws it. */
const pgError = (code: string, message: string) =>
  Object.assign(new Error(message), { code, severity: 'ERROR' });

describe('exitCodeFor', () => {
  it('a database that is not set up for the command is a configuration error (3), not a failed run (1)', () => {
    // `ballast reconcile` against a database without the documents tables, or a --schema that
    // does not exist: a cron must read "fix the configuration", not "repairs failed".
    expect(exitCodeFor(pgError('42P01', 'relation "documents" does not exist'))).toBe(
      exitCodes.config,
    );
    expect(exitCodeFor(pgError('3F000', 'schema "x" does not exist'))).toBe(exitCodes.config);
  });

  it('keeps unreachable services and bad credentials at 3, and a real failure at 1', () => {
    expect(exitCodeFor(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(
      exitCodes.config,
    );
    expect(exitCodeFor(pgError('28P01', 'password authentication failed'))).toBe(exitCodes.config);
    // The same failures as the backup functions type them.
    expect(exitCodeFor(new BallastError('SERVICE_UNAVAILABLE'))).toBe(exitCodes.config);
    expect(exitCodeFor(new BallastError('INVALID_OPTIONS'))).toBe(exitCodes.config);
    expect(exitCodeFor(pgError('23505', 'duplicate key'))).toBe(exitCodes.failed);
    expect(exitCodeFor(new BallastError('BACKUP_FAILED'))).toBe(exitCodes.failed);
    expect(exitCodeFor(null)).toBe(exitCodes.failed);
  });
});
