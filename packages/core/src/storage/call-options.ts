/**
 * The options bag of a storage call (`get(key, options)`, `list(options)`…), checked the same
 * way in every local store: a `null` bag or a signal that is no `AbortSignal` is the calling
 * code's mistake, answered `INVALID_OPTIONS` naming the method, never a raw `TypeError` from
 * reading a property of `null` (S3's options go through its schemas).
 */
import { assertOptionalOptions, invalidArgument } from '../options/invalid-argument.js';
import { isAbortSignalLike } from '../options/shape-checks.js';

/**
 * Throws `INVALID_OPTIONS` naming `where` unless `options` is `undefined` or an object whose
 * `signal` is absent or an `AbortSignal` and whose `prefix` and `cursor` are absent or strings.
 *
 * @example
 * ```ts
 * assertStorageCallOptions('get()', options); // at the top of an ObjectStorage's get()
 * ```
 */
export function assertStorageCallOptions(where: string, options: unknown): void {
  assertOptionalOptions(options, where);
  const { signal, prefix, cursor } = (options ?? {}) as Record<string, unknown>;
  if (signal !== undefined && !isAbortSignalLike(signal)) {
    throw invalidArgument(where, 'signal', 'an AbortSignal');
  }
  for (const [field, value] of [
    ['prefix', prefix],
    ['cursor', cursor],
  ] as const) {
    if (value !== undefined && typeof value !== 'string') {
      throw invalidArgument(where, field, 'a string');
    }
  }
}
