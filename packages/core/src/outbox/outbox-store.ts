/**
 * The outbox ports. An application writes events into the outbox inside its own business
 * transaction (`OutboxWriter`), so an event exists exactly when the write that asked for it
 * committed. Relays move committed events to a queue engine through the relay side of the same
 * store (`OutboxStore`). Implementations: memory (core, one process) and Postgres/Kysely
 * (`@ballast/adapters/postgres`).
 */
import type { EventEnvelope } from '../events/event-envelope.js';

/**
 * The write side, used by application code. `Transaction` is the store's transaction type
 * (a Kysely `Transaction` for Postgres); the event is rolled back with it.
 */
export interface OutboxWriter<Transaction> {
  /** Adds one event to the outbox in `transaction`. Rejects with `QUEUE_FULL` past `maxDepth`. */
  publish(transaction: Transaction, event: EventEnvelope): Promise<void>;
  /** Adds several events in `transaction`, in order, in one round trip where the store can. */
  publishMany(transaction: Transaction, events: readonly EventEnvelope[]): Promise<void>;
}

/** An event the relay has claimed, with what the store knows of its earlier attempts. */
export interface OutboxEntry {
  readonly event: EventEnvelope;
  /**
   * Failed hand-offs charged to this event so far. A relay charges a failure to the event only
   * when it is the event's fault (the engine took other events of the same batch, or refused
   * this one as non-retryable); an engine that is down charges nobody.
   */
  readonly attempts: number;
}

/** Claiming a batch. Times are epoch milliseconds from the relay's `Clock`. */
export interface OutboxClaimRequest {
  /** Random token naming this relay's claim; `markSent` and `release` must present it. */
  readonly owner: string;
  /** Most entries to return. */
  readonly limit: number;
  readonly now: number;
  /** When the claim lapses, so entries held by a relay that died are claimed again. */
  readonly leaseExpiresAt: number;
}

/** Finishing (or giving back) claimed entries, fenced by the claim's owner token. */
export interface OutboxSettleRequest {
  readonly owner: string;
  /** Event ids. */
  readonly ids: readonly string[];
  readonly now: number;
}

/** Giving claimed entries back after a failed hand-off, to be retried no earlier than `retryAt`. */
export interface OutboxReleaseRequest extends OutboxSettleRequest {
  readonly retryAt: number;
  /** A safe one-line description of the failure, kept on the entry for operators. */
  readonly error?: string;
  /**
   * Whether this failure counts as one of the entries' `attempts`. Default `true`. A relay
   * passes `false` for entries it gives back untried or when the engine, not the entry, failed.
   */
  readonly countAttempt?: boolean;
}

/** Parking claimed entries as dead letters: never claimed again until redriven. */
export interface OutboxParkRequest extends OutboxSettleRequest {
  /** A safe one-line description of the last failure, kept on the entry for operators. */
  readonly error: string;
}

/** A parked (dead) entry, as {@link OutboxStore.deadLetters} lists it. */
export interface OutboxDeadLetter {
  readonly event: EventEnvelope;
  /** Failed hand-offs charged to the event, the last one included. */
  readonly attempts: number;
  /** The last failure, as the relay described it. */
  readonly lastError: string | undefined;
  /** When it was parked, epoch ms. */
  readonly failedAt: number;
}

/** Which dead entries {@link OutboxStore.redrive} gives back to the relay. All when empty. */
export interface OutboxRedriveFilter {
  /** Only these event ids. */
  readonly ids?: readonly string[];
  /** Only this event type (`'order.created.v1'`). */
  readonly type?: string;
  /** Only those parked at or after this instant. */
  readonly since?: Date;
}

/**
 * How a relay tells a store whose writers signal commits only while some relay sleeps that it
 * is going to sleep or is awake again (Postgres: a notifying commit serialises every other
 * notifying commit of the database, so writers notify only while a relay waits for one).
 */
export interface CommitWatch {
  /**
   * The relay found nothing to claim and wants to sleep. Resolves `true` once every later commit
   * either wakes it or commits before a claim the relay starts after this resolves: the relay
   * claims once more, then sleeps. Resolves `false` when that could not be made sure in time
   * (a writer kept its transaction open); the relay then claims again soon instead of sleeping.
   */
  sleeping(): Promise<boolean>;
  /** The relay is claiming again: writers need not signal on its account any more. */
  awake(): void;
  /** Stops watching (the relay stopped); other relays are woken to take over. */
  close(): void;
}

/**
 * The relay side of an outbox.
 *
 * Contract every implementation must meet (a shared contract suite checks it):
 * - `claim` returns only committed, unsent entries that nobody else holds under a live lease,
 *   and whose `retryAt` has passed. Concurrent claims never return the same entry (Postgres:
 *   `FOR UPDATE SKIP LOCKED`).
 * - **Per-key order**: an entry with a `key` is returned only when every earlier entry with the
 *   same key is sent; a batch holds a key's entries in publication order. Entries without a key
 *   come in publication order but carry no guarantee.
 * - `markSent`, `release` and `park` change only entries still held by `owner` and return how
 *   many they changed (a relay whose lease lapsed learns it lost them).
 * - A parked (dead) entry is never claimed again until `redrive` gives it back, and it blocks
 *   every later entry of its `key` meanwhile (per-key order holds across a dead letter).
 * - `depth` counts unsent entries that are not dead.
 * - `deleteSent` removes sent entries older than `before`, at most `limit`, and returns how many.
 */
export interface OutboxStore {
  claim(request: OutboxClaimRequest): Promise<readonly OutboxEntry[]>;
  markSent(request: OutboxSettleRequest): Promise<number>;
  release(request: OutboxReleaseRequest): Promise<number>;
  depth(): Promise<number>;
  deleteSent(request: { readonly before: number; readonly limit: number }): Promise<number>;
  /**
   * Parks held entries as dead letters (the attempt that failed is counted). Optional for
   * stores written before dead letters; a relay over a store without it keeps retrying.
   */
  park?(request: OutboxParkRequest): Promise<number>;
  /** Dead entries, oldest first, at most `limit` (default 100, at most 1 000). */
  deadLetters?(options?: { readonly limit?: number }): Promise<readonly OutboxDeadLetter[]>;
  /**
   * Gives dead entries matching `filter` back to the relay with their attempts reset (after a
   * fix), wakes relays, and returns how many. The last error stays on the entry until it is sent.
   */
  redrive?(filter?: OutboxRedriveFilter): Promise<number>;
  /**
   * Optional wake-up hint: calls `listener` soon after new entries commit (Postgres
   * `LISTEN/NOTIFY`), so a relay need not poll an empty table often. Returns a function that
   * unsubscribes. A relay also polls slowly, so a lost notification only delays delivery.
   */
  onCommit?(listener: () => void): () => void;
  /**
   * Optional, used by relays instead of `onCommit` when present: the same wake-up hint from a
   * store whose writers signal only while a relay says it sleeps (see {@link CommitWatch}).
   */
  watchCommits?(listener: () => void): CommitWatch;
}
