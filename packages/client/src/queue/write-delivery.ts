/**
 * Sending one queued write and settling what the server answered: delivered (2xx, removed),
 * backing off (network, timeout, 5xx: never taken as delivered), failed (a 4xx, with the
 * server's message), or a version conflict handed to the resolver, which may re-send it under a
 * new key, drop it or park it for the user.
 */
import type { BallastError, Clock } from '@ballast/core';
import { asClientError } from '../errors/client-error.js';
import { isSendableVersion } from '../fetch/client-options.js';
import type { ClientResponse } from '../fetch/create-client.js';
import { createIdempotencyKey } from '../fetch/idempotency-key.js';
import { backoffMs, mayRecover } from '../fetch/retry-decision.js';
import type { ConflictDecision, ConflictResolver } from './conflict-resolvers.js';
import type { QueueStorage } from './queue-storage.js';
import type { QueuedWrite, WriteConflict } from './queued-write.js';
import type { ParsedWriteQueueOptions, WriteQueueEvents } from './write-queue-options.js';

/** How one delivery ended. */
export type Outcome =
  | { kind: 'delivered'; response: ClientResponse<unknown> }
  | { kind: 'retry' }
  | { kind: 'failed'; error: BallastError }
  | { kind: 'conflict'; error: BallastError }
  | { kind: 'dropped'; error: BallastError };

/** A conflict resolver may re-send this many times in a row before the write is parked. */
const maxResends = 3;

/**
 * What the server said it holds, from a 409/412 problem+json. A `currentVersion` that cannot be
 * sent back in `If-Match` (a quote, `1e400`) is left out, so no resolver re-sends against it
 * (the client would refuse the re-send): the edit stays parked for the user to settle.
 */
export function conflictOf(error: BallastError): WriteConflict {
  const { currentVersion, current } = error.details;
  return {
    ...(isSendableVersion(currentVersion) ? { currentVersion } : {}),
    ...(typeof current === 'object' && current !== null && !Array.isArray(current)
      ? { current: current as Record<string, unknown> }
      : {}),
  };
}

/** What a delivery needs from its queue. */
export interface DeliveryContext {
  config: Pick<ParsedWriteQueueOptions, 'client' | 'retryDelaysMs' | 'resolveConflict'>;
  storage: QueueStorage;
  clock: Clock;
  emit<E extends keyof WriteQueueEvents>(
    event: E,
    payload: Parameters<WriteQueueEvents[E]>[0],
  ): void;
  /** The queue changed: tell the other tabs and recount. */
  changed(): Promise<void>;
  /** A pending write left (or joined) the queue: adjust the counts without reading it all back. */
  countPending(delta: 1 | -1): void;
  /** Flush again at `at` (epoch ms). */
  wakeUpAt(at: number): void;
  /**
   * A write was delivered: removes it from storage (or remembers to, when the storage refuses)
   * and follows up, such as resolving its temporary id.
   */
  afterDelivery(write: QueuedWrite, response: ClientResponse<unknown>): Promise<void>;
}

/** How {@link WriteDelivery.deliver} treats a rejection. */
export interface DeliverHow {
  /** Keep a rejected write as `failed` (a replay), or drop it (sent at once: the caller is told). */
  keepRejected: boolean;
  /** Re-sends so far by a conflict resolver; set only on such a re-send. */
  resends?: number;
  /** The client's retries of this attempt. */
  retries?: number;
}

/** Delivery of queued writes. */
export interface WriteDelivery {
  deliver(write: QueuedWrite, how: DeliverHow): Promise<Outcome>;
  settleConflict(
    write: QueuedWrite,
    error: BallastError,
    conflict: WriteConflict,
    chosen: ConflictResolver,
    resends: number,
  ): Promise<Outcome>;
}

/** Creates the delivery of one queue. */
export function createWriteDelivery(context: DeliveryContext): WriteDelivery {
  const { config, storage, clock, emit, changed, countPending, wakeUpAt, afterDelivery } = context;

  /** Keeps `write` as `failed` or `conflict` with the server's answer, for the user to settle. */
  async function park(
    write: QueuedWrite,
    state: 'failed' | 'conflict',
    error: BallastError,
  ): Promise<Outcome> {
    write.state = state;
    write.error = { code: error.code, message: error.message, status: error.status };
    delete write.sendingSince;
    delete write.nextAttemptAt;
    await storage.put(write.id, write);
    changed();
    emit(state, { write, error });
    return { kind: state, error };
  }

  async function settleConflict(
    write: QueuedWrite,
    error: BallastError,
    conflict: WriteConflict,
    chosen: ConflictResolver | undefined,
    resends: number,
  ): Promise<Outcome> {
    let decision: ConflictDecision | undefined;
    try {
      if (resends < maxResends) decision = await chosen?.({ write, conflict, error });
    } catch {
      // A resolver that throws cannot decide: the user does.
    }
    // No resolver (the default), too many re-sends, or no decision: the user decides.
    decision ??= { action: 'park' };
    if (decision.action === 'drop') {
      await storage.delete(write.id);
      changed();
      return { kind: 'dropped', error };
    }
    if (decision.action === 'resend') {
      write.version = decision.version;
      if (decision.body !== undefined) write.body = decision.body;
      if (conflict.current !== undefined) write.base = conflict.current;
      // The server recorded its 409/412 under the old key; the re-sent edit is a new request.
      write.idempotencyKey = createIdempotencyKey();
      write.state = 'pending';
      delete write.conflict;
      delete write.error;
      await storage.put(write.id, write);
      return deliver(write, { keepRejected: true, resends: resends + 1 });
    }
    write.conflict = {
      ...conflict,
      ...(decision.fields === undefined ? {} : { fields: decision.fields }),
    };
    return park(write, 'conflict', error);
  }

  async function deliver(write: QueuedWrite, how: DeliverHow): Promise<Outcome> {
    write.attempts += 1;
    let error: BallastError;
    try {
      // An absent field is `undefined` here, which `request()` takes as not given.
      const response = await config.client.request(write.path, {
        method: write.method,
        body: write.body,
        headers: write.headers,
        idempotencyKey: write.idempotencyKey,
        ifMatch: write.version,
        retries: how.retries,
      });
      await afterDelivery(write, response);
      if (how.resends === undefined) countPending(-1);
      else void changed();
      emit('delivered', { write, response });
      return { kind: 'delivered', response };
    } catch (caught) {
      // A BallastError passes through; anything else becomes INTERNAL.
      error = asClientError(caught);
    }
    // Removed while it was on the wire (by the user, or in another tab): it must not come back.
    if (!(await storage.get(write.id))) return { kind: 'dropped', error };
    // Not delivered: the write waits and is sent again.
    if (error.code === 'ABORTED' || mayRecover(error)) {
      write.lastAttemptAt = new Date(clock.now());
      const at = clock.now() + backoffMs(config.retryDelaysMs, write.attempts - 1, error);
      write.state = 'pending';
      write.nextAttemptAt = new Date(at);
      delete write.sendingSince;
      await storage.put(write.id, write);
      changed();
      wakeUpAt(at);
      return { kind: 'retry' };
    }
    // Only an edit (a write with a version) can conflict; a creation's 409 is a rejection.
    if (write.version !== undefined && (error.status === 409 || error.status === 412)) {
      return settleConflict(
        write,
        error,
        conflictOf(error),
        config.resolveConflict,
        how.resends ?? 0,
      );
    }
    if (!how.keepRejected) {
      await storage.delete(write.id);
      changed();
      return { kind: 'failed', error };
    }
    return park(write, 'failed', error);
  }

  return { deliver, settleConflict };
}
