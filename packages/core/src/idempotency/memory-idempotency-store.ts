/**
 * An `IdempotencyStore` in the memory of one process: for tests, the demo, and single-instance
 * services. Each method answers synchronously, so a claim is atomic against every other call in
 * the process and the engine decides in the same tick. It is NOT shared between processes (use
 * the Postgres or Redis store for that). Results are kept as JSON text, so a replay behaves
 * exactly as it would from a database: a `Date` comes back as a string and a later mutation of
 * the original object does not leak into the replay.
 *
 * It is bounded by bytes, not by entries, with a default that holds a realistic day of one
 * instance. When it is full it forgets the oldest finished records first and never one in
 * flight; forgetting a record still inside its TTL means a retry of that key would run again,
 * so it is never silent: an `evicted` event for each, and a warning log at most once a minute.
 */
import { type Logger, noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import {
  type CompletedRecord,
  completedRecord,
  expiresAtOf,
  readCompletedRecord,
} from './completed-record.js';
import { defaultIdempotencyScope } from './idempotency-key.js';
import type {
  ClaimOutcome,
  ClaimRequest,
  CompleteRequest,
  ExtendLeaseRequest,
  IdempotencyStore,
  ReleaseRequest,
} from './idempotency-store.js';
import {
  type MemoryIdempotencyEvictedEvent,
  type MemoryIdempotencyStoreEvents,
  type MemoryIdempotencyStoreOptions,
  memoryIdempotencyStoreOptionsSchema,
} from './memory-idempotency-store-config.js';

// Outcomes without a field that varies are shared, not allocated per claim.
const claimedFresh: ClaimOutcome = /* @__PURE__ */ Object.freeze({
  kind: 'claimed',
  takeover: false,
});
const claimedByTakeover: ClaimOutcome = /* @__PURE__ */ Object.freeze({
  kind: 'claimed',
  takeover: true,
});

// What a record costs beyond its strings: the map entry, the record object and its numbers.
const recordOverheadBytes = 160;
const warnIntervalMs = 60_000;

const consoleWarnLogger: Logger = {
  ...noopLogger,
  warn: (fields, message) => console.warn(`[ballast] ${message ?? ''}`, fields),
};

/** A key whose operation is still running: the only records whose fields change. */
interface InFlightRecord {
  readonly fingerprint: string;
  ownerToken: string;
  leaseExpiresAt: number;
  expiresAt: number;
}

/** A record under its id: in flight, or finished and kept in its compact form. */
type StoredRecord = InFlightRecord | CompletedRecord;

/**
 * Estimated bytes of a record: its strings as UTF-16 (V8's worst case) plus a fixed overhead.
 * Worked out from the record each time rather than stored with it, so a finished record is its
 * text alone.
 */
function sizeOf(id: string, record: StoredRecord): number {
  const chars =
    typeof record === 'string'
      ? record.length
      : record.fingerprint.length + record.ownerToken.length;
  return 2 * (id.length + chars) + recordOverheadBytes;
}

function expiresAtOfRecord(record: StoredRecord): number {
  return typeof record === 'string' ? expiresAtOf(record) : record.expiresAt;
}

/**
 * The in-process idempotency store.
 *
 * @example
 * ```ts
 * const store = new MemoryIdempotencyStore({
 *   maxBytes: 64 * 1_048_576,
 *   on: { evicted: ({ withinTtl }) => withinTtl && metrics.increment('idempotency.evicted_early') },
 * });
 * const idempotency = createIdempotency({ store });
 * ```
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  // Insertion order is claim order, so the front of the map holds the oldest claims.
  readonly #records = new Map<string, StoredRecord>();
  // The record claimed last, and its id: a fast route records its result right after claiming,
  // and this spares that completion a lookup in a map of every key of the day.
  #recent: InFlightRecord | undefined;
  #recentId = '';
  readonly #maxBytes: number;
  // Eviction frees this many bytes below the bound at once: starting a walk from the front of a
  // map that keeps losing its front entries costs a skip over each hole left behind, so evicting
  // one record per claim would cost O(n) a claim.
  readonly #evictionSlack: number;
  readonly #logger: Logger;
  readonly #listeners = new Set<MemoryIdempotencyStoreEvents['evicted']>();
  #bytes = 0;
  // No record expires before this: the earliest expiry any record was given since the last sweep
  // (a lower bound, as records are completed, taken over or deleted).
  #earliestExpiry = Number.POSITIVE_INFINITY;
  #claimsSinceSweep = 0;
  #sizeAfterSweep = 0;
  #evictedSinceWarning = 0;
  #lastWarningAt = Number.NEGATIVE_INFINITY;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    const parsed = parseOptions(
      memoryIdempotencyStoreOptionsSchema,
      options,
      'new MemoryIdempotencyStore()',
    );
    this.#maxBytes = parsed.maxBytes;
    this.#evictionSlack = Math.floor(this.#maxBytes / 16);
    this.#logger = parsed.logger ?? consoleWarnLogger;
    if (parsed.on.evicted) this.#listeners.add(parsed.on.evicted);
  }

  /** Number of records held, expired ones included until they are swept. */
  get size(): number {
    return this.#records.size;
  }

  /** Estimated bytes the records hold (see `maxBytes`). */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The bound `bytes` is kept under: the `maxBytes` option, or
   * `defaultMemoryIdempotencyMaxBytes` (256 MiB) when none was given.
   */
  get maxBytes(): number {
    return this.#maxBytes;
  }

  /**
   * Adds a listener for `evicted`; returns a function that removes it. A listener that throws
   * is logged and ignored.
   */
  on(event: 'evicted', listener: MemoryIdempotencyStoreEvents['evicted']): () => void {
    if (event !== 'evicted' || typeof listener !== 'function') {
      throw new TypeError('MemoryIdempotencyStore.on(): expected "evicted" and a function');
    }
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  claim(request: ClaimRequest): ClaimOutcome {
    const id = recordId(request.scope, request.key);
    const existing = this.#live(id, request.now);
    if (existing === undefined) {
      this.#housekeep(request.now);
      const record: InFlightRecord = {
        fingerprint: request.fingerprint,
        ownerToken: request.ownerToken,
        leaseExpiresAt: request.leaseExpiresAt,
        expiresAt: request.expiresAt,
      };
      this.#bytes += sizeOf(id, record);
      this.#records.set(id, record);
      this.#noteExpiry(request.expiresAt);
      this.#recent = record;
      this.#recentId = id;
      return claimedFresh;
    }
    if (typeof existing === 'string') {
      const { fingerprint, result } = readCompletedRecord(existing);
      return { kind: 'completed', fingerprint, result };
    }
    // Another request's record is never taken over, even with its lease over: the engine must be
    // able to answer "key reused" rather than run a different request under the same key.
    if (existing.fingerprint !== request.fingerprint || existing.leaseExpiresAt > request.now) {
      return {
        kind: 'in-flight',
        fingerprint: existing.fingerprint,
        leaseExpiresAt: existing.leaseExpiresAt,
      };
    }
    this.#bytes -= sizeOf(id, existing);
    existing.ownerToken = request.ownerToken;
    this.#bytes += sizeOf(id, existing);
    existing.leaseExpiresAt = request.leaseExpiresAt;
    existing.expiresAt = request.expiresAt;
    this.#noteExpiry(request.expiresAt);
    return claimedByTakeover;
  }

  complete(request: CompleteRequest): boolean {
    const id = recordId(request.scope, request.key);
    const existing = this.#live(id, request.now);
    if (existing === undefined) return false;
    if (typeof existing === 'string') {
      // Completing twice with one owner token is a retried record whose first attempt landed.
      return readCompletedRecord(existing).ownerToken === request.ownerToken;
    }
    if (existing.ownerToken !== request.ownerToken) return false;
    const record = completedRecord(
      request.expiresAt,
      existing.fingerprint,
      existing.ownerToken,
      resultJsonOf(request),
    );
    // Set over the same id, the record keeps its place in the map: claim order, for eviction.
    this.#records.set(id, record);
    this.#noteExpiry(request.expiresAt);
    this.#bytes += sizeOf(id, record) - sizeOf(id, existing);
    if (existing === this.#recent) this.#recent = undefined;
    return true;
  }

  release(request: ReleaseRequest): boolean {
    const id = recordId(request.scope, request.key);
    const existing = this.#find(id);
    if (!isHeldBy(existing, request.ownerToken)) return false;
    this.#delete(id, existing);
    return true;
  }

  extendLease(request: ExtendLeaseRequest): boolean {
    const existing = this.#find(recordId(request.scope, request.key));
    if (!isHeldBy(existing, request.ownerToken)) return false;
    existing.leaseExpiresAt = request.leaseExpiresAt;
    return true;
  }

  deleteExpired(now: number): number {
    return this.#sweep(now);
  }

  /** Always ready: there is nothing to connect to or migrate. */
  check(): void {}

  #delete(id: string, record: StoredRecord): void {
    this.#records.delete(id);
    this.#bytes -= sizeOf(id, record);
    if (record === this.#recent) this.#recent = undefined;
  }

  /** The record of `id`, expired or not. */
  #find(id: string): StoredRecord | undefined {
    const recent = this.#recent;
    return recent !== undefined && this.#recentId === id ? recent : this.#records.get(id);
  }

  #live(id: string, now: number): StoredRecord | undefined {
    const record = this.#find(id);
    if (record !== undefined && expiresAtOfRecord(record) <= now) {
      this.#delete(id, record);
      return undefined;
    }
    return record;
  }

  #noteExpiry(expiresAt: number): void {
    if (expiresAt < this.#earliestExpiry) this.#earliestExpiry = expiresAt;
  }

  #sweep(now: number): number {
    let deleted = 0;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [id, record] of this.#records) {
      const expiresAt = expiresAtOfRecord(record);
      if (expiresAt <= now) {
        this.#delete(id, record);
        deleted++;
      } else if (expiresAt < earliest) {
        earliest = expiresAt;
      }
    }
    this.#earliestExpiry = earliest;
    return deleted;
  }

  /**
   * Keeps every claim O(1) amortised, with no timer per key: expired records are dropped when
   * read (`#live`), swept in full after as many new claims as there were records after the
   * last sweep (at least 1 024), and, when the store is full, the oldest expired or completed
   * records are forgotten from the front of the map, a sixteenth of the bound at a time.
   *
   * A sweep that could find nothing is skipped: before the earliest expiry any record has, none
   * has expired, which is every sweep of a store younger than its TTL. Each read every record
   * the store kept, about 700 instructions a record: about 1 000 instructions a request over
   * the first 12 000 requests of the Fastify bench server (callgrind, issue 11).
   */
  #housekeep(now: number): void {
    const records = this.#records;
    if (++this.#claimsSinceSweep >= Math.max(1_024, this.#sizeAfterSweep)) {
      this.#claimsSinceSweep = 0;
      if (now >= this.#earliestExpiry) this.#sweep(now);
      this.#sizeAfterSweep = records.size;
    }
    if (this.#bytes < this.#maxBytes) return;
    const target = this.#maxBytes - this.#evictionSlack;
    for (const [id, record] of records) {
      if (typeof record === 'string' || record.expiresAt <= now) this.#evict(id, record, now);
      if (this.#bytes < target) break;
    }
    this.#warnOfEvictions(now);
  }

  #evict(id: string, record: StoredRecord, now: number): void {
    this.#delete(id, record);
    const withinTtl = expiresAtOfRecord(record) > now;
    if (withinTtl) this.#evictedSinceWarning++;
    if (this.#listeners.size === 0) return;
    const event: MemoryIdempotencyEvictedEvent = {
      ...keyOf(id),
      withinTtl,
      bytes: sizeOf(id, record),
    };
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        // A metrics hook must never fail the claim that triggered the eviction.
        this.#logger.warn(
          { event: 'evicted', err: error },
          'idempotency: an event handler threw; ignored',
        );
      }
    }
  }

  #warnOfEvictions(now: number): void {
    if (this.#evictedSinceWarning === 0 || now - this.#lastWarningAt < warnIntervalMs) return;
    this.#lastWarningAt = now;
    this.#logger.warn(
      {
        evicted: this.#evictedSinceWarning,
        maxBytes: this.#maxBytes,
        records: this.#records.size,
      },
      'idempotency: MemoryIdempotencyStore is full and forgot records still inside their TTL; a retry of those keys runs again. Raise maxBytes or use a shared store.',
    );
    this.#evictedSinceWarning = 0;
  }
}

