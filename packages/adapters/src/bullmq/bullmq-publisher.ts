/**
 * The BullMQ publisher: how a relay hands outbox events to a BullMQ queue, on Redis or on
 * Postgres. The event id is the job id, so BullMQ itself makes a re-publish (a relay that died
 * between "added" and "marked sent") a no-op while the job is kept.
 */
import {
  BallastError,
  type EventEnvelope,
  type Logger,
  noopLogger,
  type Publisher,
} from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { abortSignalSchema, loggerSchema } from '@ballast/server/adapter-kit';
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';
import {
  type BullmqBackend,
  type BullmqConnection,
  type BullmqQueue,
  backendSchema,
  connectionSchema,
  openQueue,
  queueNameSchema,
} from './bullmq-engine.js';
import { defaultJobOptions } from './job-defaults.js';
import { jobOptionsSchema } from './job-options.js';

/** Job options a publisher may set; the job id is always the event id. */
export type BullmqJobOptions = Omit<JobsOptions, 'jobId' | 'repeat' | 'parent'>;

/** A {@link Publisher} onto a BullMQ queue. */
export interface BullmqPublisher extends Publisher {
  /** Closes the queue when the publisher opened it; later publishes reject. */
  close(): Promise<void>;
}

/** Options for {@link createBullmqPublisher}. */
export interface BullmqPublisherOptions {
  /**
   * The queue: a BullMQ `Queue` you opened (either backend; you close it), or a queue name that
   * the publisher opens on `connection` (and closes in `close()`).
   */
  queue: BullmqQueue | string;
  /** Required with a queue name: where the queue lives. */
  connection?: BullmqConnection;
  /** Backend of a queue opened by name. Default `'redis'`. */
  backend?: BullmqBackend;
  /**
   * Job options merged over the defaults (3 attempts, exponential backoff from 500 ms,
   * completed jobs kept 24 h, failed jobs kept for redrive). Checked at creation: an unknown
   * key or a wrong type is `INVALID_OPTIONS`, and so are `deduplication`/`debounce` (BullMQ would
   * drop a different event that shares the dedup id).
   */
  jobOptions?: BullmqJobOptions;
  /**
   * Longest wait for the engine to accept a batch. Past it `publish` rejects (the relay
   * releases the batch and backs off) instead of hanging on a reconnecting client. Default
   * 10,000 ms.
   */
  timeoutMs?: number;
  /** Gets connection errors of a queue the publisher opened (BullMQ reconnects by itself). */
  logger?: Logger;
}

const queueSchema = z.union([
  queueNameSchema,
  z.custom<BullmqQueue>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      typeof (value as BullmqQueue).addBulk === 'function' &&
      typeof (value as BullmqQueue).close === 'function',
    { message: 'expected a BullMQ Queue or a queue name' },
  ),
]);

const publishOptionsSchema = z.strictObject({ signal: abortSignalSchema.optional() });

const optionsSchema = z
  .strictObject({
    queue: queueSchema,
    connection: connectionSchema.optional(),
    backend: backendSchema,
    jobOptions: jobOptionsSchema.optional(),
    timeoutMs: z.number().int().min(1).max(2_147_483_647).default(10_000),
    logger: loggerSchema.default(noopLogger),
  })
  .refine((options) => typeof options.queue !== 'string' || options.connection !== undefined, {
    message: 'a queue given by name needs a connection',
    path: ['connection'],
  });

/**
 * Creates a {@link Publisher} that adds each event as a BullMQ job: job name = event type,
 * job id = event id, data = the whole envelope. A batch is one `addBulk` round trip.
 *
 * Idempotent by event id: adding an id that BullMQ still holds (waiting, active, completed
 * within `removeOnComplete`, or failed) returns the existing job and runs nothing twice. Events
 * of one key are added in array order; BullMQ starts jobs in that order, but a consumer with
 * `concurrency > 1` (or several consumers) may run two of them at once, so a handler that needs
 * strict per-key order runs with concurrency 1.
 *
 * A failure of the engine rejects with `UPSTREAM_ERROR` (502, retryable), which the relay
 * answers by releasing the batch, backing off and, after repeated failures, opening its breaker.
 *
 * @example
 * ```ts
 * const publisher = createBullmqPublisher({
 *   queue: 'events',
 *   connection: { host: '127.0.0.1', port: 6379 },
 * });
 * ```
 */
