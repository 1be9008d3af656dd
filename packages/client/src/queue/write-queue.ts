/**
 * The offline write queue (seed 002 §2.4, levels B): a write made while offline or on a flaky
 * network is never lost and never applied twice, and the user always knows what is pending.
 *
 * - Never lost: the write is stored (IndexedDB) before it is first sent, and leaves storage only
 *   when the server answered 2xx, when the user removes it, or when a conflict resolver drops it.
 *   A 5xx, a timeout or a network failure is never taken as delivered.
 * - Never twice: every write has an `Idempotency-Key` from its creation, and every replay —
 *   after a reload, from another tab, after a crash mid-request — sends that same key, so the
 *   server's idempotency middleware answers a repeat with the recorded response. Only one tab
 *   flushes at a time (Web Locks), and a flush re-reads each write before sending it.
 * - Known: counts by state are shared across tabs through a BroadcastChannel; a rejected write
 *   keeps the server's message; an edit that met a newer version becomes a `conflict`.
 */
import { systemClock } from '@ballast/core';
import { clientError } from '../errors/client-error.js';
import { createListeners } from '../events/listeners.js';
import type { ClientResponse } from '../fetch/create-client.js';
import { createIdempotencyKey } from '../fetch/idempotency-key.js';
import { invalidOption } from '../options/option-checks.js';
import { watchFlushTriggers } from './flush-triggers.js';
import { openQueueStorage } from './open-queue-storage.js';
import { countsOf, sameCounts } from './queue-counts.js';
import {
  compareWrites,
  loadQueuedWrites,
  migrateStoredWrite,
  type QueuedWrite,
  queueSchemaVersion,
} from './queued-write.js';
import { createSerialFlush } from './serial-flush.js';
import { createTabCoordinator } from './tab-coordination.js';
import { waitIsOver } from './wait-is-over.js';
import { createWriteDelivery } from './write-delivery.js';
import type { WriteQueue } from './write-queue-interface.js';
import {
  type ParsedWriteRequest,
  parseWriteQueueOptions,
  parseWriteRequest,
  type QueueCounts,
  type WriteQueueEvents,
  type WriteQueueOptions,
  type WriteRequest,
  type WriteResult,
} from './write-queue-options.js';

export type { WriteQueue } from './write-queue-interface.js';

/**
 * Creates an offline write queue over a client.
 *
 * @example
 * ```ts
 * const connectivity = createConnectivity({ healthUrl: '/health' });
 * const client = createClient({ connectivity });
 * const queue = createWriteQueue({ client, connectivity });
 * const result = await queue.send({ path: '/sales', body: sale, priority: 'high' });
 * if (result.queued) toast('Saved locally, will be sent when the connection returns');
 * queue.on('change', ({ pending }) => (badge.textContent = `Pending: ${pending}`));
 * ```
 * @throws BallastError `INVALID_OPTIONS` for a wrong option.
 */
