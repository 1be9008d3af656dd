/**
 * The two-step compensation recipe of seed 000 §1: "create the account, then the profile; if the
 * profile fails, delete the account". Built on {@link saga}, so the rules are the saga's: the
 * second step's own error propagates unchanged, a failed undo is logged and attached
 * (`sagaFailureOf`), and with `critical: true` a failed undo becomes `COMPENSATION_FAILED`.
 */
import { BallastError } from '../errors/ballast-error.js';
import type { Logger } from '../logging/logger.js';
import { saga } from './saga.js';

const functionKeys = ['run', 'undo', 'andThen'] as const;
// Built in a call marked pure: a spread at module level counts as a side effect to a bundler.
const knownKeys = /* @__PURE__ */ (() =>
  new Set<string>([...functionKeys, 'name', 'critical', 'logger', 'traceId']))();

function invalid(field: string, problem: string): BallastError {
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid options for compensate(): "${field}": ${problem}`,
    details: { field },
  });
}

/** Options for {@link compensate}. */
export interface CompensateOptions<First, Then> {
  /** Creates the first thing (the account). */
  readonly run: () => Promise<First> | First;
  /** Undoes `run` when `andThen` fails (deletes the account). */
  readonly undo: (created: First) => Promise<void> | void;
  /** The dependent step (creates the profile), given what `run` created. */
  readonly andThen: (created: First) => Promise<Then> | Then;
  /** Name in logs. Default `'compensate'`. */
  readonly name?: string;
  /** Whether a failed `undo` leaves a state someone must repair (→ `COMPENSATION_FAILED`). Default `false`. */
  readonly critical?: boolean;
  /** Receives the failure and the undo. Default: none. */
  readonly logger?: Logger;
  /** Carried into log lines. Default: a random UUID. */
  readonly traceId?: string;
}

/**
 * Runs `run`, then `andThen`; when `andThen` throws, runs `undo` on what `run` created and rethrows
 * `andThen`'s error. Resolves with both results.
 *
 * @example
 * ```ts
 * const { first: account, second: profile } = await compensate({
 *   name: 'sign-up',
 *   run: () => accounts.create(email),
 *   undo: (account) => accounts.delete(account.id),
 *   andThen: (account) => profiles.create(account.id, name),
 * });
 * ```
 */
export async function compensate<First, Then>(
  options: CompensateOptions<First, Then>,
): Promise<{ first: First; second: Then }> {
  if (typeof options !== 'object' || options === null)
    throw invalid('(options)', 'expected an object');
  for (const key of Object.keys(options)) {
    if (!knownKeys.has(key)) throw invalid(key, 'unknown option');
  }
  for (const key of functionKeys) {
    if (typeof options[key] !== 'function') throw invalid(key, 'expected a function');
  }
  // name, critical, logger and traceId are checked by saga() and its step.
  const { run, undo, andThen, name, critical, logger, traceId } = options;
  const steps = saga({
    name: name ?? 'compensate',
    ...(logger === undefined ? {} : { logger }),
    ...(traceId === undefined ? {} : { traceId }),
  })
    .step({
      name: 'first',
      run: () => run(),
      compensate: (_context, created: First) => undo(created),
      ...(critical === undefined ? {} : { critical }),
    })
    .step({ name: 'second', run: ({ results }) => andThen(results.first) });
  return steps.run();
}
