import { isBallastError } from '@ballast/core';
import { isPromiseLike, promiseFrom } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';

describe('promiseFrom', () => {
  it('wraps a value answered in the same tick in a promise', async () => {
    const promise = promiseFrom(() => 42);
    expect(promise).toBeInstanceOf(Promise);
    await expect(promise).resolves.toBe(42);
  });

  it('follows a promise or any thenable to its value', async () => {
    await expect(promiseFrom(async () => 'later')).resolves.toBe('later');
    const thenable: PromiseLike<string> = {
      // biome-ignore lint/suspicious/noThenProperty: a thenable is what this test hands over.
      then: (resolve) => Promise.resolve(resolve?.('from a thenable')) as never,
    };
    expect(isPromiseLike(thenable)).toBe(true);
    await expect(promiseFrom(() => thenable)).resolves.toBe('from a thenable');
  });

  it('turns a throw into a rejection, so callers never see a synchronous throw', async () => {
    const failure = new Error('store down');
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = promiseFrom(() => {
        throw failure;
      });
    }).not.toThrow();
    await expect(promise).rejects.toBe(failure);
  });

  it('rejects with INVALID_OPTIONS naming itself when run is not a function', async () => {
    const error = await promiseFrom(42 as never).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
    expect((error as Error).message).toBe(
      'Invalid options for promiseFrom(): "run": expected a function',
    );
  });
});
