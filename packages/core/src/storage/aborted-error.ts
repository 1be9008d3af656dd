import { BallastError } from '../errors/ballast-error.js';

/**
 * Throws `ABORTED` (with the signal's reason as cause) when `signal` has aborted, so every
 * Ballast operation reports cancellation with the same code whatever the reason's type.
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new BallastError('ABORTED', {
      message: 'The operation was aborted.',
      cause: signal.reason,
    });
  }
}
