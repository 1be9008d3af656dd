/**
 * What `MemoryIdempotencyStore` can be told: its byte bound, its logger and its `evicted`
 * event, and the schema that checks them, apart from the store's behaviour.
 */
import type { Logger } from '../logging/logger.js';
import * as v from '../options/small-validator.js';

/** A record the memory store forgot to make room. */
export interface MemoryIdempotencyEvictedEvent {
  readonly scope: string;
  readonly key: string;
  /**
   * True when the record was still inside its TTL: a retry of this key will now run the
   * operation again. Raise `maxBytes` (or use the Postgres or Redis store) if this happens.
   */
  readonly withinTtl: boolean;
  /** Estimated bytes the record held. */
  readonly bytes: number;
}

/** Events of `MemoryIdempotencyStore`. */
export interface MemoryIdempotencyStoreEvents {
  /**
   * A record was forgotten to make room because the store was full: one inside its TTL
   * (`withinTtl: true`, a retry of its key runs again), or an expired one not swept yet.
   */
  evicted: (event: MemoryIdempotencyEvictedEvent) => void;
}

/** The default byte bound: 256 MiB, about 400 000 typical records (see `maxBytes`). */
export const defaultMemoryIdempotencyMaxBytes = 256 * 1_048_576;

/** Options for `MemoryIdempotencyStore`. */
export interface MemoryIdempotencyStoreOptions {
  /**
   * Most bytes the records may take (an estimate: key, scope, fingerprint, owner token and the
   * recorded JSON as UTF-16, plus a fixed overhead per record). When full, the records claimed
   * longest ago that are completed or expired are forgotten first, a sixteenth of the bound at a
   * time. Keys in flight are never evicted, so the store may exceed the bound by what is in
   * flight. Default 256 MiB: a recorded JSON response of about 300 bytes takes about 650, so the
   * default keeps some 400 000 records, a day of keyed writes at about 5 per second.
   */
  maxBytes?: number;
  /**
   * Receives the warning when a record inside its TTL is evicted (at most once a minute, with
   * how many since the last warning). Default: `console.warn`, since forgetting a key early
   * breaks the TTL's promise and must not go unnoticed.
   */
  logger?: Logger;
  /** Event handlers: `evicted`. */
  on?: Partial<MemoryIdempotencyStoreEvents>;
}

/** @internal */
export const memoryIdempotencyStoreOptionsSchema = v.object({
  maxBytes: v.optional(v.number({ integer: true, min: 1 }), defaultMemoryIdempotencyMaxBytes),
  logger: v.optional(v.logger()),
  on: v.optional(
    v.object({
      evicted: v.optional(v.func<MemoryIdempotencyStoreEvents['evicted']>('a function')),
    }),
    {},
  ),
});