export function createWriteQueue(options: WriteQueueOptions): WriteQueue {
  const config = parseWriteQueueOptions(options);
  const clock = config.clock ?? systemClock;
  const storage = openQueueStorage(config.storage, config.name);
  // The coordinator reads the queue's `name` and `lock`.
  const coordinator = createTabCoordinator({ ...config, storage, clock });

  const { emit, on } = createListeners<WriteQueueEvents>(
    ['change', 'delivered', 'failed', 'conflict', 'resolved'],
    config.on,
  );

  let counts: QueueCounts = countsOf([]);
  let closed = false;
  let lastSequence = 0;
  const inFlight = new Map<string, Promise<WriteResult<unknown>>>();

  // A storage that refuses (out of quota, a private window) rejects with STORAGE_UNAVAILABLE
  // (openQueueStorage); before a new write is stored, this tells the caller it was not queued.
  const load = () => loadQueuedWrites(storage);
  /**
   * Writes the server answered 2xx whose removal the storage refused: removed at the next flush
   * instead of being sent again (after a reload, their replay under the same key is answered
   * from the server's idempotency record).
   */
  const delivered = new Set<string>();
  // Without the `temporaryIds` option, writes are sent as they are.
  const temporaryIds = config.temporaryIds?.create(storage);
  const resolveReferences = (write: QueuedWrite) => temporaryIds?.resolveReferences(write);
  const waitsForCreation = (write: QueuedWrite, queued: QueuedWrite[]) =>
    temporaryIds?.waitsForCreation(write, queued);
  async function afterDelivery(write: QueuedWrite, response: ClientResponse<unknown>) {
    // A storage refusing to remove it must neither fail the write nor resend it.
    await storage.delete(write.id).catch(() => delivered.add(write.id));
    const resolved = await temporaryIds?.afterDelivery(write, response.data, clock.now());
    if (resolved !== undefined) emit('resolved', resolved);
  }

  // One recount at a time, and one more after it for a change made during it. A storage that
  // refuses leaves the counts as they were; the next change or flush counts again.
  const refreshCounts = createSerialFlush(
    async () => {
      const next = countsOf(await load());
      if (!sameCounts(next, counts)) {
        counts = next;
        emit('change', { ...counts });
      }
    },
    () => closed,
  );

  function changed(): Promise<void> {
    coordinator.announce();
    return refreshCounts();
  }

  /**
   * The hot transitions (a write queued, a pending write delivered) adjust the counts without
   * reading the whole queue back, which would make a replay of n writes cost n² reads; every
   * flush ends with a full refresh, which also corrects for other tabs' changes.
   */
  function countPending(delta: 1 | -1) {
    coordinator.announce();
    // `counts` is never handed out (only copies), so it is changed in place.
    counts.pending = Math.max(0, counts.pending + delta);
    counts.total = Math.max(0, counts.total + delta);
    emit('change', { ...counts });
  }

  let cancelWake: (() => void) | undefined;
  let wakeAt = Infinity;
  function wakeUpAt(at: number) {
    if (closed || at >= wakeAt) return;
    cancelWake?.();
    wakeAt = at;
    // Core's clocks take a delay in the past as 0, and one past 2³¹ ms (24.8 days) in steps.
    cancelWake = clock.setTimer(() => {
      wakeAt = Infinity;
      void flush();
    }, at - clock.now());
  }

  /** A backoff or a `sending` mark stamped before the clock was set back is over too. */
  function isDue(write: QueuedWrite, now: number, force: boolean): boolean {
    if (write.state === 'pending') {
      const until = write.nextAttemptAt?.getTime() ?? 0;
      return force || waitIsOver(write.lastAttemptAt?.getTime() ?? 0, until, now);
    }
    if (write.state === 'sending') {
      const since = write.sendingSince?.getTime() ?? 0;
      return waitIsOver(since, since + config.sendingLeaseMs, now);
    }
    return false;
  }

  const { deliver, settleConflict } = createWriteDelivery({
    config,
    storage,
    clock,
    emit,
    changed,
    countPending,
    wakeUpAt,
    afterDelivery,
  });

  async function drain(renew: () => Promise<boolean>, force: boolean): Promise<void> {
    for (let pass = 0; !closed; pass++) {
      if (config.connectivity?.status === 'offline') return;
      const now = clock.now();
      const due: QueuedWrite[] = [];
      // Another tab may have delivered a creation and learned its server id.
      await temporaryIds?.load(now);
      const writes = await load();
      for (const write of writes) {
        if (delivered.has(write.id)) {
          await storage.delete(write.id);
          delivered.delete(write.id);
          continue;
        }
        // A write about a record whose creation the server refused can never be sent.
        const refused =
          write.state === 'pending' && (await temporaryIds?.failIfCreationFailed?.(write, writes));
        if (refused) {
          await changed();
          emit('failed', { write, error: refused });
          continue;
        }
        // A write about a record created offline waits for that creation, and only for it.
        if (waitsForCreation(write, writes)) continue;
        if (isDue(write, now, force && pass === 0)) due.push(write);
        // Creation order holds: a write backing off holds back the writes after it (they
        // would only meet the same network, and an edit must not overtake its creation).
        else if (write.state === 'pending') break;
      }
      if (due.length === 0) return;
      for (const candidate of due) {
        if (closed || !(await renew())) return;
        // Another tab may have removed, resolved or started sending it since the list.
        const write = migrateStoredWrite(await storage.get(candidate.id));
        if (write === undefined || !isDue(write, clock.now(), force && pass === 0)) continue;
        if (resolveReferences(write)) await storage.put(write.id, write);
        const outcome = await deliver(write, { keepRejected: true, retries: 0 });
        // The network is down or the server is struggling: keep the order, wait for the backoff.
        if (outcome.kind === 'retry') return;
      }
    }
  }

  const flush = createSerialFlush(
    async (forced) => {
      await coordinator.withFlushLock((renew) => drain(renew, forced));
      await refreshCounts();
    },
    () => closed,
  );

  function nextSequence(): number {
    lastSequence = Math.max(lastSequence + 1, clock.now() * 1_000);
    return lastSequence;
  }

  async function submit(request: ParsedWriteRequest): Promise<WriteResult<unknown>> {
    const id = createIdempotencyKey();
    const now = clock.now();
    // The parsed request holds only the fields the caller gave (and the defaults).
    const write: QueuedWrite = {
      ...request,
      schemaVersion: queueSchemaVersion,
      id,
      idempotencyKey: id,
      createdAt: new Date(now),
      sequence: nextSequence(),
      state: 'pending',
      attempts: 0,
    };
    resolveReferences(write);
    const offline = config.connectivity?.status === 'offline';
    // A new write never overtakes one queued before it (same or higher priority).
    const queued = await load();
    const waiting =
      offline ||
      waitsForCreation(write, queued) ||
      queued.some(
        (ahead) =>
          (ahead.state === 'pending' || ahead.state === 'sending') &&
          compareWrites(ahead, write) < 0,
      );
    if (waiting) {
      await storage.put(id, write);
      countPending(1);
      void flush();
      return { queued: true, id, state: 'pending' };
    }
    // Stored before it is sent: a tab closed mid-request leaves it for a replay, same key.
    write.state = 'sending';
    write.sendingSince = new Date(now);
    await storage.put(id, write);
    countPending(1);
    const outcome = await deliver(write, { keepRejected: false });
    if (outcome.kind === 'delivered') {
      const { status, data, replayed } = outcome.response;
      return { queued: false, id, status, data, replayed };
    }
    // Rejected, or dropped by the conflict resolver: the caller is told.
    if (outcome.kind !== 'retry' && outcome.kind !== 'conflict') throw outcome.error;
    return { queued: true, id, state: outcome.kind === 'retry' ? 'pending' : 'conflict' };
  }

  const ready = (async () => {
    await temporaryIds?.load(clock.now());
    await refreshCounts();
    void flush();
  })();

  const stopTriggers = watchFlushTriggers({
    ...config,
    coordinator,
    clock,
    flush,
    refresh: refreshCounts,
  });

  async function findWrite(id: string): Promise<QueuedWrite | undefined> {
    return typeof id === 'string' ? migrateStoredWrite(await storage.get(id)) : undefined;
  }

  return {
    ready,
    async send<T>(input: WriteRequest): Promise<WriteResult<T>> {
      const request = parseWriteRequest(input);
      if (closed) {
        throw clientError('INVALID_OPTIONS', { message: 'send() on a closed write queue' });
      }
      const { temporaryId } = request;
      if (temporaryId !== undefined && !temporaryIds?.isTemporaryId(temporaryId)) {
        throw invalidOption(
          'WriteQueue.send()',
          'temporaryId',
          temporaryIds
            ? 'expected a temporary id from createTemporaryId()'
            : 'needs createWriteQueue({ temporaryIds: temporaryIdSupport() })',
        );
      }
      const key = request.dedupeKey;
      // Up to here nothing awaited: a second send() of the same action finds the first here.
      let promise = key === undefined ? undefined : inFlight.get(key);
      if (promise === undefined) {
        promise = (async () => {
          await ready;
          if (key !== undefined) {
            const existing = (await load()).find((write) => write.dedupeKey === key);
            if (existing !== undefined)
              return { queued: true, id: existing.id, state: existing.state };
          }
          return submit(request);
        })();
        if (key !== undefined) {
          const forget = () => inFlight.delete(key);
          inFlight.set(key, promise);
          promise.then(forget, forget);
        }
      }
      return promise as Promise<WriteResult<T>>;
    },
    list: load,
    async retry(id) {
      const write = await findWrite(id);
      if (write === undefined) return;
      if (write.state === 'failed' || write.state === 'conflict') {
        // The rejection is recorded under the old key; a new key makes this a new request.
        write.idempotencyKey = createIdempotencyKey();
      }
      write.state = 'pending';
      delete write.nextAttemptAt;
      delete write.error;
      delete write.conflict;
      await storage.put(write.id, write);
      await changed();
      await flush(true);
    },
    async remove(id) {
      const write = await findWrite(id);
      if (write === undefined) return false;
      await storage.delete(id);
      await changed();
      return true;
    },
    async resolveConflict(id, chosen) {
      const write = await findWrite(id);
      if (write?.state !== 'conflict' || typeof chosen !== 'function') return;
      const error = clientError(write.error?.code ?? 'VERSION_CONFLICT', {
        status: write.error?.status ?? 409,
        message: write.error?.message,
        details: { ...write.conflict },
      });
      await settleConflict(write, error, write.conflict ?? {}, chosen, 0);
      await refreshCounts();
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
      coordinator.close();
    },
  };
}
