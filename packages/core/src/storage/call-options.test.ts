import { assertStorageCallOptions } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';

describe('assertStorageCallOptions', () => {
  it('accepts no bag, an empty one and a real signal, prefix and cursor', () => {
    for (const options of [
      undefined,
      {},
      { signal: new AbortController().signal, prefix: 'a/', cursor: 'a/b' },
    ]) {
      expect(() => assertStorageCallOptions('list()', options)).not.toThrow();
    }
  });

  it('refuses a null bag, a signal that is no AbortSignal and a non-string prefix, naming the method', () => {
    for (const options of [
      null,
      'x',
      { signal: 'x' },
      { signal: {} },
      { prefix: 5 },
      { cursor: [] },
    ]) {
      expect(() => assertStorageCallOptions('get()', options)).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          message: expect.stringContaining('get()'),
        }),
      );
    }
  });
});
