/** Options and records of {@link createUploadQueue}, validated apart from the behaviour. */
import type { BallastError, Clock } from '@ballast/core';
import { parseOptions, type StandardSchemaV1, v } from '@ballast/core/adapter-kit';
import type { Connectivity } from '../connectivity/connectivity.js';
import type { Client } from '../fetch/create-client.js';
import type { QueueStorage } from '../queue/queue-storage.js';
import type { QueuedWriteError } from '../queue/queued-write.js';
import {
  clientSchema,
  connectivitySchema,
  isObject,
  queueStorageSchema,
} from '../queue/shared-option-schemas.js';
import type { UploadProgress } from './put-blob.js';
import { storageOriginsSchema } from './upload-options.js';

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

const listener = () => v.optional(v.func<(event: never) => void>('a listener'));
const plainRecord = v.custom<Record<string, unknown>>(
  (value) => isObject(value) && !Array.isArray(value),
  'an object',
);

const uploadQueueOptionsSchema = v.object({
  requestUrl: v.string({ minLength: 1, maxLength: 2_000 }),
  confirmUrl: v.string({ minLength: 1, maxLength: 2_000 }),
  client: v.optional(clientSchema),
  storage: v.optional(queueStorageSchema),
  name: v.optional(v.string({ minLength: 1, maxLength: 200 }), 'ballast-uploads'),
  connectivity: v.optional(connectivitySchema),
  retryDelaysMs: v.optional(
    v.array(v.durationMs(), { minLength: 1, maxLength: 50 }),
    [5_000, 15_000, 60_000],
  ),
  flushIntervalMs: v.optional(v.durationMs({ min: 100 }), 30_000),
  retries: v.optional(v.number({ min: 0, max: 20, integer: true }), 3),
  idleTimeoutMs: v.optional(v.durationMs({ min: 1 }), 60_000),
  transport: v.optional(v.literal('auto', 'xhr', 'fetch'), 'auto'),
  fetch: v.optional(v.func<typeof fetch>('a fetch function')),
  storageOrigins: storageOriginsSchema,
  on: v.optional(
    v.object({
      change: listener(),
      progress: listener(),
      uploaded: listener(),
      failed: listener(),
    }),
  ),
  clock: v.optional(v.clock()),
}) as StandardSchemaV1<unknown, ParsedUploadQueueOptions>;

/** Validates {@link createUploadQueue}'s options and applies the defaults. */
export function parseUploadQueueOptions(input: unknown): ParsedUploadQueueOptions {
  return parseOptions(uploadQueueOptionsSchema, input, 'createUploadQueue()');
}

const addUploadSchema = v.object({
  name: v.optional(v.string({ maxLength: 1_000 })),
  contentType: v.optional(v.string({ minLength: 1, maxLength: 255 })),
  fields: v.optional(plainRecord),
  meta: v.optional(plainRecord),
}) as StandardSchemaV1<unknown, AddUploadOptions>;

/** Validates the options of one `add()`. */
export function parseAddUploadOptions(input: unknown): AddUploadOptions {
  return parseOptions(addUploadSchema, input, 'UploadQueue.add()');
}
