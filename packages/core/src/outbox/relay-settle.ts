/**
 * Settling the rows a batch charged to themselves: each goes back with its own back-off, or,
 * past `maxAttempts` (or refused as non-retryable), is parked as a dead letter. Apart from
 * `relay.ts` so the loop there reads top to bottom.
 */
import { isBallastError } from '../errors/ballast-error.js';
import type { Logger } from '../logging/logger.js';
import type { OutboxEntry, OutboxStore } from './outbox-store.js';
import { isRowFatal } from './relay-isolation.js';
import type { RelayDeadLetterEvent, RelayRejectedEvent } from './relay-options.js';

/**
 * `String(value)`, or `[object Object]` for a value with no string form (`Object.create(null)`,
 * a `toString` that throws): describing a failure must never fail in its turn.
 */
export function stringOf(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      // A revoked proxy: even the tag cannot be read.
      return '[unreadable value]';
    }
  }
}

/** A safe one-line description of a failure, kept on the row for operators. */
export function describeFailure(error: unknown): string {
  try {
    if (isBallastError(error)) return `${error.code}: ${error.message}`.slice(0, 500);
    if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 500);
  } catch {
    // An error whose name or message getter throws: described by its string form below.
  }
  return stringOf(error).slice(0, 500);
}

/** What {@link settleRejected} needs from the relay. */
export interface SettleContext {
  readonly store: OutboxStore;
  readonly owner: string;
  readonly now: number;
  readonly maxAttempts: number;
  /** The back-off before retrying a row that has failed `attempts` times. */
  readonly backoff: (attempts: number) => number;
  readonly logger: Logger;
  readonly onRejected: (event: RelayRejectedEvent) => void;
  readonly onDeadLetter: (event: RelayDeadLetterEvent) => void;
}

/** Releases or parks each rejected row; returns how many were parked. */
export async function settleRejected(
  rejected: readonly { readonly entry: OutboxEntry; readonly error: unknown }[],
  context: SettleContext,
): Promise<number> {
  const { store, owner, now, maxAttempts, logger } = context;
  let parked = 0;
  for (const { entry, error } of rejected) {
    const { event } = entry;
    const attempts = entry.attempts + 1;
    const description = describeFailure(error);
    const fatal = isRowFatal(error);
    if ((fatal || attempts >= maxAttempts) && store.park !== undefined) {
      const changed = await store.park({ owner, ids: [event.id], now, error: description });
      if (changed === 0) continue;
      parked += 1;
      const reason = fatal ? 'non-retryable' : 'max-attempts';
      logger.error(
        { err: error, eventId: event.id, type: event.type, key: event.key, attempts, reason },
        event.key === undefined
          ? 'relay: event parked as a dead letter'
          : 'relay: event parked as a dead letter; its key is blocked until it is redriven',
      );
      context.onDeadLetter({ event, attempts, error, reason, blockedKey: event.key });
      continue;
    }
    const retryInMs = context.backoff(attempts);
    await store.release({
      owner,
      ids: [event.id],
      now,
      retryAt: now + retryInMs,
      error: description,
    });
    logger.warn(
      { err: error, eventId: event.id, type: event.type, attempts, maxAttempts, retryInMs },
      'relay: the engine refused one event; it will be retried',
    );
    context.onRejected({ event, attempts, error, retryInMs });
  }
  return parked;
}
