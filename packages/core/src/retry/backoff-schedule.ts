/**
 * How long to wait before each retry. The presets are the seeds' schedules; jitter spreads a
 * fleet of clients that failed together so they do not retry together, and the random source
 * is injectable so a test can pin the schedule down to the millisecond.
 */

/**
 * The named schedules, from the seeds. Each delay precedes one retry, so a preset allows
 * `delays.length` retries (four attempts in all).
 *
 * - `mutation` — writes: saving changes, uploads (seed 000 §2: 500 ms, 1 s, 2 s; 3 retries).
 * - `read` — reads over an unstable network (seed 002 §2.3: 1 s, 2 s, 4 s).
 */
export const retryPresets = {
  mutation: [500, 1_000, 2_000],
  read: [1_000, 2_000, 4_000],
} as const satisfies Record<string, readonly number[]>;

/** A preset name: `'mutation'` or `'read'`. */
export type RetryPresetName = keyof typeof retryPresets;

/**
 * How a nominal delay `d` is randomised.
 * - `'equal'` (default): uniformly in `[d/2, d]` — at least half of every delay is kept, so a
 *   short blip still gets time to pass, and the other half spreads the fleet out.
 * - `'full'`: uniformly in `[0, d]` — the widest spread (AWS's "full jitter"); some retries
 *   come almost at once.
 * - `'none'`: exactly `d`.
 *
 * In every mode the nominal delay is an upper bound, so the worst-case total wait of a
 * schedule is the sum of its delays.
 */
export type JitterMode = 'equal' | 'full' | 'none';

/** A compiled schedule: nominal delays, then jitter, bounded by `maxDelay`. */
export interface BackoffSchedule {
  /** Nominal delay before retry number `index + 1`, already capped by `maxDelay`. */
  readonly nominal: (index: number) => number;
  readonly jitter: JitterMode;
  /** Returns a number in `[0, 1)`, like `Math.random`. */
  readonly random: () => number;
}

/** A list of delays; past its end the last delay repeats. */
export function listSchedule(
  delays: readonly number[],
  maxDelay: number,
): (index: number) => number {
  const capped = delays.map((delay) => Math.min(delay, maxDelay));
  const last = capped.at(-1) ?? 0;
  return (index) => capped[index] ?? last;
}

/** `initialDelay × factor^index`, capped by `maxDelay`. */
export function exponentialSchedule(
  initialDelay: number,
  factor: number,
  maxDelay: number,
): (index: number) => number {
  return (index) => Math.min(initialDelay * factor ** index, maxDelay);
}

/** The delay before retry number `index + 1`, in whole milliseconds. */
export function backoffDelay(schedule: BackoffSchedule, index: number): number {
  const nominal = schedule.nominal(index);
  const { jitter } = schedule;
  return Math.round(
    jitter === 'none'
      ? nominal
      : jitter === 'full'
        ? schedule.random() * nominal
        : nominal / 2 + (schedule.random() * nominal) / 2,
  );
}
