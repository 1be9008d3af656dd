/**
 * An outbox in the memory of one process, both sides of it: the writer an application publishes
 * through and the store a relay claims from. For tests, the demo and single-process apps that
 * want the relay's batching, ordering and back-off without a database.
 *
 * Its transaction is honest about what it is: `outbox.transaction(fn)` buffers what `fn`
 * publishes and adds it only if `fn` resolves, so "rolled back with the business write" holds
 * when the business write happens in the same `fn` (and throws to roll back). It does not make
 * some other store's writes atomic with it; for that, the outbox must live in the same database
 * (the Postgres outbox). Nothing survives a restart of the process.
 */

import { BallastError } from '../errors/ballast-error.js';
import { checkEnvelope } from '../events/envelope-check.js';
import { envelopeJson } from '../events/envelope-json.js';
import type { EventEnvelope } from '../events/event-envelope.js';
import { type Logger, noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import type {
  OutboxClaimRequest,
  OutboxDeadLetter,
  OutboxEntry,
  OutboxParkRequest,
  OutboxRedriveFilter,
  OutboxReleaseRequest,
  OutboxSettleRequest,
  OutboxStore,
  OutboxWriter,
} from './outbox-store.js';

/** A memory outbox transaction: what `fn` published, added on commit. Opaque to callers. */
export interface MemoryOutboxTransaction {
  /** @internal */
  readonly '~pending': EventEnvelope[];
  /** @internal */
  '~state': 'open' | 'committed' | 'rolled-back';
}

/** Options for {@link MemoryOutbox}. */
export interface MemoryOutboxOptions {
  /**
   * Most unsent events; a publish that would go past it rejects with `QUEUE_FULL` (retryable),
   * so a dead relay or engine turns into back-pressure instead of unbounded memory.
   * Default `100_000`.
   */
  maxDepth?: number;
  /** Receives listener failures. Default: none. */
  logger?: Logger;
}

interface Row {
  readonly event: EventEnvelope;
  owner: string | undefined;
  leaseExpiresAt: number;
  retryAt: number;
  attempts: number;
  lastError: string | undefined;
  sentAt: number;
  /** When it was parked as a dead letter; `undefined` while live. */
  failedAt: number | undefined;
}

/** An entry as {@link MemoryOutbox.entries} shows it, for tests and dashboards. */
export interface MemoryOutboxRow {
  readonly event: EventEnvelope;
  readonly sent: boolean;
  readonly attempts: number;
  readonly lastError: string | undefined;
  /** Parked as a dead letter (until redriven). */
  readonly dead: boolean;
}

const optionsSchema = v.object({
  maxDepth: v.optional(v.number({ min: 1, integer: true })),
  logger: v.optional(v.logger()),
});

const claimSchema = v.object({
  owner: v.string({ minLength: 1 }),
  limit: v.number({ min: 1, integer: true }),
  now: v.number(),
  leaseExpiresAt: v.number(),
});

const redriveSchema = v.object({
  ids: v.optional(v.array(v.string({ minLength: 1 }))),
  type: v.optional(v.string({ minLength: 1 })),
  since: v.optional(v.date()),
});

const deadLettersSchema = v.object({
  limit: v.optional(v.number({ min: 1, max: 1_000, integer: true })),
});

function transactionState(transaction: unknown): MemoryOutboxTransaction {
  const candidate = transaction as MemoryOutboxTransaction | null;
  if (!Array.isArray(candidate?.['~pending'])) {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'outbox.publish(): "transaction" must come from outbox.transaction()',
      details: { field: 'transaction' },
    });
  }
  if (candidate['~state'] !== 'open') {
    throw new BallastError('INVALID_OPTIONS', {
      message: `outbox.publish(): the transaction is already ${candidate['~state']}`,
      details: { field: 'transaction' },
    });
  }
  return candidate;
}

/**
 * The in-memory outbox: `OutboxWriter<MemoryOutboxTransaction>` and `OutboxStore`.
 *
 * @example
 * ```ts
 * const outbox = new MemoryOutbox();
 * await outbox.transaction(async (trx) => {
 *   orders.set(order.id, order);
 *   await outbox.publish(trx, OrderCreated.create({ orderId: order.id }, { key: order.id }));
 * });
 * ```
 */
