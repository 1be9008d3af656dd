/**
 * The idempotency engine's configuration: its options, their validation and their defaults,
 * kept apart from the engine's behaviour (`idempotency-engine.ts`) so that file reads top to
 * bottom. Every duration is in milliseconds.
 */
import { z } from 'zod';
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import type { Logger } from '../logging/logger.js';
import { clockSchema, functionSchema } from '../options/option-schemas.js';
import type { IdempotencyEventHandlers } from './idempotency-events.js';
import type { IdempotencyStore } from './idempotency-store.js';
import { createOwnerTokenSource } from './owner-token.js';

/** Holding a duplicate until the first request finishes, instead of answering 409 at once. */
export interface IdempotencyWaitOptions {
  /** Longest a duplicate waits before it is refused as in flight. */
  timeoutMs: number;
  /** How often the store is asked again while waiting. Default `100`. */
  pollMs?: number;
}

/** Extending the lease of a long operation so it is not taken for a crashed one. */
export interface IdempotencyHeartbeatOptions {
  /** How often the lease is extended by `leaseMs`. Default `leaseMs / 3`. */
  intervalMs?: number;
  /**
   * Longest a holder keeps its key by heartbeat; past it the lease is left to run out, so a hung
   * operation cannot block its key for ever. Default `10 × leaseMs`; must be below `ttlMs`.
   */
  maxHoldMs?: number;
}

/** Options for {@link createIdempotency}. */
export interface IdempotencyOptions {
  /** Where keys live: `MemoryIdempotencyStore`, or the Postgres or Redis store for several processes. */
  store: IdempotencyStore;
  /** Source of time for leases, expiry, waiting and store timeouts. Default `systemClock`. */
  clock?: Clock;
  /**
   * How long a holder may run before its key can be taken over, in ms. Longer than your slowest
   * operation (or use `heartbeat`); it is also how long a crashed holder blocks its key, and how
   * long a failed recording is retried before it is given up.
   * Default `30_000` (seed 002 §4.1: writes time out after 15–30 s).
   */
  leaseMs?: number;
  /**
   * How long a recorded result is replayed, in ms. Default 24 h (seed 002 §4.2). Must exceed
   * `leaseMs`. A store may forget a record sooner: the default `MemoryIdempotencyStore` is bounded
   * by bytes and evicts the oldest finished records when full (it emits `evicted` and logs a
   * warning when it drops one still inside its TTL); Redis may evict under `maxmemory`.
   */
  ttlMs?: number;
  /**
   * Longest any single store call (claim, record, release, lease extension, check) may take, in
   * ms. Past it the call counts as failed: a claim is answered `IDEMPOTENCY_STORE_UNAVAILABLE`
   * (503 with `Retry-After`) instead of hanging on a store that is down. Default `2_000`.
   */
  storeTimeoutMs?: number;
  /**
   * What to do when the store cannot be reached to claim a key:
   * - `'reject'` (default): refuse with `IDEMPOTENCY_STORE_UNAVAILABLE` (503 + `Retry-After`).
   *   No duplicate can run, but no keyed write succeeds while the store is down.
   * - `'proceed'`: run the operation unguarded (fail-open, seed 002 §4.2: "if Redis fails, the
   *   API keeps working"). Emits `unguarded` and logs a warning. A retry during the outage can
   *   run the operation a second time, and its result is not recorded.
   *
   * A store that is reachable but not migrated (`IDEMPOTENCY_STORE_NOT_MIGRATED`) is refused in
   * both modes: it is a deployment error, not an outage.
   */
  onStoreUnavailable?: 'reject' | 'proceed';
  /** Extend the lease while the operation runs. Default `false`. */
  heartbeat?: IdempotencyHeartbeatOptions | boolean;
  /** Hold duplicates until the first finishes (bounded). Default `false`: answer in flight at once. */
  wait?: IdempotencyWaitOptions | false;
  /**
   * Makes the owner token of each claim; tokens must be unique across every process sharing the
   * store. Default: a random 128-bit prefix per process followed by a counter.
   */
  createOwnerToken?: () => string;
  /**
   * Receives takeovers, fencing and store failures. Default: discards, except that a store that
   * is not migrated is reported with `console.error` (at most once a minute), since it never
   * heals by itself.
   */
  logger?: Logger;
  /**
   * Event handlers for metrics: `claim`, `takeover`, `replay`, `conflict`, `mismatch`,
   * `record`, `release`, `fenced`, `unrecorded`, `unguarded`.
   */
  on?: IdempotencyEventHandlers;
}

