/**
 * Seed 004's job policy, as BullMQ settings. The seed asks for 3 retries with backoff, a job
 * stuck for 5 minutes reset and retried, and failed jobs kept with their errors. BullMQ has
 * those knobs under other names:
 *
 * | seed 004                         | BullMQ                                                       |
 * | -------------------------------- | ------------------------------------------------------------ |
 * | 3 attempts                       | job `attempts: 3`                                            |
 * | backoff 500 / 1000 / 2000 ms     | job `backoff: { type: 'exponential', delay: 500 }`           |
 * | stuck 5 min → reset and retried  | worker `lockDuration` 30 s, renewed while the process lives; |
 * |                                  | `stalledInterval` 5 min finds jobs whose lock lapsed (their  |
 * |                                  | process died) and moves them back to waiting                 |
 * | give up after repeated stalls    | worker `maxStalledCount: 2`, then the job fails              |
 * | error log per job                | job logs (one line per failed attempt) + `stacktrace`        |
 * | dead-letter queue (future work)  | the `failed` state, kept (`removeOnFail: false`), redrivable |
 */
import type { JobsOptions } from 'bullmq';

/** Job options the publisher applies unless the caller overrides them. */
export const defaultJobOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 500 },
  // Completed jobs stay a day, so a late re-publish of the same id is still a no-op in the
  // engine; past that the consumer's inbox is what keeps the effect single.
  removeOnComplete: { age: 24 * 60 * 60 },
  // Failed jobs are the dead letters: kept until a person redrives or removes them.
  removeOnFail: false,
} as const satisfies JobsOptions;

/** Worker settings for seed 004's "stalled for 5 minutes → retried". */
export const defaultStallSettings = {
  lockDurationMs: 30_000,
  stalledIntervalMs: 5 * 60_000,
  maxStalledCount: 2,
} as const;

/**
 * Longest one attempt's handler runs before it is given up (`handlerTimeoutMs`): seed 004's
 * "a job stuck for 5 minutes is reset", for the hung handler whose renewed lock stalled-job
 * recovery never sees lapse.
 */
export const defaultHandlerTimeoutMs = 300_000;
