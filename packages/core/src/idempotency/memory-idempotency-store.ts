/**
 * An `IdempotencyStore` in the memory of one process: for tests, the demo, and single-instance
 * services. Each method answers synchronously, so a claim is atomic against every other call in
 * the process and the engine decides in the same tick. It is NOT shared between processes (use
 * the Postgres or Redis store for that). Results are kept as JSON text, so a replay behaves
 * exactly as it would from a database: a `Date` comes back as a string and a later mutation of
 * the original object does not leak into the replay.
 */
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import { defaultIdempotencyScope } from './idempotency-key.js';
import type {
  ClaimOutcome,
  ClaimRequest,
  CompleteRequest,
  ExtendLeaseRequest,
  IdempotencyStore,
  ReleaseRequest,
} from './idempotency-store.js';

/** Options for {@link MemoryIdempotencyStore}. */
export interface MemoryIdempotencyStoreOptions {
  /**
   * Most records kept. When full, the records claimed longest ago that are expired or completed
   * are forgotten first, about a sixteenth of the store at a time (a retry of a forgotten key
   * runs again). Keys in flight are never evicted, so the count may exceed this by the number of
   * requests in flight. Default `10_000`.
   */
  maxEntries?: number;
}

const optionsSchema = v.object({
  maxEntries: v.optional(v.number({ integer: true, min: 1 }), 10_000),
});

// Outcomes without a field that varies are shared, not allocated per claim.
const claimedFresh: ClaimOutcome = Object.freeze({ kind: 'claimed', takeover: false });
const claimedByTakeover: ClaimOutcome = Object.freeze({ kind: 'claimed', takeover: true });

interface MemoryRecord {
  readonly fingerprint: string;
  ownerToken: string;
  state: 'in-flight' | 'completed';
  leaseExpiresAt: number;
  expiresAt: number;
  resultJson: string;
}

/**
 * The in-process idempotency store.
 *
 * @example
 * ```ts
 * const idempotency = createIdempotency({ store: new MemoryIdempotencyStore() });
 * ```
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  // Insertion order is claim order, so the front of the map holds the oldest claims.
  readonly #records = new Map<string, MemoryRecord>();
  readonly #maxEntries: number;
  // Eviction frees this many records below the bound at once: starting a walk from the front
  // of a map that keeps losing its front entries costs a skip over each hole left behind, so
  // evicting one record per claim would cost O(n) a claim.
  readonly #evictionSlack: number;
  #claimsSinceSweep = 0;
  #sizeAfterSweep = 0;

  constructor(options: MemoryIdempotencyStoreOptions = {}) {
    this.#maxEntries = parseOptions(
      optionsSchema,
      options,
      'new MemoryIdempotencyStore()',
    ).maxEntries;
    this.#evictionSlack = Math.floor(this.#maxEntries / 16);
  }

  /** Number of records held, expired ones included until they are swept. */
  get size(): number {
    return this.#records.size;
  }

  claim(request: ClaimRequest): ClaimOutcome {
    const id = recordId(request.scope, request.key);
    const existing = this.#live(id, request.now);
    if (existing === undefined) {
      this.#housekeep(request.now);
      this.#records.set(id, {
        fingerprint: request.fingerprint,
        ownerToken: request.ownerToken,
        state: 'in-flight',
        leaseExpiresAt: request.leaseExpiresAt,
        expiresAt: request.expiresAt,
        resultJson: 'null',
      });
      return claimedFresh;
    }
    if (existing.state === 'completed') {
      return {
        kind: 'completed',
        fingerprint: existing.fingerprint,
        result: JSON.parse(existing.resultJson),
      };
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
    existing.ownerToken = request.ownerToken;
    existing.leaseExpiresAt = request.leaseExpiresAt;
    existing.expiresAt = request.expiresAt;
    return claimedByTakeover;
  }

  complete(request: CompleteRequest): boolean {
    const id = recordId(request.scope, request.key);
    const existing = this.#live(id, request.now);
    if (!isHeldBy(existing, request.ownerToken)) return false;
    existing.state = 'completed';
    // A completed record is never claimed by token again; its token need not be kept.
    existing.ownerToken = '';
    existing.resultJson = JSON.stringify(request.result) ?? 'null';
    existing.expiresAt = request.expiresAt;
    return true;
  }

  release(request: ReleaseRequest): boolean {
    const id = recordId(request.scope, request.key);
    if (!isHeldBy(this.#records.get(id), request.ownerToken)) return false;
    this.#records.delete(id);
    return true;
  }

  extendLease(request: ExtendLeaseRequest): boolean {
    const existing = this.#records.get(recordId(request.scope, request.key));
    if (!isHeldBy(existing, request.ownerToken)) return false;
    existing.leaseExpiresAt = request.leaseExpiresAt;
    return true;
  }

  deleteExpired(now: number): number {
    return this.#sweep(now);
  }

  #live(id: string, now: number): MemoryRecord | undefined {
    const record = this.#records.get(id);
    if (record !== undefined && record.expiresAt <= now) {
      this.#records.delete(id);
      return undefined;
    }
    return record;
  }

  #sweep(now: number): number {
    let deleted = 0;
    for (const [id, record] of this.#records) {
      if (record.expiresAt <= now) {
        this.#records.delete(id);
        deleted++;
      }
    }
    return deleted;
  }

  /**
   * Keeps every claim O(1) amortised, with no timer per key: expired records are dropped when
   * read (`#live`), swept in full after as many new claims as there were records after the
   * last sweep (at least 1 024), and, when the store is full, the oldest expired or completed
   * records are forgotten from the front of the map, a sixteenth of the bound at a time.
   */
  #housekeep(now: number): void {
    const records = this.#records;
    if (++this.#claimsSinceSweep >= Math.max(1_024, this.#sizeAfterSweep)) {
      this.#claimsSinceSweep = 0;
      this.#sweep(now);
      this.#sizeAfterSweep = records.size;
    }
    if (records.size < this.#maxEntries) return;
    const target = this.#maxEntries - this.#evictionSlack;
    for (const [id, record] of records) {
      if (record.state === 'completed' || record.expiresAt <= now) records.delete(id);
      if (records.size < target) return;
    }
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

function isHeldBy(record: MemoryRecord | undefined, ownerToken: string): record is MemoryRecord {
  return record !== undefined && record.state === 'in-flight' && record.ownerToken === ownerToken;
}