const positiveMs = z.number().int().min(1);

/** @internal */
export const waitSchema = z.object({
  timeoutMs: z.number().int().min(0),
  pollMs: positiveMs.default(100),
});

/** A wait option after defaults. @internal */
export type ResolvedWait = z.output<typeof waitSchema>;

// One source per process: every engine in it draws from the same unique prefix.
const processOwnerTokens = createOwnerTokenSource();

const storeMethods = ['claim', 'complete', 'release', 'extendLease', 'deleteExpired'] as const;

/** @internal */
export const idempotencyOptionsSchema = z
  .object({
    store: z.custom<IdempotencyStore>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        storeMethods.every(
          (method) => typeof (value as Record<string, unknown>)[method] === 'function',
        ),
      {
        message:
          'expected an IdempotencyStore (claim, complete, release, extendLease, deleteExpired)',
      },
    ),
    clock: clockSchema.default(systemClock),
    leaseMs: positiveMs.default(30_000),
    ttlMs: positiveMs.default(24 * 60 * 60 * 1_000),
    // Capped at the longest timer Node honours (2³¹−1 ms).
    storeTimeoutMs: positiveMs.max(2_147_483_647).default(2_000),
    onStoreUnavailable: z.enum(['reject', 'proceed']).default('reject'),
    heartbeat: z
      .union([
        z.boolean(),
        z.object({ intervalMs: positiveMs.optional(), maxHoldMs: positiveMs.optional() }),
      ])
      .default(false),
    wait: z.union([z.literal(false), waitSchema]).default(false),
    createOwnerToken: functionSchema<() => string>('a function returning a string').default(
      () => processOwnerTokens,
    ),
    logger: z
      .custom<Logger>(
        (value) =>
          typeof value === 'object' &&
          value !== null &&
          typeof (value as Logger).warn === 'function' &&
          typeof (value as Logger).error === 'function',
        { message: 'expected a Logger (debug, info, warn, error)' },
      )
      .optional(),
    on: z.record(z.string(), functionSchema('an event handler')).default({}),
  })
  .superRefine((options, context) => {
    if (options.ttlMs <= options.leaseMs) {
      context.addIssue({
        code: 'custom',
        path: ['ttlMs'],
        message: 'must be greater than leaseMs',
      });
    }
    if (options.heartbeat !== false) {
      const configured = options.heartbeat === true ? undefined : options.heartbeat.maxHoldMs;
      const maxHoldMs = configured ?? 10 * options.leaseMs;
      if (maxHoldMs >= options.ttlMs) {
        context.addIssue({
          code: 'custom',
          path: ['heartbeat', 'maxHoldMs'],
          message: 'must be less than ttlMs (default 10 × leaseMs)',
        });
      }
    }
  });

/** The engine's options after validation and defaults. @internal */
export interface ResolvedIdempotencyOptions {
  readonly store: IdempotencyStore;
  readonly clock: Clock;
  readonly leaseMs: number;
  readonly ttlMs: number;
  readonly storeTimeoutMs: number;
  readonly onStoreUnavailable: 'reject' | 'proceed';
  readonly heartbeat: { readonly intervalMs: number; readonly maxHoldMs: number } | false;
  readonly wait: ResolvedWait | false;
  readonly createOwnerToken: () => string;
  /** The caller's logger, or `undefined` when none was given. */
  readonly logger: Logger | undefined;
  readonly on: IdempotencyEventHandlers;
}

/** Resolves the heartbeat's defaults from the lease. @internal */
export function resolveIdempotencyOptions(
  parsed: z.output<typeof idempotencyOptionsSchema>,
): ResolvedIdempotencyOptions {
  const { heartbeat, leaseMs } = parsed;
  return {
    ...parsed,
    logger: parsed.logger,
    on: parsed.on as IdempotencyEventHandlers,
    heartbeat:
      heartbeat === false
        ? false
        : {
            intervalMs:
              (heartbeat === true ? undefined : heartbeat.intervalMs) ??
              Math.max(1, Math.floor(leaseMs / 3)),
            maxHoldMs: (heartbeat === true ? undefined : heartbeat.maxHoldMs) ?? 10 * leaseMs,
          },
  };
}
