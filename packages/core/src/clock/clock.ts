/**
 * Time as a dependency. Everything in Ballast that waits, expires or schedules asks a `Clock`,
 * so tests of backoff, leases and expiry run instantly and deterministically with
 * {@link ManualClock} instead of sleeping for real.
 */

/** Cancels a timer scheduled with {@link Clock.setTimer}. Calling it twice is harmless. */
export type CancelTimer = () => void;

/** The source of time and timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch, like `Date.now()`. */
  now(): number;
  /**
   * Resolves after `ms`. If `signal` aborts first, rejects at once with `signal.reason` and
   * releases the timer (so an aborted sleep never keeps a process alive).
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Runs `callback` after `ms`; returns a function that cancels it. */
  setTimer(callback: () => void, ms: number): CancelTimer;
}

/** Builds `sleep` from `setTimer`, so every clock aborts sleeps the same way. */
export function sleepWith(
  setTimer: Clock['setTimer'],
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
