/**
 * One line per failed attempt in the BullMQ job's own log (`job.log`), so seed 004's "error log
 * per job" lives with the job, on either backend, and `status()` can show every attempt's error
 * rather than only the last `failedReason`. Lines are JSON; other lines (a handler's own
 * `job.log` calls) are left alone when reading.
 */
import { isBallastError } from '@ballast/core';

/** One failed attempt as `status()` reports it. */
export interface AttemptError {
  /** Attempt number, from 1 (it restarts at 1 after a redrive). */
  readonly attempt: number;
  /** When the attempt failed, ISO 8601. */
  readonly at: string;
  /** The error's message (handler errors are the operator's view: keep secrets out of them). */
  readonly message: string;
  /** The `BallastError` code, when the error is one. */
  readonly code?: string;
  /** Why the event went straight to the dead letters (`unknown-version`, `EVENT_INVALID`…). */
  readonly deadLetterReason?: string;
}

const maxMessageLength = 500;
const marker = 'ballast.attempt';

/**
 * What a handler threw, as at most {@link maxMessageLength} characters: a schema error over a
 * large payload can carry megabytes, a value with no string form (`Object.create(null)`)
 * makes `String()` throw, and a revoked proxy makes every read throw. Used for the log line and
 * for the dead letter's `failedReason`.
 */
export function errorMessage(error: unknown): string {
  let message: string;
  try {
    message = error instanceof Error ? error.message : String(error);
  } catch {
    try {
      message = Object.prototype.toString.call(error);
    } catch {
      message = '[unreadable value]';
    }
  }
  return message.length > maxMessageLength ? `${message.slice(0, maxMessageLength)}…` : message;
}

export function attemptLogLine(
  attempt: number,
  error: unknown,
  at: Date,
  deadLetterReason?: string,
): string {
  const line: AttemptError & { readonly kind: string } = {
    kind: marker,
    attempt,
    at: at.toISOString(),
    message: errorMessage(error),
    ...(isBallastError(error) ? { code: error.code } : {}),
    ...(deadLetterReason !== undefined ? { deadLetterReason } : {}),
  };
  return JSON.stringify(line);
}

export function parseAttemptLog(lines: readonly string[]): AttemptError[] {
  const attempts: AttemptError[] = [];
  for (const line of lines) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as Partial<AttemptError> & { kind?: unknown };
      if (parsed.kind !== marker || typeof parsed.attempt !== 'number') continue;
      attempts.push({
        attempt: parsed.attempt,
        at: String(parsed.at),
        message: String(parsed.message),
        ...(typeof parsed.code === 'string' ? { code: parsed.code } : {}),
        ...(typeof parsed.deadLetterReason === 'string'
          ? { deadLetterReason: parsed.deadLetterReason }
          : {}),
      });
    } catch {
      // Not one of ours.
    }
  }
  return attempts;
}
