/**
 * The relay's options, events and their validation, apart from the loop in `relay.ts` so that
 * file reads top to bottom. Defaults come from the issue and seed 003: batches of 100, a 30 s
 * lease, a 1 s fallback poll (NOTIFY wakes the relay sooner), back-off from 500 ms to 30 s, a
 * breaker after 5 failures in a row, 10 attempts charged to one event before it is parked, a
 * depth alert at 10 000 and a week of sent rows kept.
 */
import type { Clock } from '../clock/clock.js';
import { printableText } from '../events/envelope-check.js';
import type { EventEnvelope } from '../events/event-envelope.js';
import type { Logger } from '../logging/logger.js';
import * as v from '../options/small-validator.js';
import type { JitterMode } from '../retry/backoff-schedule.js';
import type { OutboxStore } from './outbox-store.js';
import type { Publisher } from './publisher.js';

/** Emitted after a batch reached the engine and was marked sent. */
export interface RelayPublishedEvent {
  readonly count: number;
  /** From claim to marked sent, ms. */
  readonly durationMs: number;
}

/** Emitted when a batch could not be handed to the engine; it was released for later. */
export interface RelayPublishFailedEvent {
  readonly count: number;
  readonly error: unknown;
  /** Failures in a row so far (1 for the first). */
  readonly consecutiveFailures: number;
  /** How long the relay waits before it claims again, ms. */
  readonly retryInMs: number;
}

/**
 * One event the engine refused while it took others (or refused as non-retryable): charged an
 * attempt and given back with its own back-off. Its key waits behind it.
 */
export interface RelayRejectedEvent {
  readonly event: EventEnvelope;
  /** Attempts charged to the event so far, this one included. */
  readonly attempts: number;
  readonly error: unknown;
  readonly retryInMs: number;
}

/** An event parked as a dead letter: the relay will not try it again until it is redriven. */
export interface RelayDeadLetterEvent {
  readonly event: EventEnvelope;
  readonly attempts: number;
  /** The last failure. */
  readonly error: unknown;
  /** `'max-attempts'`, or `'non-retryable'` (a `BallastError` with `retryable: false`). */
  readonly reason: 'max-attempts' | 'non-retryable';
  /** The event's key, whose later events now wait until it is redriven. */
  readonly blockedKey: string | undefined;
}

/** The outbox depth, measured every `depthCheckIntervalMs`. */
export interface RelayDepthEvent {
  readonly depth: number;
  readonly threshold: number;
}

/** The events of a relay, by name. */
export interface RelayEvents {
  published: (event: RelayPublishedEvent) => void;
  publishFailed: (event: RelayPublishFailedEvent) => void;
  /**
   * A claim lapsed before the batch was marked sent (`markSent` changed fewer rows than it
   * published): another relay may publish those events again, which the publisher's
   * idempotency by event id absorbs. Raise `leaseMs` if this is frequent.
   */
  leaseLost: (event: { readonly published: number; readonly marked: number }) => void;
  /** The engine refused one event while taking others; it was charged an attempt. */
  rejected: (event: RelayRejectedEvent) => void;
  /**
   * An event was parked as a dead letter (also logged at error level). Alert on it: when the
   * event has a key, that key's later events wait until `store.redrive()`.
   */
  deadLetter: (event: RelayDeadLetterEvent) => void;
  /** Every depth measurement. */
  depth: (event: RelayDepthEvent) => void;
  /** The depth reached `depthAlertThreshold` (once per crossing). */
  depthAlert: (event: RelayDepthEvent) => void;
  /** The depth fell back under the threshold after an alert. */
  depthRecovered: (event: RelayDepthEvent) => void;
  /** Sent rows older than `retentionMs` were deleted. */
  cleaned: (event: { readonly deleted: number }) => void;
  /** The outbox store itself failed (database down); the relay backs off and tries again. */
  storeError: (event: { readonly error: unknown; readonly operation: string }) => void;
}

/** Back-off between failed hand-offs: `initialDelayMs × factor^n`, capped, with jitter. */
export interface RelayBackoffOptions {
  /** Default `500`. */
  initialDelayMs?: number;
  /** Default `30_000`. */
  maxDelayMs?: number;
  /** Default `2`. */
  factor?: number;
  /** Default `'equal'` (see `JitterMode`). */
  jitter?: JitterMode;
}

/** When the relay stops calling a failing engine. */
export interface RelayBreakerOptions {
  /** Failed hand-offs in a row that open the circuit. Default `5`. */
  consecutiveFailures?: number;
  /** How long the circuit stays open before one probe batch, ms. Default `10_000`. */
  halfOpenAfterMs?: number;
}

