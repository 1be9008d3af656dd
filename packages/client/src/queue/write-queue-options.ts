/** Options of {@link createWriteQueue} and of one write, validated apart from the behaviour. */
import type { BallastError, Clock } from '@ballast/core';
import type { Connectivity } from '../connectivity/connectivity.js';
import { versionCheck } from '../fetch/client-options.js';
import type { Client, ClientResponse } from '../fetch/create-client.js';
import {
  array,
  clockCheck,
  duration,
  func,
  headerRecord,
  is,
  object,
  oneOf,
  optional,
  parseOptions,
  string,
  withMethods,
} from '../options/option-checks.js';
import type { ConflictResolver } from './conflict-resolvers.js';
import type { QueueStorage } from './queue-storage.js';
import type { QueuedWrite, WritePriority } from './queued-write.js';
import {
  clientSchema,
  connectivitySchema,
  isStorableJson,
  queueStorageSchema,
  storableRecord,
} from './shared-option-schemas.js';
import type { TemporaryIdSupport } from './temporary-ids.js';

/** How many writes are in the queue, by state, across every tab. */
export interface QueueCounts {
  /** Waiting or being sent: what "Pendientes: N" shows. */
  pending: number;
  failed: number;
  conflict: number;
  /** Every write still in the queue. */
  total: number;
}

/** Events of a {@link WriteQueue}. Listeners' errors are caught and never change an outcome. */
export interface WriteQueueEvents {
  /** The counts changed (in this tab or another). */
  change: (counts: QueueCounts) => void;
  /** A queued write was delivered (2xx). */
  delivered: (event: { write: QueuedWrite; response: ClientResponse<unknown> }) => void;
  /** The server rejected a write; it is now `failed`. */
  failed: (event: { write: QueuedWrite; error: BallastError }) => void;
  /** An edit conflicted and was parked as `conflict`. */
  conflict: (event: { write: QueuedWrite; error: BallastError }) => void;
  /** A record created offline was delivered: its temporary id is `id` on the server. */
  resolved: (event: { temporaryId: string; id: string | number }) => void;
}

/** Options of {@link createWriteQueue}. */
export interface WriteQueueOptions {
  /** The client that sends the writes (its base URL, headers, timeout). */
  client: Client;
  /**
   * Where writes wait: a {@link QueueStorage}, or `'indexeddb'` / `'memory'`. Default
   * `'indexeddb'` when the platform has IndexedDB, else `'memory'`.
   */
  storage?: QueueStorage | 'indexeddb' | 'memory';
  /** Queue name: the IndexedDB database and the cross-tab channel. Default `'ballast-write-queue'`. */
  name?: string;
  /** Connectivity: no direct send while `offline`, and a flush as soon as it is `online`. */
  connectivity?: Connectivity;
  /** Backoff of a write after a network failure or 5xx, in ms; the last repeats. Default `[1000, 2000, 5000, 10000, 30000, 60000]`. */
  retryDelaysMs?: number[];
  /** Replay due writes this often, in ms, whatever the events say. Default `30_000`. */
  flushIntervalMs?: number;
  /**
   * A write a tab started sending and has not settled after this long (the tab was closed
   * mid-request) is replayed by the flushing tab, with the same key, in ms. Default `75_000`
   * (two 30 s attempts and a backoff).
   */
  sendingLeaseMs?: number;
  /** How an edit's version conflict is settled. Default: park it as `conflict`. */
  resolveConflict?: ConflictResolver;
  /** Cross-tab flush lock: `'auto'` (Web Locks when present, else a storage lease), `'web-locks'` or `'lease'`. Default `'auto'`. */
  lock?: 'auto' | 'web-locks' | 'lease';
  /**
   * Records created offline: `temporaryIdSupport()` lets writes carry `temporaryId` and
   * rewrites the writes that mention it to the server's id. Default: off.
   */
  temporaryIds?: TemporaryIdSupport;
  /** Listeners, as `on: { change, delivered, failed, conflict, resolved }`. */
  on?: Partial<WriteQueueEvents>;
  /** Source of time for backoff and timers. Default: the system clock. */
  clock?: Clock;
}

