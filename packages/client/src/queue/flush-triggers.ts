/**
 * When a queue replays (seed 002 §2.4): as soon as the connection returns (the connectivity's
 * `online`, or the platform's `online` event without one), when another tab announces a
 * change, and on a timer whatever the events say, since `online` events are missed or lie.
 * Shared by the write queue and the upload queue.
 */
import type { Clock } from '@ballast/core';
import type { Connectivity } from '../connectivity/connectivity.js';
import type { TabCoordinator } from './tab-coordination.js';

/** What {@link watchFlushTriggers} calls and listens to. */
export interface FlushTriggers {
  connectivity?: Connectivity | undefined;
  coordinator: TabCoordinator;
  clock: Clock;
  /** A replay this often, in ms (the queue's option of that name). */
  flushIntervalMs: number;
  /**
   * Replays; `force` ignores backoff (the connection just came back). Not awaited: a serial
   * flush (serial-flush.ts) never rejects.
   */
  flush(force: boolean): void;
  /** Another tab changed the queue: recount (not awaited either). */
  refresh(): void;
}

/** Starts the triggers; returns a function that stops them all. */
export function watchFlushTriggers(triggers: FlushTriggers): () => void {
  const { connectivity, coordinator, clock, flush } = triggers;
  const onOnline = () => flush(true);
  const unsubscribe = connectivity?.on('change', ({ status }) => {
    if (status === 'online') onOnline();
  });
  const platform =
    connectivity === undefined && typeof globalThis.addEventListener === 'function'
      ? globalThis
      : undefined;
  platform?.addEventListener('online', onOnline);
  coordinator.onAnnouncement(() => {
    triggers.refresh();
    flush(false);
  });
  let cancelTick: (() => void) | undefined;
  const tick = () => {
    cancelTick = clock.setTimer(() => {
      flush(false);
      tick();
    }, triggers.flushIntervalMs);
  };
  tick();
  return () => {
    cancelTick?.();
    unsubscribe?.();
    platform?.removeEventListener('online', onOnline);
  };
}
