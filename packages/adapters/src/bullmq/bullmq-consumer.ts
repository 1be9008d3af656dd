/**
 * A consumer of Ballast events over a BullMQ `Worker`, on Redis or Postgres. BullMQ runs the
 * jobs (concurrency, retries with backoff, stalled-job recovery, scaling across machines);
 * Ballast's event processor decides what one delivery means: decode and upcast, run the handler
 * under the event's trace id through the inbox, and classify a failure as retry or dead letter.
 * This file only translates: a retry rethrows (BullMQ backs off and tries again), a dead letter
 * throws BullMQ's `UnrecoverableError` (failed now, attempts not burned).
 */
import {
  BallastError,
  createEventProcessor,
  type EventCatalog,
  type EventProcessor,
  type EventSubscription,
  type InboxStore,
  type Logger,
  noopLogger,
} from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { loggerSchema } from '@ballast/server/adapter-kit';
import { type Job, UnrecoverableError } from 'bullmq';
import { z } from 'zod';
import { attemptLogLine, errorMessage } from './attempt-log.js';
import {
  type AnyQueue,
  type BullmqBackend,
  type BullmqConnection,
  backendSchema,
  connectionSchema,
  openQueue,
  openWorker,
  queueNameSchema,
} from './bullmq-engine.js';
import { defaultHandlerTimeoutMs, defaultStallSettings } from './job-defaults.js';
import { type BullmqJobReader, type JobStatus, readJobStatus } from './job-status.js';
import { type RedriveOptions, redriveDeadLetters } from './redrive.js';

/** Options for {@link createConsumer}. */
export interface ConsumerOptions<Transaction = undefined> {
  /** The queue's name (the publisher's). */
  queue: string;
  /** Where the queue lives (see {@link BullmqConnection}). */
  connection: BullmqConnection;
  /** Default `'redis'`. */
  backend?: BullmqBackend;
  /**
   * Names this consumer in the inbox: each consumer of an event runs once. Keep it stable
   * across deploys. Default: the queue name.
   */
  consumer?: string;
  /** Decodes and upcasts every delivery. */
  catalog: EventCatalog;
  /** One subscription per event name, from `handleEvent()`. */
  handlers: readonly EventSubscription<Transaction>[];
  /** The "processed once" guard: Postgres (`createPostgresInbox`), Redis or memory. */
  inbox: InboxStore<Transaction>;
  /** Jobs run at once in this process. Default 1. */
  concurrency?: number;
  /** Gets one line per failed attempt and per dead letter. Default: none. */
  logger?: Logger;
  /**
   * How long a job's lock lasts before it must be renewed (BullMQ renews it at half this while
   * the process lives). Default 30,000 ms.
   */
  lockDurationMs?: number;
  /**
   * How often BullMQ looks for jobs whose lock lapsed (their process died) and retries them.
   * Default 300,000 ms: seed 004's "stalled for 5 minutes → retried".
   */
  stalledIntervalMs?: number;
  /** Stalls a job may have before it fails for good. Default 2. */
  maxStalledCount?: number;
  /**
   * Longest one attempt's handler may run. A handler still running then is given up: its
   * `context.signal` aborts with a retryable `TIMEOUT`, the attempt fails (BullMQ retries it with
   * the job's backoff) and the worker's slot is free for the next job. A handler that ignores the
   * signal keeps running in the background (its late end is logged); with the Postgres inbox a
   * late success still commits once, and the retry then finds it done. Without this limit a hung
   * handler (a socket that never answers) holds a slot for ever: its lock is renewed while the
   * process lives, so stalled-job recovery never sees it. `false`: no limit. Default 300,000 ms,
   * seed 004's "stuck for 5 minutes → reset".
   */
  handlerTimeoutMs?: number | false;
  /** Start taking jobs at once. Default `true`; with `false`, call `run()`. */
  autorun?: boolean;
}

/** A running consumer. */
export interface Consumer {
  /** The consumer name used in the inbox. */
  readonly name: string;
  /**
   * Starts taking jobs (only needed with `autorun: false`); a second call does nothing. Throws
   * `UPSTREAM_ERROR` (not retryable) after `close()`.
   */
  run(): void;
  /** Resolves once the worker is connected and taking jobs. */
  waitUntilReady(): Promise<void>;
  /** Status of one event's job (see {@link readJobStatus}). */
  status(eventId: string): Promise<JobStatus | undefined>;
  /** Re-queues dead letters after a fix (see {@link redriveDeadLetters}). */
  redrive(options?: RedriveOptions): Promise<number>;
  /**
   * Lets running jobs finish, then disconnects. Calling it again returns the same shutdown;
   * afterwards `status()` and `redrive()` reject and `run()` throws.
   */
  close(): Promise<void>;
}