export class MemoryOutbox implements OutboxWriter<MemoryOutboxTransaction>, OutboxStore {
  /** Unsent rows, in publication order (a `Map` keeps insertion order). */
  readonly #pending = new Map<string, Row>();
  readonly #sent = new Map<string, Row>();
  readonly #listeners = new Set<() => void>();
  /** How many of `#pending` are parked, so depth stays O(1). */
  #dead = 0;
  readonly #maxDepth: number;
  readonly #logger: Logger;

  constructor(options: MemoryOutboxOptions = {}) {
    const parsed = parseOptions(optionsSchema, options, 'new MemoryOutbox()');
    this.#maxDepth = parsed.maxDepth ?? 100_000;
    this.#logger = parsed.logger ?? noopLogger;
  }

  /**
   * Runs `fn` with a transaction; what it publishes is added when `fn` resolves and dropped
   * when it rejects (the rejection propagates).
   */
  async transaction<T>(fn: (transaction: MemoryOutboxTransaction) => Promise<T> | T): Promise<T> {
    if (typeof fn !== 'function') {
      throw new BallastError('INVALID_OPTIONS', {
        message: 'Invalid options for outbox.transaction(): "fn": expected a function',
        details: { field: 'fn' },
      });
    }
    const transaction: MemoryOutboxTransaction = { '~pending': [], '~state': 'open' };
    let result: T;
    try {
      result = await fn(transaction);
    } catch (error) {
      transaction['~state'] = 'rolled-back';
      throw error;
    }
    this.#commit(transaction);
    return result;
  }

  async publish(transaction: MemoryOutboxTransaction, event: EventEnvelope): Promise<void> {
    await this.publishMany(transaction, [event]);
  }

