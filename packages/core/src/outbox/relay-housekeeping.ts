/**
 * The relay's two background chores beside the loop: watching the outbox's depth (a metric, an
 * alert past the threshold and its recovery) and deleting sent rows past their retention. Apart
 * from `relay.ts` so that file holds the loop and its lifecycle.
 */
import type { Clock } from '../clock/clock.js';
import type { Logger } from '../logging/logger.js';
import type { OutboxStore } from './outbox-store.js';
import type { RelayEvents } from './relay-options.js';

/** What the chores need from the relay. */
export interface HousekeepingContext {
  readonly store: OutboxStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly emit: <E extends keyof RelayEvents>(
    event: E,
    value: Parameters<RelayEvents[E]>[0],
  ) => void;
  /** Depth at which `depthAlert` fires (once, until the depth is back under it). */
  readonly threshold: number;
  /** How long sent rows are kept. */
  readonly retentionMs: number;
  /** Whether the relay still runs: a long clean-up stops between sweeps when it does not. */
  readonly isRunning: () => boolean;
}

/** The chores, and the last depth measured. */
export interface Housekeeping {
  checkDepth(): Promise<void>;
  cleanUp(): Promise<void>;
  readonly lastDepth: number | undefined;
}

/** Builds the relay's chores; neither ever rejects (a store failure is logged and emitted). */
export function createHousekeeping(context: HousekeepingContext): Housekeeping {
  const { store, clock, logger, emit, threshold, retentionMs, isRunning } = context;
  let lastDepth: number | undefined;
  let alerting = false;

  async function checkDepth(): Promise<void> {
    try {
      const depth = await store.depth();
      lastDepth = depth;
      emit('depth', { depth, threshold });
      if (depth >= threshold && !alerting) {
        alerting = true;
        logger.error({ depth, threshold }, 'relay: outbox depth over the alert threshold');
        emit('depthAlert', { depth, threshold });
      } else if (depth < threshold && alerting) {
        alerting = false;
        logger.info({ depth, threshold }, 'relay: outbox depth back under the threshold');
        emit('depthRecovered', { depth, threshold });
      }
    } catch (error) {
      logger.warn({ err: error }, 'relay: could not measure the outbox depth');
      emit('storeError', { error, operation: 'depth' });
    }
  }

  async function cleanUp(): Promise<void> {
    const limit = 1_000;
    let total = 0;
    try {
      // Bounded sweeps, so one clean-up never holds a long transaction on a huge backlog.
      for (let round = 0; round < 100 && isRunning(); round++) {
        const deleted = await store.deleteSent({ before: clock.now() - retentionMs, limit });
        total += deleted;
        if (deleted < limit) break;
      }
    } catch (error) {
      logger.warn({ err: error }, 'relay: could not delete old sent rows');
      emit('storeError', { error, operation: 'deleteSent' });
    }
    if (total > 0) emit('cleaned', { deleted: total });
  }

  return {
    checkDepth,
    cleanUp,
    get lastDepth() {
      return lastDepth;
    },
  };
}
