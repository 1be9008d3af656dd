/**
 * The sweep every public entry runs over its own exports (test-only; not exported by
 * `@ballast/core/testing`). It enumerates the entry's runtime exports, so a new function or
 * class is covered without anyone adding it to a list, and calls each with arguments a caller
 * gets wrong: none, `null`, a number, a string and an unknown option. The rule it checks
 * (CONTRIBUTING.md): a public function refuses a bad argument with a `BallastError`, never a
 * `TypeError` from deep inside.
 */

import { isBallastError } from '@ballast/core';
import { describe, expect, it } from 'vitest';

/** The wrong argument lists every export is called with. */
export const hostileArgumentLists: ReadonlyArray<readonly unknown[]> = [
  [],
  [null],
  [42],
  ['x'],
  [{ unknownOption: 1 }],
];

/** Exports the sweep skips, each with the reason a reader can check. */
export type SweepExceptions = Readonly<Record<string, string>>;

/**
 * Exports known to break the rule and left unfixed on purpose, each with the reason. The sweep
 * checks they still fail, so a fix must also take its entry off the list.
 */
export type KnownFailures = Readonly<Record<string, string>>;

/** A returned promise that settles later than this counts as a hang. */
const settleWithinMs = 2_000;

/**
 * Registers one test per runtime function or class of `entry` (`import * as entry`), plus a
 * test that every name in `exceptions` is still exported, so a stale exception fails.
 *
 * @param entryName the public entry, for the test titles (`'@ballast/server'`).
 */
export function sweepPublicArguments(
  entryName: string,
  entry: Readonly<Record<string, unknown>>,
  exceptions: SweepExceptions = {},
  knownFailures: KnownFailures = {},
): void {
  const callables = Object.entries(entry).filter(
    (pair): pair is [string, (...args: unknown[]) => unknown] => typeof pair[1] === 'function',
  );
  describe(`${entryName}: every export refuses wrong arguments with a BallastError`, () => {
    it('names only existing exports among its exceptions and known failures', () => {
      const named = [...Object.keys(exceptions), ...Object.keys(knownFailures)];
      expect(named.filter((name) => !(name in entry))).toEqual([]);
    });

    it('has exports to sweep', () => {
      expect(callables.length).toBeGreaterThan(0);
    });

    for (const [name, callable] of callables) {
      if (name in exceptions) continue;
      const known = name in knownFailures;
      it(known ? `${name} (known failure: ${knownFailures[name]})` : name, async () => {
        const wrong: string[] = [];
        for (const args of hostileArgumentLists) {
          const failure = await failureOf(callable, args);
          if (failure !== undefined) wrong.push(`${describeArgs(args)}: ${failure}`);
        }
        if (known)
          expect(wrong, `${name} passes now: take it off the known failures`).not.toEqual([]);
        else expect(wrong, `${name} with wrong arguments`).toEqual([]);
      });
    }
  });
}

/**
 * Calls `callable` (with `new` for a class) and answers `undefined` when it returned, or threw
 * or rejected with a `BallastError`; otherwise a description of what went wrong.
 */
async function failureOf(
  callable: (...args: unknown[]) => unknown,
  args: readonly unknown[],
): Promise<string | undefined> {
  try {
    const result = isClass(callable)
      ? Reflect.construct(callable, args)
      : Reflect.apply(callable, undefined, args);
    if (isThenable(result)) await settleInTime(result);
    return undefined;
  } catch (error) {
    if (isBallastError(error)) return undefined;
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    return `threw ${String(error)}`;
  }
}

function isClass(callable: (...args: unknown[]) => unknown): boolean {
  return /^class\b/.test(Function.prototype.toString.call(callable));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

async function settleInTime(promise: PromiseLike<unknown>): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`did not settle within ${settleWithinMs} ms`)),
      settleWithinMs,
    );
  });
  try {
    return await Promise.race([promise, hang]);
  } finally {
    clearTimeout(timer);
  }
}

function describeArgs(args: readonly unknown[]): string {
  return `(${args.map((arg) => JSON.stringify(arg)).join(', ')})`;
}
