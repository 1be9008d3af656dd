/**
 * Telling a down engine from a poison row. When a batch fails, the relay cannot know from the
 * error alone whether the engine is down (every row would fail) or the engine refuses one row
 * (a payload it cannot serialise, one over its size limit, a webhook's 422). So it asks the
 * engine, cheaply, within the same claim:
 *
 * 1. It publishes the batch's first row alone, then one other row picked at random (the first
 *    of its key, so per-key order holds). Two rows failing with nothing delivered means the
 *    engine is down: the batch goes back untouched, uncharged, and counts once against the
 *    breaker (3 calls per failed batch while the engine is down). A random second probe keeps
 *    two poison rows at the head of the outbox from passing for an outage forever.
 * 2. Once one row got through, the engine is up: the rest is published in halves, and halves
 *    of failing halves (bisection), until each failure is down to one row, which is charged.
 *    A handful of poison rows among a batch of 100 costs about 2·log2(100) extra calls.
 * 3. A `BallastError` with `retryable: false` is the publisher saying "this row, never": the
 *    row is charged at once, whatever the engine's state.
 * 4. A row already charged once (proven guilty while the engine took others) is charged again
 *    when it fails alone, so a poison row left by itself in the outbox still reaches
 *    `maxAttempts` instead of passing for an outage. A row never charged is never blamed for a
 *    failure that nothing attributes to it: an outage does not dead-letter the outbox.
 *
 * After a row fails, later rows of its key are not published in this batch (per-key order); a
 * timeout or a stop ends the isolation, and whatever was not tried goes back uncharged.
 */
import { isBallastError } from '../errors/ballast-error.js';
import type { OutboxEntry } from './outbox-store.js';

/** How a batch's rows came out of {@link deliverIsolating}. */
export interface IsolationOutcome {
  /** Accepted by the engine. */
  readonly delivered: OutboxEntry[];
  /** Refused, and the row is to blame: charge an attempt (or park it). */
  readonly rejected: { readonly entry: OutboxEntry; readonly error: unknown }[];
  /** Not tried, or not to blame: give back uncharged. */
  readonly untried: OutboxEntry[];
  /** Set when the engine, not a row, is to blame: the batch counts against the breaker. */
  readonly engineError: unknown;
  /** True when `engineError` is set. */
  readonly engineFailed: boolean;
}

/** What {@link deliverIsolating} needs from the relay. */
export interface IsolationContext {
  /** One bounded publish call (the relay's timeout applies inside). */
  readonly publish: (entries: readonly OutboxEntry[]) => Promise<void>;
  /** True once the relay must stop trying (shutdown, or out of lease time). */
  readonly shouldStop: () => boolean;
  /** `[0, 1)`, for the second probe. */
  readonly random: () => number;
}

/** True for an error that says "this row, never": a Ballast error marked not retryable. */
export function isRowFatal(error: unknown): boolean {
  return isBallastError(error) && !error.retryable && error.code !== 'CIRCUIT_OPEN';
}

/** Errors that say the engine is slow or the relay is stopping, never a row's fault. */
function isEngineTrouble(error: unknown): boolean {
  return isBallastError(error, 'TIMEOUT') || isBallastError(error, 'CIRCUIT_OPEN');
}

/** Publishes `entries`, isolating the rows to blame when the whole batch fails. */
export async function deliverIsolating(
  entries: readonly OutboxEntry[],
  context: IsolationContext,
): Promise<IsolationOutcome> {
  const delivered: OutboxEntry[] = [];
  const rejected: { entry: OutboxEntry; error: unknown }[] = [];
  const untried: OutboxEntry[] = [];
  // Retryable single-row failures seen before any row got through: the row or the engine.
  const suspects: { entry: OutboxEntry; error: unknown }[] = [];
  const failedKeys = new Set<string>();
  let halted: { error: unknown } | undefined;
  let stopped = false;

  const blocked = (entry: OutboxEntry) =>
    entry.event.key !== undefined && failedKeys.has(entry.event.key);

  function blame(entry: OutboxEntry, error: unknown): void {
    if (entry.event.key !== undefined) failedKeys.add(entry.event.key);
    // A row the engine refused before while it took others stays suspect on its own.
    if (isRowFatal(error) || delivered.length > 0 || entry.attempts > 0) {
      rejected.push({ entry, error });
      return;
    }
    suspects.push({ entry, error });
    if (suspects.length >= 2) halted = { error };
  }

  /** Publishes `group` (rows of failed keys left out); on failure narrows it down. */
  async function attempt(group: readonly OutboxEntry[]): Promise<void> {
    const open = group.filter((entry) => {
      if (!blocked(entry)) return true;
      untried.push(entry);
      return false;
    });
    if (open.length === 0) return;
    if (halted !== undefined || stopped || context.shouldStop()) {
      stopped = true;
      untried.push(...open);
      return;
    }
    try {
      await context.publish(open);
      delivered.push(...open);
    } catch (error) {
      if (isEngineTrouble(error) || context.shouldStop()) {
        halted ??= { error };
        untried.push(...open);
        return;
      }
      await narrow(open, error);
    }
  }

  /** `group` failed as a whole with `error`. */
  async function narrow(group: readonly OutboxEntry[], error: unknown): Promise<void> {
    const [head, ...rest] = group;
    if (head === undefined) return;
    if (rest.length === 0) {
      blame(head, error);
      return;
    }
    if (delivered.length === 0) {
      await attempt([head]);
      let remaining = rest;
      if (delivered.length === 0) {
        const probe = pickProbe(remaining);
        if (probe !== undefined) {
          await attempt([probe]);
          remaining = remaining.filter((entry) => entry !== probe);
        }
      }
      await attempt(remaining);
      return;
    }
    const middle = Math.ceil(group.length / 2);
    await attempt(group.slice(0, middle));
    await attempt(group.slice(middle));
  }

  /** A random row that may go before the others: the first of its key, of no failed key. */
  function pickProbe(candidates: readonly OutboxEntry[]): OutboxEntry | undefined {
    const seen = new Set<string>();
    const eligible = candidates.filter((entry) => {
      const key = entry.event.key;
      if (key === undefined) return true;
      if (failedKeys.has(key) || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    return eligible[Math.floor(context.random() * eligible.length)];
  }

  await attempt(entries);
  if (delivered.length > 0) {
    // The engine took rows of this batch, so the earlier single-row failures were the rows'.
    rejected.unshift(...suspects);
    return { delivered, rejected, untried, engineError: undefined, engineFailed: false };
  }
  if (halted === undefined && suspects.length === 0) {
    return { delivered, rejected, untried, engineError: undefined, engineFailed: false };
  }
  const engineError = halted === undefined ? suspects.at(-1)?.error : halted.error;
  // Nothing got through and nothing proves a row guilty: the engine is to blame.
  untried.push(...suspects.map((suspect) => suspect.entry));
  return { delivered, rejected, untried, engineError, engineFailed: true };
}
