/**
 * Uploads that survive a reload (issue 15 item 5). A storage service's single PUT cannot
 * resume in the middle of a file, and a multipart or TUS-style upload needs a server protocol
 * Ballast's signed uploads do not have; what matters on a till or a phone is that a file chosen
 * while offline, or whose upload was cut by a closed tab, is not lost. So the queue stores the
 * file itself (a Blob, which IndexedDB keeps as is) before the first byte is sent, and uploads
 * it whole — again after a reload, in whichever tab holds the lock — until it is confirmed or
 * refused. The queued file's id is the upload's idempotency key: a replay of the request step
 * gets the same presigned URL back from the server's record, and a replay of the confirmation
 * the same answer, so a file is never recorded twice.
 */
import { systemClock } from '@ballast/core';
import { asClientError, clientError } from '../errors/client-error.js';
import { createListeners } from '../events/listeners.js';
import { createIdempotencyKey } from '../fetch/idempotency-key.js';
import { watchFlushTriggers } from '../queue/flush-triggers.js';
import { openQueueStorage } from '../queue/open-queue-storage.js';
import { createSerialFlush } from '../queue/serial-flush.js';
import { createTabCoordinator } from '../queue/tab-coordination.js';
import { waitIsOver } from '../queue/wait-is-over.js';
import { uploadFile } from './upload-file.js';
import {
  type AddUploadOptions,
  parseAddUploadOptions,
  parseUploadQueueOptions,
  type QueuedUpload,
  type UploadQueueCounts,
  type UploadQueueEvents,
  type UploadQueueOptions,
} from './upload-queue-options.js';

/** The queue made by {@link createUploadQueue}. */
export interface UploadQueue {
  /** Resolves once the stored uploads are counted and the start-up round has begun. */
  readonly ready: Promise<void>;
  /**
   * Stores `file` and starts uploading it when the network allows; resolves with its id once
   * it is stored (not uploaded: listen to `uploaded`).
   *
   * @throws BallastError `INVALID_OPTIONS` for a wrong argument; storage failures (quota).
   */
  add(file: Blob, options?: AddUploadOptions): Promise<{ id: string }>;
  /** Every queued upload, oldest first. */
  list(): Promise<QueuedUpload[]>;
  /** Tries a `failed` or waiting upload again now. */
  retry(id: string): Promise<void>;
  /** Removes an upload from the queue; resolves with whether it was there. */
  remove(id: string): Promise<boolean>;
  /** Starts due uploads now, ignoring their backoff. */
  flush(): Promise<void>;
  /** Counts by state, as last seen. */
  readonly counts: UploadQueueCounts;
  /** Uploads waiting or uploading. */
  readonly pendingCount: number;
  /** Subscribes to an event; returns a function that unsubscribes. */
  on<E extends keyof UploadQueueEvents>(event: E, listener: UploadQueueEvents[E]): () => void;
  /** Stops timers and cross-tab listening; stored uploads stay for the next start. */
  close(): void;
}

function isUpload(record: unknown): record is QueuedUpload {
  const upload = record as QueuedUpload | undefined;
  return (
    typeof upload === 'object' &&
    upload !== null &&
    upload.schemaVersion === 1 &&
    typeof upload.id === 'string' &&
    typeof Blob !== 'undefined' &&
    upload.file instanceof Blob
  );
}

/**
 * Creates a queue of uploads that survives reloads and closed tabs.
 *
 * @example
 * ```ts
 * const uploads = createUploadQueue({ requestUrl: '/uploads', confirmUrl: '/uploads/confirm' });
 * uploads.on('progress', ({ id, loaded, total }) => showProgress(id, loaded / total));
 * uploads.on('uploaded', ({ upload }) => markDone(upload.id));
 * await uploads.add(input.files[0]); // stored on the device first, even offline
 * ```
 * @throws BallastError `INVALID_OPTIONS` for a wrong option.
 */
