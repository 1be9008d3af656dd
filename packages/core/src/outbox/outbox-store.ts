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
  /** Relay attempts so far that failed to hand this event to the engine. */
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
 * - `markSent` and `release` change only entries still held by `owner` and return how many they
 *   changed (a relay whose lease lapsed learns it lost them).
 * - `depth` counts unsent entries.
 * - `deleteSent` removes sent entries older than `before`, at most `limit`, and returns how many.
 */
export interface OutboxStore {
  claim(request: OutboxClaimRequest): Promise<readonly OutboxEntry[]>;
  markSent(request: OutboxSettleRequest): Promise<number>;
  release(request: OutboxReleaseRequest): Promise<number>;
  depth(): Promise<number>;
  deleteSent(request: { readonly before: number; readonly limit: number }): Promise<number>;
  /**
   * Optional wake-up hint: calls `listener` soon after new entries commit (Postgres
   * `LISTEN/NOTIFY`), so a relay need not poll an empty table often. Returns a function that
   * unsubscribes. A relay also polls slowly, so a lost notification only delays delivery.
   */
  onCommit?(listener: () => void): () => void;
}
