import { describe, expect, it } from 'vitest';
import { isBallastError } from '../errors/ballast-error.js';
import { compensate } from './compensate.js';
import { sagaFailureOf } from './saga-failure.js';

describe('compensate (seed 000 §1: account, then profile)', () => {
  it('returns both results when both steps succeed', async () => {
    const outcome = await compensate({
      run: () => ({ id: 'acc-1' }),
      undo: () => {
        throw new Error('must not run');
      },
      andThen: (account) => ({ accountId: account.id, name: 'Ana' }),
    });
    expect(outcome).toEqual({
      first: { id: 'acc-1' },
      second: { accountId: 'acc-1', name: 'Ana' },
    });
  });

  it('deletes the account when the profile fails, and rethrows the profile error unchanged', async () => {
    const accounts = new Set<string>();
    const profileError = new Error('profiles table down');
    const error = await compensate({
      name: 'sign-up',
      run: async () => {
        accounts.add('acc-2');
        return 'acc-2';
      },
      undo: async (id) => void accounts.delete(id),
      andThen: async () => {
        throw profileError;
      },
    }).catch((e: unknown) => e);
    expect(error).toBe(profileError);
    expect(accounts.size).toBe(0);
    expect(sagaFailureOf(error)).toMatchObject({ saga: 'sign-up', compensated: ['first'] });
  });

  it('turns a failed undo into COMPENSATION_FAILED when marked critical', async () => {
    const error = await compensate({
      critical: true,
      run: () => 'acc-3',
      undo: () => {
        throw new Error('delete failed');
      },
      andThen: () => {
        throw new Error('profile failed');
      },
    }).catch((e: unknown) => e);
    expect(isBallastError(error, 'COMPENSATION_FAILED')).toBe(true);
  });

  it('rejects a missing step or an unknown option with INVALID_OPTIONS', async () => {
    await expect(compensate({ run: () => 1, undo: () => {} } as never)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      details: { field: 'andThen' },
    });
    await expect(
      compensate({ run: () => 1, undo: () => {}, andThen: () => 2, retry: 3 } as never),
    ).rejects.toMatchObject({ details: { field: 'retry' } });
  });
});
