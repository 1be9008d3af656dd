/**
 * The engine-neutral half of a consumer. A queue engine (BullMQ, or the in-process publisher)
 * delivers raw job data at least once; this turns one delivery into one outcome: decode and
 * upcast, run the handler under the event's trace id through the inbox (so a redelivery of an
 * event that already took effect is skipped), and say whether a failure is worth another
 * attempt or is a dead letter now. Engine adapters only translate that outcome (BullMQ: rethrow,
 * or `UnrecoverableError`), so every engine classifies failures the same way.
 */
import { BallastError, isBallastError } from '../errors/ballast-error.js';
import { type Logger, noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import type { InboxStore } from '../outbox/inbox-store.js';
import { createTraceContext, type TraceContext } from '../trace/trace-context.js';
import { isValidTraceId } from '../trace/trace-ids.js';
import { bindLogFields, withTraceLogger } from '../trace/trace-logger.js';
import { printableText } from './envelope-check.js';
import type { DecodedEvent, EventCatalog } from './event-catalog.js';
import { type EventDefinition, type EventOutput, eventTypePattern } from './event-definition.js';

/** What a handler knows about the delivery it runs in. */
export interface EventHandlerContext {
  /** The consumer's name (the inbox's namespace). */
  readonly consumer: string;
  /** Bound to the event: `traceId`, `spanId`, `eventId`, `type`, `jobId`, `attempt`. */
  readonly logger: Logger;
  /** The event's trace, when it carries a valid W3C trace id. */
  readonly trace: TraceContext | undefined;
  /** Delivery attempt, from 1. */
  readonly attempt: number;
  /** The engine's job id, when it has one (BullMQ: the event id). */
  readonly jobId: string | undefined;
  /**
   * Aborts when the engine gives up on this attempt (BullMQ: `handlerTimeoutMs` ran out; its
   * `reason` is a retryable `TIMEOUT`). Pass it to `fetch`, a driver's query, anything that can
   * stop: the attempt is already counted as failed and another one will run. Never aborts when
   * the engine set no limit.
   */
  readonly signal: AbortSignal;
}

/** One handler of one event, at the version it was written for. */
export interface EventSubscription<Transaction = undefined> {
  readonly event: EventDefinition;
  readonly handle: (
    event: DecodedEvent,
    transaction: Transaction,
    context: EventHandlerContext,
  ) => unknown;
}

/**
 * Subscribes `handle` to `event`. Older versions of the same event reach it upcast; newer ones
 * are dead-lettered (`EVENT_UNKNOWN`, reason `newer-version`) until a consumer for them runs.
 * `transaction` is the inbox's: write the effect in it and the effect and the "processed" mark
 * commit together (Postgres inbox).
 *
 * @example
 * ```ts
 * const sendConfirmation = handleEvent(OrderCreatedV2, async (event, trx) => {
 *   await trx.insertInto('emails').values({ orderId: event.payload.orderId }).execute();
 * });
 * ```
 */
export function handleEvent<Definition extends EventDefinition, Transaction = undefined>(
  event: Definition,
  handle: (
    event: DecodedEvent<EventOutput<Definition>>,
    transaction: Transaction,
    context: EventHandlerContext,
  ) => unknown,
): EventSubscription<Transaction> {
  parseOptions(
    v.object({ event: eventDefinitionSchema, handle: v.func() }),
    { event, handle },
    'handleEvent()',
  );
  return { event, handle: handle as EventSubscription<Transaction>['handle'] };
}

const eventDefinitionSchema = v.custom<EventDefinition>(
  (value) =>
    typeof (value as Partial<EventDefinition> | null)?.type === 'string' &&
    typeof (value as EventDefinition).name === 'string',
  'an event from defineEvent()',
);

// Read by shape: an engine adapter may hand over a richer object; only these two are checked.
const deliverySchema = v.object(
  {
    attempt: v.optional(v.number({ min: 1, integer: true })),
    jobId: v.optional(v.string({ maxLength: 1_000 })),
    signal: v.optional(v.abortSignal()),
  },
  { unknownKeys: 'strip' },
);

/** Options for {@link createEventProcessor}. */
export interface EventProcessorOptions<Transaction = undefined> {
  /**
   * Names this consumer: the inbox keeps "processed" marks per consumer, so two consumers of
   * one event each run once. Keep it stable across deploys.
   */
  consumer: string;
  /** Decodes and upcasts. */
  catalog: EventCatalog;
  /** At most one subscription per event name. */
  handlers: readonly EventSubscription<Transaction>[];
  /** The "processed once" guard (memory, Postgres or Redis). */
  inbox: InboxStore<Transaction>;
  /** Receives one line per failure (with job id, attempt and trace id). Default: none. */
  logger?: Logger;
}

/** Where a delivery came from. */
export interface DeliveryInfo {
  /** The engine's attempt number, from 1. Default `1`. */
  attempt?: number;
  /** The engine's job id. */
  jobId?: string;
  /**
   * Gives up on this attempt when it aborts: the handler gets it as `context.signal`, and
   * `process()` resolves at once with `retry` (the error: the signal's `reason`), without waiting
   * for a handler that ignores it. Default: none (the attempt takes as long as its handler).
   */
  signal?: AbortSignal;
}

/**
 * The result of one delivery, for the engine adapter to act on:
 * - `handled`: the handler ran and its effect committed.
 * - `duplicate`: the inbox says this consumer already handled this event; nothing ran.
 * - `retry`: the handler failed in a way another attempt may fix; the engine retries.
 * - `dead-letter`: it can never succeed as it is (invalid or unknown event, a non-retryable
 *   `BallastError`, a schema failure); fail the job now without burning attempts.
 */
export type ProcessOutcome =
  | { readonly status: 'handled'; readonly event: DecodedEvent; readonly value: unknown }
  | { readonly status: 'duplicate'; readonly event: DecodedEvent }
  | { readonly status: 'retry'; readonly error: unknown; readonly event: DecodedEvent }
  | {
      readonly status: 'dead-letter';
      readonly error: unknown;
      /** Stable and short: a `details.reason` (`unknown-version`), else the error code. */
      readonly reason: string;
      readonly event: DecodedEvent | undefined;
    };

/** The engine-neutral consumer made by {@link createEventProcessor}. */
export interface EventProcessor {
  readonly consumer: string;
  /** The types the handlers were written for, e.g. `['order.created.v2']`. */
  readonly types: readonly string[];
  /**
   * Handles one delivery. Never rejects for anything `raw` holds or the handler does: every
   * such failure is an outcome. Only a malformed `delivery` (the engine adapter's bug) rejects,
   * with `INVALID_OPTIONS`.
   */
  process(raw: unknown, delivery?: DeliveryInfo): Promise<ProcessOutcome>;
}

const optionsSchema = v.object({
  // Printable and well-formed, as event ids are: it is half of every inbox mark and a log field,
  // and a name the inbox refuses failed every delivery instead of the start-up.
  consumer: v.string({ minLength: 1, maxLength: 200, pattern: printableText }),
  catalog: v.methods<EventCatalog>(['decode', 'get'], 'an EventCatalog'),
  handlers: v.array(
    v.custom<EventSubscription<unknown>>(
      (value) =>
        typeof (value as Partial<EventSubscription> | null)?.handle === 'function' &&
        typeof (value as EventSubscription).event?.type === 'string',
      'a subscription from handleEvent()',
    ),
    { minLength: 1 },
  ),
  inbox: v.methods<InboxStore<unknown>>(['runOnce'], 'an InboxStore (runOnce)'),
  logger: v.optional(v.logger()),
});

/**
 * Whether a handler's failure can never succeed on another attempt: a `BallastError` with
 * `retryable: false`, or a schema library's validation error (zod, valibot: the data is wrong,
 * retrying reads the same data).
 */
export function isDeadLetterError(error: unknown): boolean {
  if (isBallastError(error)) return !error.retryable;
  // A handler may throw a value whose reads throw (a throwing getter, a revoked proxy): that is
  // no validation error, and answering must not reject process() and lose the delivery.
  try {
    const name = (error as { name?: unknown } | null)?.name;
    const issues = (error as { issues?: unknown } | null)?.issues;
    return (name === 'ZodError' || name === 'ValiError') && Array.isArray(issues);
  } catch {
    return false;
  }
}

function reasonOf(error: unknown): string {
  if (isBallastError(error)) {
    const reason = error.details.reason;
    return typeof reason === 'string' ? reason : error.code;
  }
  return 'invalid-data';
}

function typeNameOf(raw: unknown): string | undefined {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') return undefined;
  return eventTypePattern.exec(type)?.[1];
}

/** The signal of a delivery without a limit: nothing ever aborts it. */
const neverAborted = new AbortController().signal;

/**
 * `running`, unless `signal` aborts first: then rejects with the signal's reason and leaves the
 * handler to end on its own. What it ends with is logged, not lost: a late success took effect
 * (the next attempt will find it in the inbox), a late failure is worth a line.
 */
function untilAborted<T>(
  running: Promise<T>,
  signal: AbortSignal,
  logger: () => Logger,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const giveUp = () => {
      running.then(
        () => logger().warn({}, 'event handler finished after its attempt was given up'),
        (error: unknown) =>
          logger().warn({ err: error }, 'event handler failed after its attempt was given up'),
      );
      reject(signal.reason);
    };
    if (signal.aborted) {
      giveUp();
      return;
    }
    signal.addEventListener('abort', giveUp, { once: true });
    running.then(
      (value) => {
        signal.removeEventListener('abort', giveUp);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', giveUp);
        reject(error);
      },
    );
  });
}

