/**
 * The idempotency engine's configuration: its options, their validation and their defaults,
 * kept apart from the engine's behaviour (`idempotency-engine.ts`) so that file reads top to
 * bottom. Every duration is in milliseconds.
 */
import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import type { Logger } from '../logging/logger.js';
import * as v from '../options/small-validator.js';
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

const positiveMs = v.number({ integer: true, min: 1 });

/** @internal */
export const waitSchema = v.object({
  timeoutMs: v.number({ integer: true, min: 0 }),
  pollMs: v.optional(positiveMs, 100),
});

/** A wait option after defaults. @internal */
export type ResolvedWait = v.Infer<typeof waitSchema>;

// One source per process: every engine in it draws from the same unique prefix.
const processOwnerTokens = /* @__PURE__ */ createOwnerTokenSource();

/** @internal */
export const idempotencyOptionsSchema = v.refine(
  v.object({
    store: v.methods<IdempotencyStore>(
      ['claim', 'complete', 'release', 'extendLease', 'deleteExpired'],
      'an IdempotencyStore (claim, complete, release, extendLease, deleteExpired)',
    ),
    clock: v.optional(v.clock(), systemClock),
    leaseMs: v.optional(positiveMs, 30_000),
    // A literal (one day): arithmetic here would make a bundler keep this schema everywhere.
    ttlMs: v.optional(positiveMs, 86_400_000),
    storeTimeoutMs: v.optional(v.durationMs({ min: 1 }), 2_000),
    onStoreUnavailable: v.optional(v.literal('reject', 'proceed'), 'reject'),
    heartbeat: v.optional(
      v.union(
        v.boolean(),
        v.object({ intervalMs: v.optional(positiveMs), maxHoldMs: v.optional(positiveMs) }),
      ),
      false,
    ),
    wait: v.optional(v.union(v.literal(false), waitSchema), false),
    createOwnerToken: v.optional(
      v.func<() => string>('a function returning a string'),
      processOwnerTokens,
    ),
    logger: v.optional(v.methods<Logger>(['warn', 'error'], 'a Logger (debug, info, warn, error)')),
    on: v.optional(v.record(v.func('an event handler')), {}),
  }),
  (options) => {
    if (options.ttlMs <= options.leaseMs) {
      return { path: ['ttlMs'], message: 'must be greater than leaseMs' };
    }
    if (options.heartbeat !== false) {
      const configured = options.heartbeat === true ? undefined : options.heartbeat.maxHoldMs;
      const maxHoldMs = configured ?? 10 * options.leaseMs;
      if (maxHoldMs >= options.ttlMs) {
        return {
          path: ['heartbeat', 'maxHoldMs'],
          message: 'must be less than ttlMs (default 10 × leaseMs)',
        };
      }
    }
    return undefined;
  },
);

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
  parsed: v.Infer<typeof idempotencyOptionsSchema>,
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
