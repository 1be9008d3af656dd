/**
 * Seed 004's job states for users, read from the engine: an app shows "sending… / failed:
 * reason" for an event without a table of its own. PENDING → RUNNING → COMPLETED or FAILED,
 * with the attempts made and each attempt's error.
 */
import { BallastError } from '@ballast/core';
import { type AttemptError, parseAttemptLog } from './attempt-log.js';

/** Seed 004's states. FAILED is the dead-letter state: a person may redrive it. */
export type JobState = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED';

/** What {@link readJobStatus} reports for one event. */
export interface JobStatus {
  readonly eventId: string;
  /** The event type, e.g. `'order.created.v1'`. */
  readonly type: string;
  readonly state: JobState;
  /** Failed attempts so far (a retry after a stall is not counted by BullMQ). */
  readonly attempts: number;
  /** Attempts the job is allowed before it becomes a dead letter. */
  readonly maxAttempts: number;
  /** Every failed attempt's error, oldest first. */
  readonly errors: readonly AttemptError[];
  /** When the engine accepted the job. */
  readonly queuedAt: Date;
  /** When the job last finished (COMPLETED or FAILED). */
  readonly finishedAt?: Date;
}

/** The job fields and methods Ballast reads. A BullMQ `Job` on either backend satisfies it. */
export interface BullmqJob {
  readonly id?: string | undefined;
  readonly name: string;
  readonly attemptsMade: number;
  readonly opts: { readonly attempts?: number | undefined };
  readonly timestamp: number;
  readonly finishedOn?: number | undefined;
  getState(): Promise<string>;
  retry(
    state?: 'failed' | 'completed',
    options?: { resetAttemptsMade?: boolean; resetAttemptsStarted?: boolean },
  ): Promise<void>;
}

/** The queue reads Ballast uses. A BullMQ `Queue` on either backend satisfies it. */
export interface BullmqJobReader {
  readonly name: string;
  getJob(jobId: string): Promise<BullmqJob | undefined>;
  getJobState(jobId: string): Promise<string>;
  getFailed(start?: number, end?: number): Promise<BullmqJob[]>;
  getJobLogs(
    jobId: string,
    start?: number,
    end?: number,
    asc?: boolean,
  ): Promise<{ logs: string[]; count: number }>;
}

const states: Record<string, JobState> = {
  waiting: 'PENDING',
  prioritized: 'PENDING',
  // A job waiting for its next attempt's backoff is still on its way.
  delayed: 'PENDING',
  'waiting-children': 'PENDING',
  active: 'RUNNING',
  completed: 'COMPLETED',
  failed: 'FAILED',
};

const maxLogLines = 1_000;

/**
 * Refuses what is not a queue before the first call on it, so a wrong argument is the caller's
 * INVALID_OPTIONS naming `fn`, not a TypeError dressed as the engine's UPSTREAM_ERROR.
 */
export function checkJobReader(
  queue: unknown,
  methods: readonly (keyof BullmqJobReader)[],
  fn: string,
): asserts queue is BullmqJobReader {
  const valid =
    typeof queue === 'object' &&
    queue !== null &&
    methods.every((method) => typeof (queue as Record<string, unknown>)[method] === 'function');
  if (!valid) {
    throw new BallastError('INVALID_OPTIONS', {
      message: `Invalid options for ${fn}: "queue": expected a BullMQ Queue`,
      details: { field: 'queue' },
    });
  }
}

/**
 * The status of the job of event `eventId` on `queue`, or `undefined` when the engine does not
 * know it: not relayed from the outbox yet, or removed after its retention.
 *
 * @example
 * ```ts
 * const status = await readJobStatus(queue, orderCreated.id);
 * if (status?.state === 'FAILED') show(`failed: ${status.errors.at(-1)?.message}`);
 * ```
 */
export async function readJobStatus(
  queue: BullmqJobReader,
  eventId: string,
): Promise<JobStatus | undefined> {
  checkJobReader(queue, ['getJobState', 'getJob', 'getJobLogs'], 'readJobStatus()');
  if (typeof eventId !== 'string' || eventId.length === 0 || eventId.length > 200) {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'Invalid options for readJobStatus(): "eventId": expected a non-empty string',
      details: { field: 'eventId' },
    });
  }
  try {
    // State first: the job read after it is at least as recent, so a FAILED or COMPLETED job
    // is reported with its final attempt count (the reverse order can pair an old count with
    // a new state).
    const state = states[await queue.getJobState(eventId)];
    if (state === undefined) return undefined;
    const job = await queue.getJob(eventId);
    // Removed between the two reads.
    if (job === undefined) return undefined;
    const { logs } = await queue.getJobLogs(eventId, 0, maxLogLines - 1, true);
    return {
      eventId,
      type: job.name,
      state,
      attempts: job.attemptsMade,
      maxAttempts: job.opts.attempts ?? 1,
      errors: parseAttemptLog(logs),
      queuedAt: new Date(job.timestamp),
      ...(job.finishedOn !== undefined && (state === 'COMPLETED' || state === 'FAILED')
        ? { finishedAt: new Date(job.finishedOn) }
        : {}),
    };
  } catch (error) {
    throw new BallastError('UPSTREAM_ERROR', {
      message: `readJobStatus(): queue "${queue.name}" did not answer`,
      cause: error,
    });
  }
}