/** Options for {@link createRelay}. */
export interface RelayOptions {
  /** The relay side of the outbox (memory, Postgres). */
  store: OutboxStore;
  /** Where events go (BullMQ, a function, in-process). Must be idempotent by event id. */
  publisher: Publisher;
  /** Most events per claim and per `publish` call. Default `100`. */
  batchSize?: number;
  /**
   * How long a claim holds its rows, ms. A relay that dies mid-batch holds them this long;
   * then another relay claims them again. Default `30_000`.
   */
  leaseMs?: number;
  /** Limit on one `publish` call, ms; must be under `leaseMs`. Default: `leaseMs / 3`. */
  publishTimeoutMs?: number;
  /**
   * The slow poll: how long an idle relay waits when no commit woke it, ms. The store's
   * `onCommit` (Postgres NOTIFY) wakes it sooner. Default `1_000`.
   */
  pollIntervalMs?: number;
  backoff?: RelayBackoffOptions;
  breaker?: RelayBreakerOptions;
  /**
   * Failed hand-offs charged to one event before it is parked as a dead letter (when the store
   * can park). Only failures that are the event's own count (see the docs: an engine that is
   * down charges nobody), so this is not eaten by an outage. With the default back-off, 10
   * attempts span about 2.5 minutes: long enough for a target's brief hiccup over one payload,
   * short enough that a poison event does not hold its key for long before someone is alerted.
   * Default `10`.
   */
  maxAttempts?: number;
  /** How long sent rows are kept (for audit and replays), ms. Default 7 days. */
  retentionMs?: number;
  /** How often sent rows past `retentionMs` are deleted, ms. Default `60_000`. */
  cleanupIntervalMs?: number;
  /** How often the outbox depth is measured, ms. Default `10_000`. */
  depthCheckIntervalMs?: number;
  /** Depth at which `depthAlert` fires and an error is logged (seed 003). Default `10_000`. */
  depthAlertThreshold?: number;
  /** Names the relay in logs and claim tokens. Default `'relay'`. */
  name?: string;
  /** Listeners, by event. A throwing listener is logged and ignored. */
  on?: Partial<RelayEvents>;
  /** Default `systemClock`. */
  clock?: Clock;
  /** Default: none. */
  logger?: Logger;
  /** Random source for jitter, `[0, 1)`. Default `Math.random`. */
  random?: () => number;
}

const day = 86_400_000;

/**
 * The value `createRelay` uses for each option left out (the `backoff` and `breaker` fields
 * flattened), for dashboards and tests that show them. Durations in ms.
 */
export const relayDefaults = {
  batchSize: 100,
  leaseMs: 30_000,
  pollIntervalMs: 1_000,
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  factor: 2,
  consecutiveFailures: 5,
  halfOpenAfterMs: 10_000,
  maxAttempts: 10,
  retentionMs: 7 * day,
  cleanupIntervalMs: 60_000,
  depthCheckIntervalMs: 10_000,
  depthAlertThreshold: 10_000,
} as const;

// A declaration marked free of side effects, not an arrow in a const: bundlers then drop this
// schema (and the validator with it) from bundles that never build a relay.
/* @__NO_SIDE_EFFECTS__ */
function listener() {
  return v.optional(v.func());
}

/** Every relay event, for `relay.on()` to refuse a misspelt one. */
export const relayEventNames = {
  published: true,
  publishFailed: true,
  leaseLost: true,
  rejected: true,
  deadLetter: true,
  depth: true,
  depthAlert: true,
  depthRecovered: true,
  cleaned: true,
  storeError: true,
} as const satisfies { readonly [E in keyof RelayEvents]-?: true };

/** What `relay.stop()` takes. */
export const stopOptionsSchema = v.object({ signal: v.optional(v.abortSignal()) });

export const relayOptionsSchema = v.refine(
  v.object({
    store: v.methods<OutboxStore>(
      ['claim', 'markSent', 'release', 'depth', 'deleteSent'],
      'an OutboxStore (claim, markSent, release, depth, deleteSent)',
    ),
    publisher: v.methods<Publisher>(['publish'], 'a Publisher (publish)'),
    batchSize: v.optional(v.number({ min: 1, max: 10_000, integer: true })),
    leaseMs: v.optional(v.durationMs({ min: 100 })),
    publishTimeoutMs: v.optional(v.durationMs({ min: 1 })),
    pollIntervalMs: v.optional(v.durationMs({ min: 10 })),
    backoff: v.optional(
      v.object({
        initialDelayMs: v.optional(v.durationMs({ min: 1 })),
        maxDelayMs: v.optional(v.durationMs({ min: 1 })),
        factor: v.optional(v.number({ min: 1, max: 10 })),
        jitter: v.optional(v.literal('equal', 'full', 'none')),
      }),
    ),
    breaker: v.optional(
      v.object({
        consecutiveFailures: v.optional(v.number({ min: 1, integer: true })),
        halfOpenAfterMs: v.optional(v.durationMs({ min: 1 })),
      }),
    ),
    maxAttempts: v.optional(v.number({ min: 1, max: 1_000, integer: true })),
    retentionMs: v.optional(v.number({ min: 0 })),
    cleanupIntervalMs: v.optional(v.durationMs({ min: 1_000 })),
    depthCheckIntervalMs: v.optional(v.durationMs({ min: 100 })),
    depthAlertThreshold: v.optional(v.number({ min: 1, integer: true })),
    // Printable: it starts every owner token (a NUL failed every claim on Postgres) and log line.
    name: v.optional(v.string({ minLength: 1, maxLength: 100, pattern: printableText })),
    on: v.optional(
      v.object({
        published: listener(),
        publishFailed: listener(),
        leaseLost: listener(),
        rejected: listener(),
        deadLetter: listener(),
        depth: listener(),
        depthAlert: listener(),
        depthRecovered: listener(),
        cleaned: listener(),
        storeError: listener(),
      }),
    ),
    clock: v.optional(v.clock()),
    logger: v.optional(v.logger()),
    random: v.optional(v.func<() => number>()),
  }),
  (options) => {
    const lease = options.leaseMs ?? relayDefaults.leaseMs;
    if (options.publishTimeoutMs !== undefined && options.publishTimeoutMs >= lease) {
      return { message: `must be under leaseMs (${lease})`, path: ['publishTimeoutMs'] };
    }
    return undefined;
  },
);