function recordId(scope: string, key: string): string {
  // A key of the default scope is its own id: the engine hands the store the same string on
  // every call for one request, so the map hashes it once. Any other pair is spelled with a
  // leading NUL, which no such id starts with, and the scope's length, so no choice of scope
  // and key can produce another pair's id.
  if (scope === defaultIdempotencyScope && key.charCodeAt(0) !== 0) return key;
  return `\u0000${scope.length}:${scope}:${key}`;
}

/** The scope and key an id was made of (see {@link recordId}). */
function keyOf(id: string): { scope: string; key: string } {
  if (id.charCodeAt(0) !== 0) return { scope: defaultIdempotencyScope, key: id };
  const colon = id.indexOf(':');
  const scopeStart = colon + 1;
  const scopeEnd = scopeStart + Number(id.slice(1, colon));
  return { scope: id.slice(scopeStart, scopeEnd), key: id.slice(scopeEnd + 1) };
}

function isHeldBy(record: StoredRecord | undefined, ownerToken: string): record is InFlightRecord {
  return record !== undefined && typeof record !== 'string' && record.ownerToken === ownerToken;
}

/**
 * The JSON text a finished record keeps: the text the caller wrote (the server's guard writes
 * its responses' text by hand), else `result` serialised, so a replay behaves as it would from a
 * database. Throws as `JSON.stringify` does when `result` cannot be serialised (a `bigint`, a
 * cycle); a `result` with no JSON form (`undefined`) is kept as `null`.
 */
function resultJsonOf(request: CompleteRequest): string {
  return typeof request.resultJson === 'string'
    ? request.resultJson
    : (JSON.stringify(request.result) ?? 'null');
}