const maxTimer = 2_147_483_647;

// `instanceof` reads the prototype, which throws for a revoked proxy a handler may throw.
function isError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

// A dead letter's job name and data were written by whoever added the job, not checked by the
// catalog: only a short printable string reaches the log (no line breaks to forge log lines,
// no megabyte trace id).
function loggable(value: unknown): string | undefined {
  return typeof value === 'string' && /^[\x21-\x7e]{1,200}$/.test(value) ? value : undefined;
}

/**
 * The job id as logs and the processor take it: at most 1,000 characters without control
 * characters. Any producer may name a job: a longer id made every attempt reject before the
 * handler (a valid event never handled), a newline in one forged log lines. The event id still
 * names the delivery in every log line.
 */
function printableJobId(id: string | undefined): string | undefined {
  return id !== undefined && /^[^\p{Cc}\u2028\u2029]{1,1000}$/u.test(id) ? id : undefined;
}

const optionsSchema = z.strictObject({
  queue: queueNameSchema,
  connection: connectionSchema,
  backend: backendSchema,
  consumer: z.string().min(1).max(200).optional(),
  catalog: z.custom<EventCatalog>(
    (value) => typeof (value as EventCatalog | null)?.decode === 'function',
    { message: 'expected an EventCatalog' },
  ),
  handlers: z.array(z.custom<EventSubscription<unknown>>((value) => value !== null)).min(1),
  inbox: z.custom<InboxStore<unknown>>(
    (value) => typeof (value as InboxStore<unknown> | null)?.runOnce === 'function',
    { message: 'expected an InboxStore (runOnce)' },
  ),
  concurrency: z.number().int().min(1).max(10_000).default(1),
  logger: loggerSchema.default(noopLogger),
  lockDurationMs: z
    .number()
    .int()
    .min(1_000)
    .max(maxTimer)
    .default(defaultStallSettings.lockDurationMs),
  stalledIntervalMs: z
    .number()
    .int()
    .min(1_000)
    .max(maxTimer)
    .default(defaultStallSettings.stalledIntervalMs),
  maxStalledCount: z.number().int().min(0).max(100).default(defaultStallSettings.maxStalledCount),
  handlerTimeoutMs: z
    .union([z.literal(false), z.number().int().min(1).max(maxTimer)])
    .default(defaultHandlerTimeoutMs),
  autorun: z.boolean().default(true),
});

/**
 * Starts a BullMQ worker that handles Ballast events exactly once per consumer (with the
 * Postgres inbox: the effect and the "processed" mark commit in one transaction).
 *
 * - A handler error that another attempt may fix is rethrown: BullMQ retries it with the job's
 *   backoff (3 attempts by default), then the job fails (a dead letter).
 * - An invalid or unknown event, a `BallastError` with `retryable: false`, or a schema
 *   validation error fails the job at once (BullMQ `UnrecoverableError`), after 1 attempt.
 * - A handler running longer than `handlerTimeoutMs` (5 minutes) is given up: its
 *   `context.signal` aborts and the attempt fails with a retryable `TIMEOUT`.
 * - Every failed attempt is logged (job id, attempt, trace id) and written to the job's log,
 *   which `status()` reads back.
 *
 * @example
 * ```ts
 * const consumer = createConsumer({
 *   queue: 'events',
 *   connection: { host: '127.0.0.1', port: 6379 },
 *   consumer: 'order-emails',
 *   catalog,
 *   handlers: [sendConfirmation],
 *   inbox: createPostgresInbox(db),
 *   concurrency: 8,
 * });
 * ```
 */