export function createUploadQueue(options: UploadQueueOptions): UploadQueue {
  const config = parseUploadQueueOptions(options);
  const clock = config.clock ?? systemClock;
  const storage = openQueueStorage(config.storage, config.name);
  const coordinator = createTabCoordinator({
    name: config.name,
    storage,
    clock,
    lock: 'auto',
  });

  const { emit, on } = createListeners<UploadQueueEvents>(
    ['change', 'progress', 'uploaded', 'failed'],
    config.on,
  );

  let counts: UploadQueueCounts = { pending: 0, failed: 0, total: 0 };
  let closed = false;

  async function load(): Promise<QueuedUpload[]> {
    const uploads = (await storage.list()).filter(isUpload);
    return uploads.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async function refreshCounts(): Promise<void> {
    const uploads = await load();
    const failed = uploads.filter((upload) => upload.state === 'failed').length;
    const next = { pending: uploads.length - failed, failed, total: uploads.length };
    if (
      next.pending !== counts.pending ||
      next.failed !== counts.failed ||
      next.total !== counts.total
    ) {
      counts = next;
      emit('change', { ...counts });
    }
  }
  const changed = () => {
    coordinator.announce();
    return refreshCounts().catch(() => undefined);
  };

  let cancelWake: (() => void) | undefined;
  function wakeUpAt(at: number) {
    cancelWake?.();
    cancelWake = clock.setTimer(
      () => void flush(false),
      Math.min(Math.max(0, at - clock.now()), 2 ** 31 - 1),
    );
  }

  /** One round of one upload; resolves with whether the queue may go on to the next. */
  /** Uploads in flight in this tab, so `remove()` and `close()` can stop them. */
  const running = new Map<string, AbortController>();

  async function attempt(upload: QueuedUpload): Promise<boolean> {
    upload.state = 'uploading';
    upload.attempts += 1;
    await storage.put(upload.id, upload);
    void changed();
    const controller = new AbortController();
    running.set(upload.id, controller);
    try {
      const { data } = await uploadFile(upload.file, {
        requestUrl: config.requestUrl,
        confirmUrl: config.confirmUrl,
        idempotencyKey: upload.key ?? upload.id,
        contentType: upload.contentType,
        ...(upload.name === undefined ? {} : { name: upload.name }),
        ...(upload.fields === undefined ? {} : { fields: upload.fields }),
        ...(config.client === undefined ? {} : { client: config.client }),
        ...(config.fetch === undefined ? {} : { fetch: config.fetch }),
        ...(config.storageOrigins === undefined ? {} : { storageOrigins: config.storageOrigins }),
        retries: config.retries,
        idleTimeoutMs: config.idleTimeoutMs,
        transport: config.transport,
        clock,
        signal: controller.signal,
        on: { progress: ({ loaded, total }) => emit('progress', { id: upload.id, loaded, total }) },
      });
      await storage.delete(upload.id);
      await changed();
      emit('uploaded', { upload, data });
      return true;
    } catch (caught) {
      // Closed: the stored upload is taken up again at the next start. Removed meanwhile:
      // nothing to record, and it must not come back.
      if (closed) return false;
      if (!isUpload(await storage.get(upload.id))) return true;
      const error = asClientError(caught);
      if (error.code === 'NETWORK_ERROR' || error.code === 'TIMEOUT' || error.retryable) {
        const delays = config.retryDelaysMs;
        upload.lastAttemptAt = new Date(clock.now());
        const at = clock.now() + (delays[Math.min(upload.attempts - 1, delays.length - 1)] ?? 0);
        upload.state = 'pending';
        upload.nextAttemptAt = new Date(at);
        await storage.put(upload.id, upload);
        await changed();
        wakeUpAt(at);
        return false;
      }
      upload.state = 'failed';
      upload.error = { code: error.code, message: error.message, status: error.status };
      delete upload.nextAttemptAt;
      await storage.put(upload.id, upload);
      await changed();
      emit('failed', { upload, error });
      return true;
    } finally {
      running.delete(upload.id);
    }
  }

  async function drain(renew: () => Promise<boolean>, force: boolean): Promise<void> {
    for (const listed of await load()) {
      if (closed || config.connectivity?.status === 'offline') return;
      if (!(await renew())) return;
      // Re-read: another tab may have finished or removed it since the list.
      const upload = await storage.get(listed.id);
      if (!isUpload(upload) || upload.state === 'failed') continue;
      // A backoff stamped before the clock was set back is over too.
      const until = upload.nextAttemptAt?.getTime() ?? 0;
      const since = upload.lastAttemptAt?.getTime() ?? 0;
      if (!force && !waitIsOver(since, until, clock.now())) return;
      if (!(await attempt(upload))) return;
    }
  }

  const flush = createSerialFlush(
    async (forced) => {
      await coordinator.withFlushLock((renew) => drain(renew, forced));
    },
    () => closed,
  );

  const ready = (async () => {
    await refreshCounts();
    void flush(false);
  })();
  const stopTriggers = watchFlushTriggers({
    ...config,
    coordinator,
    clock,
    flush: (force) => void flush(force),
    refresh: () => void refreshCounts().catch(() => undefined),
  });

  return {
    ready,
    async add(file, addOptions = {}) {
      const parsed = parseAddUploadOptions(addOptions);
      if (typeof Blob === 'undefined' || !(file instanceof Blob)) {
        throw clientError('INVALID_OPTIONS', {
          message: 'Invalid options for UploadQueue.add(): "file": expected a Blob or File',
          details: { field: 'file' },
        });
      }
      if (closed) {
        throw clientError('INVALID_OPTIONS', { message: 'add() on a closed upload queue' });
      }
      const fileName = (file as { name?: unknown }).name;
      const name = parsed.name ?? (typeof fileName === 'string' ? fileName : undefined);
      const upload: QueuedUpload = {
        schemaVersion: 1,
        id: createIdempotencyKey(),
        file,
        ...(name === undefined ? {} : { name }),
        size: file.size,
        contentType: parsed.contentType ?? (file.type || 'application/octet-stream'),
        ...(parsed.fields === undefined ? {} : { fields: parsed.fields }),
        ...(parsed.meta === undefined ? {} : { meta: parsed.meta }),
        state: 'pending',
        attempts: 0,
        createdAt: new Date(clock.now()),
      };
      await ready;
      await storage.put(upload.id, upload);
      await changed();
      void flush(false);
      return { id: upload.id };
    },
    list: load,
    async retry(id) {
      const upload = typeof id === 'string' ? await storage.get(id) : undefined;
      if (!isUpload(upload)) return;
      if (upload.state === 'failed') upload.key = createIdempotencyKey();
      upload.state = 'pending';
      delete upload.error;
      delete upload.nextAttemptAt;
      await storage.put(id, upload);
      await changed();
      await flush(true);
    },
    async remove(id) {
      const upload = typeof id === 'string' ? await storage.get(id) : undefined;
      if (!isUpload(upload)) return false;
      // Deleted before the abort lands, so the aborted upload finds nothing to record.
      await storage.delete(id);
      running.get(id)?.abort();
      await changed();
      return true;
    },
    flush: () => flush(true),
    get counts() {
      return { ...counts };
    },
    get pendingCount() {
      return counts.pending;
    },
    on,
    close() {
      closed = true;
      stopTriggers();
      cancelWake?.();
      for (const controller of running.values()) controller.abort();
      coordinator.close();
    },
  };
}