  async publishMany(
    transaction: MemoryOutboxTransaction,
    events: readonly EventEnvelope[],
  ): Promise<void> {
    const state = transactionState(transaction);
    if (!Array.isArray(events)) {
      throw new BallastError('INVALID_OPTIONS', {
        message: 'outbox.publishMany(): "events" must be an array',
        details: { field: 'events' },
      });
    }
    const checked = events.map((event) => checkEnvelope(event));
    // As the Postgres outbox does: such an event must fail in the test, not first in production.
    for (const event of checked) envelopeJson(event, 'outbox.publish()', 'payload');
    const ids = new Set(state['~pending'].map((event) => event.id));
    for (const event of checked) {
      if (ids.has(event.id) || this.#pending.has(event.id) || this.#sent.has(event.id)) {
        throw new BallastError('ALREADY_EXISTS', {
          message: `outbox.publish(): event ${event.id} is already in the outbox`,
          details: { eventId: event.id },
        });
      }
      ids.add(event.id);
    }
    const live = this.#liveCount();
    const depth = live + state['~pending'].length + checked.length;
    if (depth > this.#maxDepth) {
      throw new BallastError('QUEUE_FULL', {
        message: `outbox.publish(): the outbox holds ${live} unsent events (maxDepth ${this.#maxDepth})`,
        details: { depth: live, maxDepth: this.#maxDepth },
      });
    }
    state['~pending'].push(...checked);
  }

  #commit(transaction: MemoryOutboxTransaction): void {
    transaction['~state'] = 'committed';
    const events = transaction['~pending'];
    if (events.length === 0) return;
    for (const event of events) {
      this.#pending.set(event.id, {
        event,
        owner: undefined,
        leaseExpiresAt: 0,
        retryAt: 0,
        attempts: 0,
        lastError: undefined,
        sentAt: 0,
        failedAt: undefined,
      });
    }
    this.#notify();
  }

  #notify(): void {
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (error) {
        // A wake-up hint failing must not fail the commit that already happened.
        this.#logger.warn({ err: error }, 'outbox: onCommit listener threw; ignored');
      }
    }
  }

  async claim(request: OutboxClaimRequest): Promise<readonly OutboxEntry[]> {
    const { owner, limit, now, leaseExpiresAt } = parseOptions(
      claimSchema,
      request,
      'outbox.claim()',
    );
    const blocked = new Set<string>();
    const claimed: OutboxEntry[] = [];
    for (const row of this.#pending.values()) {
      if (claimed.length >= limit) break;
      const key = row.event.key;
      if (key !== undefined && blocked.has(key)) continue;
      const held = row.owner !== undefined && row.leaseExpiresAt > now;
      if (held || row.retryAt > now || row.failedAt !== undefined) {
        // Per-key order: nothing after an unavailable (or dead) entry of the same key may go first.
        if (key !== undefined) blocked.add(key);
        continue;
      }
      row.owner = owner;
      row.leaseExpiresAt = leaseExpiresAt;
      claimed.push({ event: row.event, attempts: row.attempts });
    }
    return claimed;
  }

  async markSent(request: OutboxSettleRequest): Promise<number> {
    let changed = 0;
    for (const id of request.ids) {
      const row = this.#pending.get(id);
      if (row === undefined || row.owner !== request.owner) continue;
      this.#pending.delete(id);
      row.owner = undefined;
      row.sentAt = request.now;
      this.#sent.set(id, row);
      changed += 1;
    }
    return changed;
  }

  async release(request: OutboxReleaseRequest): Promise<number> {
    let changed = 0;
    for (const id of request.ids) {
      const row = this.#pending.get(id);
      if (row === undefined || row.owner !== request.owner) continue;
      row.owner = undefined;
      row.retryAt = request.retryAt;
      if (request.countAttempt !== false) row.attempts += 1;
      row.lastError = request.error;
      changed += 1;
    }
    return changed;
  }

  async park(request: OutboxParkRequest): Promise<number> {
    let changed = 0;
    for (const id of request.ids) {
      const row = this.#pending.get(id);
      if (row === undefined || row.owner !== request.owner) continue;
      row.owner = undefined;
      row.attempts += 1;
      row.lastError = request.error;
      row.failedAt = request.now;
      this.#dead += 1;
      changed += 1;
    }
    return changed;
  }

  async deadLetters(
    options: { readonly limit?: number } = {},
  ): Promise<readonly OutboxDeadLetter[]> {
    const { limit = 100 } = parseOptions(deadLettersSchema, options, 'outbox.deadLetters()');
    const dead: OutboxDeadLetter[] = [];
    for (const row of this.#pending.values()) {
      if (dead.length >= limit) break;
      if (row.failedAt === undefined) continue;
      dead.push({
        event: row.event,
        attempts: row.attempts,
        lastError: row.lastError,
        failedAt: row.failedAt,
      });
    }
    return dead;
  }

  async redrive(filter: OutboxRedriveFilter = {}): Promise<number> {
    const { ids, type, since } = parseOptions(redriveSchema, filter, 'outbox.redrive()');
    const wanted = ids === undefined ? undefined : new Set(ids);
    let changed = 0;
    for (const row of this.#pending.values()) {
      if (row.failedAt === undefined) continue;
      if (wanted !== undefined && !wanted.has(row.event.id)) continue;
      if (type !== undefined && row.event.type !== type) continue;
      if (since !== undefined && row.failedAt < since.getTime()) continue;
      row.failedAt = undefined;
      this.#dead -= 1;
      row.attempts = 0;
      row.retryAt = 0;
      changed += 1;
    }
    if (changed > 0) this.#notify();
    return changed;
  }

  /** Unsent entries that are not dead. */
  async depth(): Promise<number> {
    return this.#liveCount();
  }

  #liveCount(): number {
    return this.#pending.size - this.#dead;
  }

  async deleteSent(request: { readonly before: number; readonly limit: number }): Promise<number> {
    let deleted = 0;
    for (const [id, row] of this.#sent) {
      if (deleted >= request.limit) break;
      // Sent rows are in the order they were sent, so the first young one ends the sweep.
      if (row.sentAt >= request.before) break;
      this.#sent.delete(id);
      deleted += 1;
    }
    return deleted;
  }

  onCommit(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Every entry still kept (unsent first, then sent), for tests and dashboards. */
  entries(): readonly MemoryOutboxRow[] {
    return [...this.#pending.values(), ...this.#sent.values()].map((row) => ({
      event: row.event,
      sent: this.#sent.has(row.event.id),
      attempts: row.attempts,
      lastError: row.lastError,
      dead: row.failedAt !== undefined,
    }));
  }
}