export function createConsumer<Transaction = undefined>(
  options: ConsumerOptions<Transaction>,
): Consumer {
  const parsed = parseOptions(optionsSchema, options, 'createConsumer()');
  const name = parsed.consumer ?? parsed.queue;
  const logger = parsed.logger;
  const processor: EventProcessor = createEventProcessor<Transaction>({
    consumer: name,
    catalog: parsed.catalog,
    handlers: options.handlers,
    inbox: options.inbox,
    logger,
  });

  const { handlerTimeoutMs } = parsed;
  /** One attempt, given up after `handlerTimeoutMs` (the processor then answers `retry`). */
  const processWithinLimit = async (job: Job, attempt: number) => {
    const jobId = printableJobId(job.id);
    if (handlerTimeoutMs === false) return processor.process(job.data, { attempt, jobId });
    const limit = new AbortController();
    const timer = setTimeout(() => {
      limit.abort(
        new BallastError('TIMEOUT', {
          message: `handler ran over handlerTimeoutMs (${handlerTimeoutMs} ms); attempt given up`,
          retryable: true,
          details: { timeoutMs: handlerTimeoutMs },
        }),
      );
    }, handlerTimeoutMs);
    try {
      return await processor.process(job.data, { attempt, jobId, signal: limit.signal });
    } finally {
      clearTimeout(timer);
    }
  };

  const processJob = async (job: Job): Promise<unknown> => {
    const attempt = job.attemptsMade + 1;
    const outcome = await processWithinLimit(job, attempt);
    if (outcome.status === 'handled' || outcome.status === 'duplicate') {
      return { status: outcome.status };
    }
    const reason = outcome.status === 'dead-letter' ? outcome.reason : undefined;
    // The log line is best effort: failing to write it must not turn a retry into a success.
    await job.log(attemptLogLine(attempt, outcome.error, new Date(), reason)).catch(() => {});
    if (outcome.status === 'dead-letter') {
      throw new UnrecoverableError(`${outcome.reason}: ${errorMessage(outcome.error)}`);
    }
    throw isError(outcome.error) ? outcome.error : new Error(errorMessage(outcome.error));
  };

  const worker = openWorker(parsed.queue, processJob, parsed.connection, parsed.backend, {
    concurrency: parsed.concurrency,
    lockDuration: parsed.lockDurationMs,
    stalledInterval: parsed.stalledIntervalMs,
    maxStalledCount: parsed.maxStalledCount,
    autorun: parsed.autorun,
  });

  worker.on('failed', (job, error) => {
    if (job === undefined) return;
    const allowed = job.opts.attempts ?? 1;
    const dead = error instanceof UnrecoverableError || job.attemptsMade >= allowed;
    if (!dead) return;
    const jobId = printableJobId(job.id);
    logger.error(
      {
        consumer: name,
        jobId,
        type: loggable(job.name),
        attempt: job.attemptsMade,
        traceId: loggable((job.data as { traceId?: unknown } | null)?.traceId),
        err: error,
      },
      `event ${jobId ?? '(unprintable job id)'} is a dead letter after ${job.attemptsMade} attempt(s)`,
    );
  });
  // A worker without an 'error' listener would crash the process on a connection error; BullMQ
  // reconnects by itself, so the error is only worth a log line.
  worker.on('error', (error) => {
    logger.warn({ consumer: name, err: error }, 'BullMQ worker error; it reconnects by itself');
  });

  let reader: AnyQueue | undefined;
  let closing: Promise<void> | undefined;
  const closedError = () =>
    new BallastError('UPSTREAM_ERROR', {
      message: `createConsumer(): consumer "${name}" is closed`,
      retryable: false,
    });
  const jobs = (): BullmqJobReader => {
    // A closed consumer must not open a connection that keeps the process alive.
    if (closing !== undefined) throw closedError();
    if (reader === undefined) {
      reader = openQueue(parsed.queue, parsed.connection, parsed.backend);
      reader.on('error', (error) => {
        logger.warn({ consumer: name, err: error }, 'BullMQ queue connection error');
      });
    }
    return reader as unknown as BullmqJobReader;
  };

  return {
    name,
    run() {
      if (closing !== undefined) throw closedError();
      if (worker.isRunning()) return;
      // run() resolves when the worker closes; a rejection must be a log line, not an
      // unhandled rejection that ends the process.
      worker.run().catch((error: unknown) => {
        logger.error({ consumer: name, err: error }, 'BullMQ worker stopped with an error');
      });
    },
    async waitUntilReady() {
      await worker.waitUntilReady();
    },
    status: async (eventId) => readJobStatus(jobs(), eventId),
    redrive: async (redriveOptions) => redriveDeadLetters(jobs(), redriveOptions),
    close() {
      // Every caller waits for the same shutdown: running jobs finish, then both connections go.
      closing ??= (async () => {
        await worker.close();
        await reader?.close();
      })();
      return closing;
    },
  };
}
