/**
 * The embedded engine: a publisher that delivers events to an `EventProcessor` in the same
 * process, with the same job semantics as the BullMQ consumer (seed 004: three attempts with
 * back-off, a dead letter with each attempt's error, redrive). With `MemoryOutbox` and
 * `MemoryInboxStore` it is the whole pipeline in one process, for the demo and tests; nothing
 * survives a restart, so production uses a queue engine (`@ballast/adapters/bullmq`).
 *
 * Like the real engines it is idempotent by event id (a re-published id is ignored), keeps a
 * key's events in order (one at a time per key, retries included) and bounds its concurrency.
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { BallastError } from '../errors/ballast-error.js';
import { envelopeJson } from '../events/envelope-json.js';
import type { EventEnvelope } from '../events/event-envelope.js';
import type { EventProcessor } from '../events/event-processor.js';
import { createEventListeners } from '../logging/event-listeners.js';
import { type Logger, noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import type { Publisher } from './publisher.js';
import { stringOf } from './relay-settle.js';

/** An event that will not be retried any more, with why. */
export interface InProcessDeadLetter {
  readonly event: EventEnvelope;
  /** `details.reason` of the last error (`unknown-version`), `attempts-exhausted`, … */
  readonly reason: string;
  /** One line per failed attempt, oldest first. */
  readonly errors: readonly string[];
  readonly attempts: number;
  /** When it was dead-lettered (epoch ms from the clock). */
  readonly failedAt: number;
}

/** The events of an in-process publisher. */
export interface InProcessPublisherEvents {
  /** The processor handled the event (or its inbox said it already had). */
  delivered: (event: { readonly event: EventEnvelope; readonly attempts: number }) => void;
  /** The event is dead: no attempt is left, or it can never succeed. */
  deadLetter: (deadLetter: InProcessDeadLetter) => void;
}

/** Options for {@link createInProcessPublisher}. */
export interface InProcessPublisherOptions {
  /** Who handles the events (from `createEventProcessor`). */
  processor: EventProcessor;
  /** Attempts per event before it is a dead letter (seed 004). Default `3`. */
  attempts?: number;
  /**
   * Waits before retry 1, 2, …, ms; past the end the last repeats (seed 004).
   * Default `[500, 1_000, 2_000]`.
   */
  backoffMs?: readonly number[];
  /** Deliveries in flight at once. Default `8`. */
  concurrency?: number;
  /** Event ids remembered to ignore re-publishing; the oldest are forgotten first. Default `100_000`. */
  maxRemembered?: number;
  /**
   * Dead letters kept for `deadLetters()` and `redrive()`; past it the oldest is forgotten (and
   * a warning logged), so a consumer that rejects everything cannot grow memory without end.
   * Default `10_000`.
   */
  maxDeadLetters?: number;
  on?: Partial<InProcessPublisherEvents>;
  clock?: Clock;
  logger?: Logger;
}

/** Which dead letters {@link InProcessPublisher.redrive} re-queues. */
export interface RedriveFilter {
  /** Only this event type (`'order.created.v1'`). */
  type?: string;
  /** Only those dead-lettered at or after this instant. */
  since?: Date;
}

/** The publisher made by {@link createInProcessPublisher}. */
export interface InProcessPublisher extends Publisher {
  /** Resolves when nothing is queued, running or waiting for a retry. */
  idle(): Promise<void>;
  /** The dead letters, oldest first. */
  deadLetters(): readonly InProcessDeadLetter[];
  /** Re-queues matching dead letters with fresh attempts; returns how many. */
  redrive(filter?: RedriveFilter): number;
  /** Stops accepting events and waits for what is in flight. */
  close(): Promise<void>;
  on<Name extends keyof InProcessPublisherEvents>(
    event: Name,
    listener: InProcessPublisherEvents[Name],
  ): () => void;
}

const optionsSchema = v.object({
  processor: v.methods<EventProcessor>(['process'], 'an EventProcessor (process)'),
  attempts: v.optional(v.number({ min: 1, max: 100, integer: true })),
  backoffMs: v.optional(v.array(v.durationMs(), { minLength: 1 })),
  concurrency: v.optional(v.number({ min: 1, max: 1_000, integer: true })),
  maxRemembered: v.optional(v.number({ min: 1, integer: true })),
  maxDeadLetters: v.optional(v.number({ min: 1, integer: true })),
  on: v.optional(v.object({ delivered: v.optional(v.func()), deadLetter: v.optional(v.func()) })),
  clock: v.optional(v.clock()),
  logger: v.optional(v.logger()),
});

const redriveFilterSchema = v.object({
  type: v.optional(v.string()),
  since: v.optional(v.date()),
});

interface Job {
  readonly event: EventEnvelope;
  /** The event as JSON, made when it was handed over: each attempt gets its own copy. */
  readonly json: string;
  readonly errors: string[];
}

/**
 * `event` with the JSON an engine would carry. A payload JSON cannot encode (a BigInt, a cycle)
 * is refused here, where the relay can park it: failing later, in a delivery nobody awaits, lost
 * the event and left an unhandled rejection.
 */
function jobOf(event: EventEnvelope, index: number): Job {
  const json = envelopeJson(event, 'publisher.publish()', `events.${index}.payload`);
  return { event, json, errors: [] };
}

function errorLine(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 500);
  } catch {
    // A revoked proxy or a throwing getter: described by its string form below.
  }
  return stringOf(error).slice(0, 500);
}

/**
 * Builds the in-process publisher.
 *
 * @example
 * ```ts
 * const publisher = createInProcessPublisher({ processor });
 * const relay = createRelay({ store: outbox, publisher });
 * relay.start();
 * ```
 */
