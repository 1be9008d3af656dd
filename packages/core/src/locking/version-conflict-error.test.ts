import { describe, expect, it } from 'vitest';
import { isBallastError } from '../errors/ballast-error.js';
import { toProblem } from '../errors/problem.js';
import { isVersionConflict, VersionConflictError } from './version-conflict-error.js';

describe('VersionConflictError', () => {
  it('is a 409 VERSION_CONFLICT carrying the current version and, when given, the record', () => {
    const error = new VersionConflictError({
      currentVersion: 8,
      expectedVersion: 7,
      current: { id: 1, title: 'theirs', version: 8 },
    });
    expect(isBallastError(error, 'VERSION_CONFLICT')).toBe(true);
    expect(isVersionConflict(error)).toBe(true);
    expect(error.status).toBe(409);
    expect(error.currentVersion).toBe(8);
    expect(error.expectedVersion).toBe(7);
    expect(error.message).toBe('The record is at version 8, not 7.');
    expect(toProblem(error)).toMatchObject({
      status: 409,
      code: 'VERSION_CONFLICT',
      action: 'reload-and-merge',
      currentVersion: 8,
      current: { id: 1, title: 'theirs', version: 8 },
    });
  });

  it('leaves `current` out of the problem when the caller did not supply it', () => {
    const problem = toProblem(new VersionConflictError({ currentVersion: 3 }));
    expect(problem.currentVersion).toBe(3);
    expect('current' in problem).toBe(false);
  });

  it('recognises a conflict from another copy of the package by shape', () => {
    expect(isVersionConflict({ code: 'VERSION_CONFLICT', currentVersion: 2 })).toBe(true);
    expect(isVersionConflict({ code: 'VERSION_CONFLICT' })).toBe(false);
    expect(isVersionConflict(new Error('x'))).toBe(false);
  });
});