/**
 * Builds the engine-neutral consumer: one `process(raw, { attempt, jobId })` per delivery.
 *
 * @example
 * ```ts
 * const processor = createEventProcessor({
 *   consumer: 'order-emails',
 *   catalog,
 *   handlers: [sendConfirmation],
 *   inbox: new MemoryInboxStore(),
 * });
 * const outcome = await processor.process(job.data, { attempt: job.attemptsMade + 1, jobId: job.id });
 * ```
 */
export function createEventProcessor<Transaction = undefined>(
  options: EventProcessorOptions<Transaction>,
): EventProcessor {
  parseOptions(optionsSchema, options, 'createEventProcessor()');
  const { consumer, catalog, inbox } = options;
  const baseLogger = options.logger ?? noopLogger;
  const byName = new Map<string, EventSubscription<Transaction>>();
  for (const subscription of options.handlers) {
    const name = subscription.event.name;
    if (byName.has(name)) {
      throw new BallastError('INVALID_OPTIONS', {
        message: `Invalid options for createEventProcessor(): "handlers": two handlers for ${name}`,
        details: { field: 'handlers' },
      });
    }
    if (catalog.get(subscription.event.type) !== subscription.event) {
      throw new BallastError('INVALID_OPTIONS', {
        message: `Invalid options for createEventProcessor(): "handlers": ${subscription.event.type} is not in the catalog`,
        details: { field: 'handlers' },
      });
    }
    byName.set(name, subscription);
  }

  function deliveryLogger(event: DecodedEvent | undefined, attempt: number, jobId?: string) {
    const fields: Record<string, unknown> = { consumer, attempt };
    if (jobId !== undefined) fields.jobId = jobId;
    if (event === undefined) return { logger: bindLogFields(baseLogger, fields), trace: undefined };
    fields.eventId = event.id;
    fields.type = event.type;
    if (event.upcastFrom !== undefined) fields.upcastFrom = event.upcastFrom;
    const trace =
      event.traceId !== undefined && isValidTraceId(event.traceId)
        ? createTraceContext({ traceId: event.traceId })
        : undefined;
    if (trace === undefined && event.traceId !== undefined) fields.traceId = event.traceId;
    const bound = bindLogFields(baseLogger, fields);
    return { logger: trace === undefined ? bound : withTraceLogger(bound, trace), trace };
  }

  async function decode(
    raw: unknown,
  ): Promise<{ event: DecodedEvent; subscription: EventSubscription<Transaction> }> {
    const name = typeNameOf(raw);
    const subscription = name === undefined ? undefined : byName.get(name);
    if (subscription !== undefined) {
      return { event: await catalog.decode(raw, { as: subscription.event }), subscription };
    }
    // No handler for this name: decoding still tells an invalid or unknown event apart.
    const event = await catalog.decode(raw);
    throw new BallastError('EVENT_UNKNOWN', {
      message: `${event.type} ${event.id}: consumer "${consumer}" has no handler for ${name}`,
      details: { reason: 'no-handler', type: event.type, eventId: event.id, consumer },
    });
  }

  async function process(raw: unknown, delivery: DeliveryInfo = {}): Promise<ProcessOutcome> {
    parseOptions(deliverySchema, delivery, 'processor.process()');
    const attempt = delivery.attempt ?? 1;
    let decoded: DecodedEvent;
    let subscription: EventSubscription<Transaction>;
    try {
      ({ event: decoded, subscription } = await decode(raw));
    } catch (error) {
      const reason = reasonOf(error);
      const { logger } = deliveryLogger(undefined, attempt, delivery.jobId);
      logger.error({ err: error, reason }, `event rejected before its handler: ${reason}`);
      return { status: 'dead-letter', error, reason, event: undefined };
    }
    // Bound on first use: most deliveries log nothing, and a trace context costs a random
    // span id (a system call) and a logger wrapper per event.
    let bound: ReturnType<typeof deliveryLogger> | undefined;
    const delivered = () => {
      bound ??= deliveryLogger(decoded, attempt, delivery.jobId);
      return bound;
    };
    const context: EventHandlerContext = {
      consumer,
      get logger() {
        return delivered().logger;
      },
      get trace() {
        return delivered().trace;
      },
      attempt,
      jobId: delivery.jobId,
      signal: delivery.signal ?? neverAborted,
    };
    try {
      const running = inbox.runOnce({ consumer, eventId: decoded.id }, (transaction) =>
        Promise.resolve(subscription.handle(decoded, transaction, context)),
      );
      const outcome =
        delivery.signal === undefined
          ? await running
          : await untilAborted(running, delivery.signal, () => context.logger);
      if (outcome.kind === 'duplicate') {
        context.logger.debug({}, 'event already handled by this consumer; skipped');
        return { status: 'duplicate', event: decoded };
      }
      return { status: 'handled', event: decoded, value: outcome.value };
    } catch (error) {
      if (isDeadLetterError(error)) {
        const reason = reasonOf(error);
        context.logger.error({ err: error, reason }, `event handler failed for good: ${reason}`);
        return { status: 'dead-letter', error, reason, event: decoded };
      }
      context.logger.warn({ err: error }, 'event handler failed; the engine will retry');
      return { status: 'retry', error, event: decoded };
    }
  }

  return {
    consumer,
    types: [...byName.values()].map((subscription) => subscription.event.type),
    process,
  };
}
