/** Options and records of {@link createUploadQueue}, validated apart from the behaviour. */
import type { BallastError, Clock } from '@ballast/core';
import type { Connectivity } from '../connectivity/connectivity.js';
import type { Client } from '../fetch/create-client.js';
import {
  array,
  clockCheck,
  duration,
  func,
  number,
  object,
  oneOf,
  optional,
  parseOptions,
  string,
} from '../options/option-checks.js';
import type { QueueStorage } from '../queue/queue-storage.js';
import type { QueuedWriteError } from '../queue/queued-write.js';
import {
  clientSchema,
  connectivitySchema,
  queueStorageSchema,
  storableRecord,
} from '../queue/shared-option-schemas.js';
import type { UploadProgress } from './put-blob.js';
import { listener, storageOrigins } from './upload-options.js';

/**
 * One file waiting in an upload queue, with its bytes (IndexedDB stores a Blob as is).
 * - `pending`: waiting (offline, or backing off after a network failure);
 * - `uploading`: being uploaded now by some tab;
 * - `failed`: your server or storage refused it; `error` says why. It stays until retried or removed.
 */
export interface QueuedUpload {
  schemaVersion: 1;
  /** Stable id; also the upload's `Idempotency-Key`, so a replay after a reload is answered from the server's record. */
  id: string;
  /**
   * The idempotency key of the current round: `id`, until a `failed` upload is retried (the
   * server recorded its refusal under the old key, so the retry is a new request).
   */
  key?: string;
  file: Blob;
  /** The file's name (a File's name is not kept by every structured clone). */
  name?: string;
  size: number;
  contentType: string;
  fields?: Record<string, unknown>;
  /** Anything to show in a list of uploads. */
  meta?: Record<string, unknown>;
  state: 'pending' | 'uploading' | 'failed';
  /** Rounds tried so far (each is one `uploadFile()` with its own PUT retries). */
  attempts: number;
  nextAttemptAt?: Date;
  /** When the round that left it backing off ended (as a write's `lastAttemptAt`). */
  lastAttemptAt?: Date;
  error?: QueuedWriteError;
  createdAt: Date;
}

/** How many uploads are queued, by state. */
export interface UploadQueueCounts {
  /** Waiting or uploading. */
  pending: number;
  failed: number;
  total: number;
}

/** Events of an {@link UploadQueue}. Listeners' errors are caught and never change an outcome. */
export interface UploadQueueEvents {
  /** The counts changed (in this tab or another). */
  change: (counts: UploadQueueCounts) => void;
  /** Bytes sent of the upload `id`, in its current PUT attempt. */
  progress: (event: UploadProgress & { id: string }) => void;
  /** An upload was confirmed; `data` is your confirmation endpoint's answer. */
  uploaded: (event: { upload: QueuedUpload; data: unknown }) => void;
  /** Your server or storage refused an upload; it is now `failed`. */
  failed: (event: { upload: QueuedUpload; error: BallastError }) => void;
}

/** Options of {@link createUploadQueue}. */
export interface UploadQueueOptions {
  /** Your endpoint issuing presigned PUTs (see `uploadFile`). */
  requestUrl: string;
  /** Your endpoint confirming them. */
  confirmUrl: string;
  /** The client for the calls to your server. Default `createClient()`. */
  client?: Client;
  /**
   * Where queued files wait: a `QueueStorage`, `'indexeddb'` or `'memory'`. Default
   * `'indexeddb'` when the platform has it, else `'memory'` (lost on reload).
   */
  storage?: QueueStorage | 'indexeddb' | 'memory';
  /** The IndexedDB database and cross-tab channel. Default `'ballast-uploads'`. */
  name?: string;
  /** No upload is started while `offline`, and the queue resumes as soon as it is `online`. */
  connectivity?: Connectivity;
  /** Wait before a new round after an upload failed for the network, in ms; the last repeats. Default `[5000, 15000, 60000]`. */
  retryDelaysMs?: number[];
  /** Try due uploads this often, in ms. Default `30_000`. */
  flushIntervalMs?: number;
  /** PUT retries within one round (`uploadFile`'s `retries`). Default `3`. */
  retries?: number;
  /** `uploadFile`'s `idleTimeoutMs`. Default `60_000`. */
  idleTimeoutMs?: number;
  /** `uploadFile`'s `transport`. Default `'auto'`. */
  transport?: 'auto' | 'xhr' | 'fetch';
  /** `uploadFile`'s `fetch` for the PUT. */
  fetch?: typeof fetch;
  /** `uploadFile`'s `storageOrigins`: the only origins files may be sent to. Default: any http(s). */
  storageOrigins?: string[];
  /** Listeners, as `on: { change, progress, uploaded, failed }`. */
  on?: Partial<UploadQueueEvents>;
  /** Source of time. Default: the system clock. */
  clock?: Clock;
}

/** What {@link UploadQueue.add} takes besides the file. */
export interface AddUploadOptions {
  /** Default: the File's name. */
  name?: string;
  /** Default: the Blob's type, else `'application/octet-stream'`. */
  contentType?: string;
  /** More JSON fields for your request endpoint. */
  fields?: Record<string, unknown>;
  /** Anything to show in a list of uploads. */
  meta?: Record<string, unknown>;
}

type Defaulted =
  | 'name'
  | 'retryDelaysMs'
  | 'flushIntervalMs'
  | 'retries'
  | 'idleTimeoutMs'
  | 'transport';
/** Options after validation, defaults applied. */
export type ParsedUploadQueueOptions = Omit<UploadQueueOptions, Defaulted> &
  Required<Pick<UploadQueueOptions, Defaulted>>;

/** Validates {@link createUploadQueue}'s options and applies the defaults. */
export function parseUploadQueueOptions(input: unknown): ParsedUploadQueueOptions {
  return parseOptions(
    object({
      requestUrl: string(1, 2_000),
      confirmUrl: string(1, 2_000),
      client: optional(clientSchema),
      storage: optional(queueStorageSchema),
      name: optional(string(1, 200), 'ballast-uploads'),
      connectivity: optional(connectivitySchema),
      retryDelaysMs: optional(array(duration(), 1, 50), [5_000, 15_000, 60_000]),
      flushIntervalMs: optional(duration(100), 30_000),
      retries: optional(number(0, 20), 3),
      idleTimeoutMs: optional(duration(1), 60_000),
      transport: optional(oneOf('auto', 'xhr', 'fetch'), 'auto'),
      fetch: optional(func<typeof fetch>()),
      storageOrigins: storageOrigins(),
      on: optional(
        object({
          change: listener(),
          progress: listener(),
          uploaded: listener(),
          failed: listener(),
        }),
      ),
      clock: optional(clockCheck),
    }),
    input,
    'createUploadQueue()',
  );
}

/** Validates the options of one `add()`. */
export function parseAddUploadOptions(input: unknown): AddUploadOptions {
  return parseOptions(
    object({
      name: optional(string(0, 1_000)),
      contentType: optional(string(1, 255)),
      // Stored with the file: a value IndexedDB cannot clone would fail only when it is stored.
      fields: optional(storableRecord),
      meta: optional(storableRecord),
    }),
    input,
    'UploadQueue.add()',
  );
}
