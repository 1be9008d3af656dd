/**
 * Redrive: after a fix, send dead letters (BullMQ's `failed` jobs) back to `waiting` with a
 * fresh set of attempts. Their history stays in the job log. The consumer's inbox still guards
 * the effect, so a job that did take effect before failing (its mark committed) is skipped.
 */
import { BallastError } from '@ballast/core';
import { type BullmqJob, type BullmqJobReader, checkJobReader } from './job-status.js';

/** Which dead letters {@link redriveDeadLetters} re-queues. */
export interface RedriveOptions {
  /**
   * Only this event: a full type (`'order.created.v1'`) or a name for every version
   * (`'order.created'`). Default: every type.
   */
  type?: string;
  /** Only jobs that failed at or after this instant. Default: any time. */
  since?: Date;
  /** Most jobs to re-queue in one call. Default 1,000. */
  limit?: number;
}

const pageSize = 200;

/**
 * Whether `jobType` is `type`, or a version of the event named `type`: `order.created` takes
 * `order.created.v3` but not `order.created.vip.v1`, another event whose name only starts alike.
 */
const isTypeOrVersionOf = (jobType: string, type: string): boolean =>
  jobType === type ||
  (jobType.startsWith(type) && /^\.v[1-9][0-9]*$/.test(jobType.slice(type.length)));

function matches(job: BullmqJob, options: RedriveOptions): boolean {
  if (options.type !== undefined && !isTypeOrVersionOf(job.name, options.type)) return false;
  if (options.since !== undefined && (job.finishedOn ?? 0) < options.since.getTime()) return false;
  return true;
}

function check(options: RedriveOptions): Required<Pick<RedriveOptions, 'limit'>> {
  const fail = (field: string, expected: string) =>
    new BallastError('INVALID_OPTIONS', {
      message: `Invalid options for redrive(): "${field}": expected ${expected}`,
      details: { field },
    });
  if (typeof options !== 'object' || options === null) throw fail('options', 'an object');
  for (const key of Object.keys(options)) {
    if (!['type', 'since', 'limit'].includes(key)) throw fail(key, 'no such option');
  }
  if (
    options.type !== undefined &&
    (typeof options.type !== 'string' || options.type === '' || options.type.length > 200)
  ) {
    throw fail('type', 'an event type or name');
  }
  if (
    options.since !== undefined &&
    (!(options.since instanceof Date) || Number.isNaN(options.since.getTime()))
  ) {
    throw fail('since', 'a valid Date');
  }
  const limit = options.limit ?? 1_000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) {
    throw fail('limit', 'an integer from 1 to 100000');
  }
  return { limit };
}

/**
 * Moves matching failed jobs back to waiting, with their attempt counters reset, and returns
 * how many it moved. A job that left the failed state meanwhile (another redrive, a removal)
 * is skipped.
 *
 * @example
 * ```ts
 * // After deploying the fix for the email template:
 * const count = await redriveDeadLetters(queue, { type: 'order.created', since: deployedAt });
 * ```
 */
export async function redriveDeadLetters(
  queue: BullmqJobReader,
  options: RedriveOptions = {},
): Promise<number> {
  checkJobReader(queue, ['getFailed'], 'redrive()');
  const { limit } = check(options);
  // Collect first: retrying while paging would shift the failed list under the pages.
  const chosen: BullmqJob[] = [];
  try {
    for (let start = 0; chosen.length < limit; start += pageSize) {
      const page = await queue.getFailed(start, start + pageSize - 1);
      for (const job of page) {
        if (matches(job, options) && chosen.length < limit) chosen.push(job);
      }
      if (page.length < pageSize) break;
    }
  } catch (error) {
    throw new BallastError('UPSTREAM_ERROR', {
      message: `redrive(): queue "${queue.name}" did not answer`,
      cause: error,
    });
  }
  let moved = 0;
  for (const job of chosen) {
    try {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      moved += 1;
    } catch (error) {
      // Not failed any more (redriven by someone else, removed): nothing to do for it.
      if ((await job.getState().catch(() => 'failed')) === 'failed') {
        throw new BallastError('UPSTREAM_ERROR', {
          message: `redrive(): queue "${queue.name}" did not re-queue job ${job.id}`,
          cause: error,
        });
      }
    }
  }
  return moved;
}
