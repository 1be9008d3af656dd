/**
 * One tab flushes at a time; every tab hears about every change. Two tabs replaying the same
 * queue would send each write twice (the idempotency key would save the data, not the
 * bandwidth or the order), so flushing is serialised: by the Web Locks API where the platform
 * has it (the browser releases a closed or crashed tab's lock at once), else by a lease in the
 * queue's storage that expires. Changes are announced on a BroadcastChannel, so a tab that did
 * not make a write still updates its pending count and can take over the flush.
 */
import type { Clock } from '@ballast/core';
import { createIdempotencyKey } from '../fetch/idempotency-key.js';
import type { QueueStorage } from './queue-storage.js';

interface LockManagerLike {
  request(name: string, callback: () => Promise<void>): Promise<void>;
}

/** Serialises flushes across tabs and carries change notices between them. */
export interface TabCoordinator {
  /**
   * Runs `drain` while holding the flush lock. With Web Locks it waits its turn; with the lease
   * it gives up when another tab holds it (that tab picks up new writes before it lets go).
   * `drain` receives `renew`, to be called between sends so a long flush keeps its lease.
   */
  withFlushLock(drain: (renew: () => Promise<boolean>) => Promise<void>): Promise<void>;
  /** Tells the other tabs that the queue changed. */
  announce(): void;
  /**
   * Calls `listener` when another tab announces a change. One listener (the queue's flush
   * triggers): a second replaces the first.
   */
  onAnnouncement(listener: () => void): void;
  close(): void;
}

/** Options of {@link createTabCoordinator}. */
export interface TabCoordinatorOptions {
  name: string;
  storage: QueueStorage;
  clock: Clock;
  /** `'web-locks'`, `'lease'` or `'auto'` (Web Locks when present). */
  lock: 'auto' | 'web-locks' | 'lease';
}

/**
 * Where Web Locks are missing, how long a flush holds the lease without renewing it, in ms: a
 * flush renews it between sends, and a closed tab's lease lapses after this.
 */
const leaseMs = 30_000;

const webLocks = (): LockManagerLike | undefined => {
  const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  return typeof locks?.request === 'function' ? locks : undefined;
};

/** Creates the coordinator of one queue in one tab. */
export function createTabCoordinator(options: TabCoordinatorOptions): TabCoordinator {
  const { name, storage, clock } = options;
  const owner = createIdempotencyKey();
  const locks = options.lock === 'lease' ? undefined : webLocks();
  const channel =
    typeof BroadcastChannel === 'function' ? new BroadcastChannel(`ballast:${name}`) : undefined;

  return {
    async withFlushLock(drain) {
      if (locks !== undefined) {
        await locks.request(`ballast:${name}:flush`, () => drain(async () => true));
        return;
      }
      const renew = () => storage.claimLease(owner, clock.now(), clock.now() + leaseMs);
      if (!(await renew())) return;
      try {
        await drain(renew);
      } finally {
        await storage.releaseLease(owner);
      }
    },
    announce() {
      channel?.postMessage('changed');
    },
    onAnnouncement(listener) {
      if (channel !== undefined) channel.onmessage = listener;
    },
    close() {
      // A closed channel delivers nothing more.
      channel?.close();
    },
  };
}
