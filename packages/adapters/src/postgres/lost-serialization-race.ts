/**
 * A transaction that lost a race to a concurrent one, as Postgres reports it under REPEATABLE
 * READ or SERIALIZABLE: `serialization_failure` (40001) or `deadlock_detected` (40P01). Nothing
 * is wrong with the request or the server; Postgres rolled the loser back and asks for the whole
 * transaction to be run again ("Serialization Failure Handling" in its manual). Left as the
 * driver's error it was answered 500, a failure the client could not act on.
 *
 * Where Ballast opens the transaction it runs it again, a bounded number of times, without
 * waiting (the winner has committed or rolled back by the time the loser is told); when every
 * attempt loses, or the transaction is the caller's, the answer is `TRANSACTION_CONFLICT`
 * (409, retryable, `Retry-After: 1`).
 */
import { BallastError } from '@ballast/core';

const lostRaceStates = new Set(['40001', '40P01']);

/** Attempts in all for a transaction Ballast owns, the first included. */
export const attemptsAfterLostRaces = 3;

/** True when `error` is Postgres' serialization failure or deadlock, which a rerun may win. */
export function isLostSerializationRace(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && lostRaceStates.has(code);
}

/** The typed answer for a race still lost: the client may repeat the request at once. */
export function transactionConflict(caller: string, cause: unknown): BallastError {
  return new BallastError('TRANSACTION_CONFLICT', {
    message: `${caller}: a concurrent transaction won (SQLSTATE ${String((cause as { code?: unknown }).code)}); repeat the request`,
    cause,
    details: { retryAfterSeconds: 1 },
  });
}

/**
 * Runs `transaction` (one whole transaction, begun and ended inside it) until it does not lose a
 * race, at most {@link attemptsAfterLostRaces} times; then throws `TRANSACTION_CONFLICT`. Any
 * other failure rejects as it is.
 */
export async function runAgainAfterLostRaces<T>(
  caller: string,
  transaction: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      if (!isLostSerializationRace(error)) throw error;
      if (attempt >= attemptsAfterLostRaces) throw transactionConflict(caller, error);
    }
  }
}