export function createBullmqPublisher(options: BullmqPublisherOptions): BullmqPublisher {
  const parsed = parseOptions(optionsSchema, options, 'createBullmqPublisher()');
  const ownsQueue = typeof parsed.queue === 'string';
  let queue: BullmqQueue;
  if (typeof parsed.queue === 'string') {
    const opened = openQueue(parsed.queue, parsed.connection!, parsed.backend);
    // Without a listener BullMQ prints every reconnection failure to stderr.
    opened.on('error', (error) => {
      parsed.logger.warn({ err: error, queue: opened.name }, 'BullMQ queue connection error');
    });
    queue = opened;
  } else {
    queue = parsed.queue;
  }
  const jobOptions: JobsOptions = {
    ...defaultJobOptions,
    ...(parsed.jobOptions as BullmqJobOptions),
  };
  let closed = false;

  return {
    async publish(events: readonly EventEnvelope[], publishOptions = {}) {
      if (closed) {
        throw new BallastError('UPSTREAM_ERROR', {
          message: 'createBullmqPublisher(): the publisher is closed',
          retryable: false,
        });
      }
      checkEvents(events);
      // A signal that is no AbortSignal threw a raw TypeError at throwIfAborted().
      parseOptions(publishOptionsSchema, publishOptions, 'publish()');
      publishOptions?.signal?.throwIfAborted();
      if (events.length === 0) return;
      const jobs = events.map((event) => ({
        name: event.type,
        data: event,
        opts: { ...jobOptions, jobId: event.id },
      }));
      await withTimeout(queue.addBulk(jobs), parsed.timeoutMs, queue.name, publishOptions?.signal);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (ownsQueue) await queue.close();
    },
  };
}

/**
 * Whether BullMQ takes `id` as a custom job id: it refuses a whole number (`'42'`) and a colon
 * outside its own three-part ids, with a plain `Error` that the relay would take for a passing
 * failure and retry until the row is a dead letter. Refused here, the row is parked at once.
 */
const isJobId = (id: string): boolean =>
  `${Number.parseInt(id, 10)}` !== id && (!id.includes(':') || id.split(':').length === 3);

// The event id becomes the job id: an envelope without one would get a random id from BullMQ,
// and a re-publish of it would run twice. The relay sends checked envelopes; a direct caller
// may not.
function checkEvents(events: unknown): asserts events is readonly EventEnvelope[] {
  const fail = (field: string, expected: string) =>
    new BallastError('INVALID_OPTIONS', {
      message: `Invalid options for publish(): "${field}": expected ${expected}`,
      details: { field },
    });
  if (!Array.isArray(events)) throw fail('events', 'an array of event envelopes');
  events.forEach((event: unknown, index) => {
    const { id, type } = (typeof event === 'object' && event !== null ? event : {}) as {
      id?: unknown;
      type?: unknown;
    };
    if (typeof id !== 'string' || id === '') throw fail(`events.${index}.id`, 'an event id');
    if (!isJobId(id)) {
      throw fail(
        `events.${index}.id`,
        'an id BullMQ takes as a job id (not a whole number, no colon)',
      );
    }
    if (typeof type !== 'string' || type === '') {
      throw fail(`events.${index}.type`, 'an event type');
    }
  });
}

// Bounds the wait for the engine by `timeoutMs` and by the caller's signal (the relay's own
// publish timeout), so a reconnecting client never holds a relay's batch past its lease.
async function withTimeout<T>(
  work: Promise<T>,
  timeoutMs: number,
  queueName: string,
  signal: AbortSignal | undefined,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`BullMQ did not accept the batch within ${timeoutMs} ms`)),
      timeoutMs,
    );
    onAbort = () => reject(signal?.reason ?? new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, stopped]);
  } catch (error) {
    // The add may still land after a timeout; a later re-publish of the same ids is a no-op.
    work.catch(() => {});
    throw new BallastError('UPSTREAM_ERROR', {
      message: `createBullmqPublisher(): queue "${queueName}" did not accept the events`,
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}
