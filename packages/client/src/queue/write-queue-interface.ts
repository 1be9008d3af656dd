/** The public face of the offline write queue, apart from how {@link createWriteQueue} builds it. */
import type { ConflictResolver } from './conflict-resolvers.js';
import type { QueuedWrite } from './queued-write.js';
import type {
  QueueCounts,
  WriteQueueEvents,
  WriteRequest,
  WriteResult,
} from './write-queue-options.js';

/** The queue made by {@link createWriteQueue}. */
export interface WriteQueue {
  /** Resolves once stored writes are loaded (and migrated) and the start-up replay has begun. */
  readonly ready: Promise<void>;
  /**
   * Sends a write, or queues it. Online with nothing queued ahead, it is sent at once (with one
   * quick retry); if that fails for the network, a timeout or a 5xx, or the device is offline,
   * it resolves `{ queued: true, id }` and is replayed later with the same key.
   *
   * @throws BallastError the server's rejection (4xx) of a write sent at once (nothing is
   *   left queued); `INVALID_OPTIONS` for a malformed write; `STORAGE_UNAVAILABLE`, with the
   *   storage's error as `cause`, when the device refused to store it (out of quota): it was
   *   not queued and not sent, so keep it in the form; `STORAGE_UNAVAILABLE` too when the
   *   storage failed to record the server's answer to a stored write, which is then replayed
   *   under its key (a 2xx whose record the storage failed to remove resolves as delivered).
   */
  send<T = unknown>(write: WriteRequest): Promise<WriteResult<T>>;
  /**
   * Every write in the queue, in replay order.
   *
   * @throws BallastError `STORAGE_UNAVAILABLE` when the storage cannot be read.
   */
  list(): Promise<QueuedWrite[]>;
  /**
   * Sends a `failed` or `conflict` write again now (under a new key: the old one recorded the
   * rejection). Like `remove()` and `resolveConflict()`, rejects with `STORAGE_UNAVAILABLE` when
   * the storage fails.
   */
  retry(id: string): Promise<void>;
  /** Removes a write from the queue; resolves with whether it was there. */
  remove(id: string): Promise<boolean>;
  /** Settles a parked `conflict` with `resolver` (e.g. the user chose "keep mine"). */
  resolveConflict(id: string, resolver: ConflictResolver): Promise<void>;
  /**
   * Replays pending writes now, without waiting for their backoff (a "Retry now" button); in
   * this tab, once it holds the flush lock.
   */
  flush(): Promise<void>;
  /** Counts by state across tabs, as last seen. */
  readonly counts: QueueCounts;
  /** Writes waiting or being sent ("Pendientes: N"). */
  readonly pendingCount: number;
  /** Subscribes to an event; returns a function that unsubscribes. */
  on<E extends keyof WriteQueueEvents>(event: E, listener: WriteQueueEvents[E]): () => void;
  /** Stops timers and cross-tab listening. Stored writes stay for the next start. */
  close(): void;
}