/** One write handed to {@link WriteQueue.send}. */
export interface WriteRequest {
  /** Default `'POST'`. */
  method?: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** JSON body (for an edit, its changes). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Default `'medium'`. */
  priority?: WritePriority;
  /**
   * A key for the user's action (a form's id, `sale:<ticket>`): a second `send()` with the same
   * key while the first is in flight or queued returns the first's result (a double click).
   */
  dedupeKey?: string;
  /**
   * For an edit: the version it was made against, sent as `If-Match: "<version>"` (a number,
   * or up to 200 printable characters without spaces or quotes, as `request()` takes it).
   */
  version?: string | number;
  /** For an edit: the record as it was loaded, for `mergeChanges`. */
  base?: Record<string, unknown>;
  /** Anything to show in a pending list (a label). Stored with the write. */
  meta?: Record<string, unknown>;
  /**
   * For a creation made offline: the id (from `createTemporaryId()`) the page already uses for
   * the new record. Writes that mention it wait for this creation, then are rewritten to the
   * server's id. Needs the queue's `temporaryIds` option.
   */
  temporaryId?: string;
}

/** The result of {@link WriteQueue.send}. */
export type WriteResult<T = unknown> =
  | { queued: false; id: string; status: number; data: T; replayed: boolean }
  | { queued: true; id: string; state: 'pending' | 'sending' | 'conflict' | 'failed' };

type Defaulted = 'name' | 'retryDelaysMs' | 'flushIntervalMs' | 'sendingLeaseMs' | 'lock';
/** Options after validation, defaults applied. */
export type ParsedWriteQueueOptions = Omit<WriteQueueOptions, Defaulted> &
  Required<Pick<WriteQueueOptions, Defaulted>>;

/** Validates {@link createWriteQueue}'s options and applies the defaults. */
export function parseWriteQueueOptions(input: unknown): ParsedWriteQueueOptions {
  const listener = () => optional(func<never>());
  return parseOptions(
    object({
      client: clientSchema,
      storage: optional(queueStorageSchema),
      name: optional(string(1, 200), 'ballast-write-queue'),
      connectivity: optional(connectivitySchema),
      retryDelaysMs: optional(
        array(duration(), 1, 50),
        [1_000, 2_000, 5_000, 10_000, 30_000, 60_000],
      ),
      flushIntervalMs: optional(duration(100), 30_000),
      sendingLeaseMs: optional(duration(1_000), 75_000),
      resolveConflict: optional(func<ConflictResolver>()),
      temporaryIds: optional(withMethods<TemporaryIdSupport>('create')),
      lock: optional(oneOf('auto', 'web-locks', 'lease'), 'auto'),
      on: optional(
        object({
          change: listener(),
          delivered: listener(),
          failed: listener(),
          conflict: listener(),
          resolved: listener(),
        }),
      ),
      clock: optional(clockCheck),
    }),
    input,
    'createWriteQueue()',
  );
}

/** A write as {@link WriteQueue.send} stores it: validated, defaults applied. */
export type ParsedWriteRequest = Omit<WriteRequest, 'method' | 'priority'> &
  Required<Pick<WriteRequest, 'method' | 'priority'>>;

/** Validates one write given to `send()`. */
export function parseWriteRequest(input: unknown): ParsedWriteRequest {
  return parseOptions(
    object({
      method: optional(oneOf('POST', 'PUT', 'PATCH', 'DELETE'), 'POST'),
      path: string(1, 2_000),
      body: is<unknown>(isStorableJson, 'a JSON value'),
      headers: optional(headerRecord),
      priority: optional(oneOf('high', 'medium', 'low'), 'medium'),
      dedupeKey: optional(string(1, 500)),
      // Checked here as the client checks `ifMatch`: a version it refused would fail only at
      // delivery, long after the form that made it was closed.
      version: optional(versionCheck),
      base: optional(storableRecord),
      meta: optional(storableRecord),
      // Its form is checked by the queue's `temporaryIds`, which a page without them lacks.
      temporaryId: optional(string(1, 200)),
    }),
    input,
    'WriteQueue.send()',
  );
}