export function createInProcessPublisher(options: InProcessPublisherOptions): InProcessPublisher {
  const opts = parseOptions(optionsSchema, options, 'createInProcessPublisher()');
  const { processor } = options;
  const attempts = opts.attempts ?? 3;
  const backoffMs = opts.backoffMs ?? [500, 1_000, 2_000];
  const concurrency = opts.concurrency ?? 8;
  const maxRemembered = opts.maxRemembered ?? 100_000;
  const maxDeadLetters = opts.maxDeadLetters ?? 10_000;
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? noopLogger;

  const accepted = new Set<string>();
  const ready: Job[] = [];
  const waitingByKey = new Map<string, Job[]>();
  const busyKeys = new Set<string>();
  const dead: InProcessDeadLetter[] = [];
  let active = 0;
  let closed = false;
  let idleWaiters: (() => void)[] = [];
  const { on, emit } = createEventListeners<InProcessPublisherEvents>(
    options.on,
    logger,
    'in-process publisher',
    { delivered: true, deadLetter: true },
  );

  function remember(id: string): boolean {
    if (accepted.has(id)) return false;
    accepted.add(id);
    if (accepted.size > maxRemembered) {
      const oldest = accepted.values().next().value;
      if (oldest !== undefined) accepted.delete(oldest);
    }
    return true;
  }

  function enqueue(job: Job): void {
    const key = job.event.key;
    if (key !== undefined && busyKeys.has(key)) {
      const waiting = waitingByKey.get(key) ?? [];
      waiting.push(job);
      waitingByKey.set(key, waiting);
      return;
    }
    if (key !== undefined) busyKeys.add(key);
    ready.push(job);
    pump();
  }

  function pump(): void {
    while (active < concurrency && ready.length > 0) {
      const job = ready.shift() as Job;
      active += 1;
      void deliver(job).finally(() => {
        active -= 1;
        finishKey(job.event.key);
        pump();
        notifyIfIdle();
      });
    }
  }

  function finishKey(key: string | undefined): void {
    if (key === undefined) return;
    const next = waitingByKey.get(key)?.shift();
    if (waitingByKey.get(key)?.length === 0) waitingByKey.delete(key);
    if (next === undefined) busyKeys.delete(key);
    else ready.push(next);
  }

  async function deliver(job: Job): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // A JSON copy, as from a real engine: a handler cannot change what the outbox holds,
      // and a payload behaves as it will in production (a Date arrives as a string).
      const wire = JSON.parse(job.json) as unknown;
      const outcome = await processor.process(wire, { attempt, jobId: job.event.id });
      if (outcome.status === 'handled' || outcome.status === 'duplicate') {
        emit('delivered', { event: job.event, attempts: attempt });
        return;
      }
      job.errors.push(errorLine(outcome.error));
      if (outcome.status === 'dead-letter' || attempt >= attempts) {
        const reason = outcome.status === 'dead-letter' ? outcome.reason : 'attempts-exhausted';
        const letter: InProcessDeadLetter = {
          event: job.event,
          reason,
          errors: [...job.errors],
          attempts: attempt,
          failedAt: clock.now(),
        };
        dead.push(letter);
        if (dead.length > maxDeadLetters) {
          const forgotten = dead.shift() as InProcessDeadLetter;
          logger.warn(
            { eventId: forgotten.event.id, type: forgotten.event.type, maxDeadLetters },
            'in-process publisher: forgot the oldest dead letter to stay within maxDeadLetters',
          );
        }
        logger.error(
          { eventId: job.event.id, type: job.event.type, reason, attempts: attempt },
          'in-process publisher: event dead-lettered',
        );
        emit('deadLetter', letter);
        return;
      }
      await clock.sleep(backoffMs[attempt - 1] ?? backoffMs[backoffMs.length - 1] ?? 0);
    }
  }

  function notifyIfIdle(): void {
    if (active > 0 || ready.length > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async function publish(events: readonly EventEnvelope[]): Promise<void> {
    if (closed) {
      throw new BallastError('UPSTREAM_ERROR', {
        message: 'in-process publisher is closed',
        details: { reason: 'closed' },
      });
    }
    if (!Array.isArray(events)) {
      throw new BallastError('INVALID_OPTIONS', {
        message: 'Invalid options for publisher.publish(): "events": expected an array',
        details: { field: 'events' },
      });
    }
    for (const event of events) {
      if (typeof (event as Partial<EventEnvelope> | null)?.id !== 'string') {
        throw new BallastError('INVALID_OPTIONS', {
          message:
            'Invalid options for publisher.publish(): "events": every event needs a string id',
          details: { field: 'events' },
        });
      }
    }
    const jobs = events.map(jobOf);
    for (const job of jobs) {
      if (remember(job.event.id)) enqueue(job);
    }
  }

  function idle(): Promise<void> {
    if (active === 0 && ready.length === 0) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push(resolve));
  }

  function redrive(filter: RedriveFilter = {}): number {
    parseOptions(redriveFilterSchema, filter, 'publisher.redrive()');
    const since = filter.since?.getTime() ?? Number.NEGATIVE_INFINITY;
    let count = 0;
    for (let i = 0; i < dead.length; ) {
      const letter = dead[i] as InProcessDeadLetter;
      const matches =
        (filter.type === undefined || letter.event.type === filter.type) &&
        letter.failedAt >= since;
      if (!matches) {
        i += 1;
        continue;
      }
      dead.splice(i, 1);
      enqueue({ event: letter.event, json: JSON.stringify(letter.event), errors: [] });
      count += 1;
    }
    return count;
  }

  return {
    publish,
    idle,
    deadLetters: () => [...dead],
    redrive,
    on,
    close: async () => {
      closed = true;
      await idle();
    },
  };
}
