/**
 * The relay: moves committed outbox rows to a queue engine, in batches, and marks them sent.
 *
 * Guards against the pitfalls every hand-written relay meets:
 * - two relays taking one row: claims are exclusive (the store's `FOR UPDATE SKIP LOCKED`);
 * - a crashed relay holding rows forever: a claim is a lease, it lapses after `leaseMs`;
 * - a crash between "published" and "marked sent": the row is published again, and the
 *   publisher is idempotent by event id (BullMQ job id), so the engine sees it once;
 * - reordering within an aggregate: the store hands a key's rows out in order, one batch at a
 *   time, and nothing of a key is published after one of its rows failed in the batch;
 * - one row the engine always refuses (a poison row) failing every batch it is in: a failed
 *   batch is narrowed down to the rows to blame (`relay-isolation.ts`); only those are charged,
 *   and past `maxAttempts` parked as dead letters, while an engine that is down still opens
 *   the breaker;
 * - polling an empty table every few ms: an idle relay sleeps `pollIntervalMs` unless the store
 *   signals a commit (Postgres `NOTIFY`, sent only while a relay sleeps: `relay-sleep.ts`);
 * - hammering an engine that is down: exponential back-off with jitter and a circuit breaker,
 *   and a commit never cuts a back-off short;
 * - SIGTERM mid-batch: `stop()` lets the batch finish (or, when its signal aborts, gives the
 *   rows back at once) before it resolves.
 */

import { createCircuitBreaker } from '../circuit-breaker/circuit-breaker.js';
import type { CancelTimer, Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { isBallastError } from '../errors/ballast-error.js';
import { createEventListeners } from '../logging/event-listeners.js';
import { noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import { backoffDelay, exponentialSchedule } from '../retry/backoff-schedule.js';
import { withTimeout } from '../timeout/with-timeout.js';
import { bindLogFields } from '../trace/trace-logger.js';
import type { OutboxEntry } from './outbox-store.js';
import type { Relay, RelayStepResult } from './relay-api.js';
import { createHousekeeping } from './relay-housekeeping.js';
import { deliverIsolating, type IsolationOutcome } from './relay-isolation.js';
import {
  type RelayEvents,
  type RelayOptions,
  relayDefaults,
  relayEventNames,
  relayOptionsSchema,
  stopOptionsSchema,
} from './relay-options.js';
import { describeFailure, settleRejected } from './relay-settle.js';
import { createRelaySleep } from './relay-sleep.js';

export type { Relay, RelayStepResult } from './relay-api.js';

/**
 * Builds a relay from an outbox store to a publisher. Run one or several per deployment (in
 * several processes if you like): claims never overlap while leases are live.
 *
 * @example
 * ```ts
 * const relay = createRelay({ store: outbox, publisher, on: { depthAlert: page } });
 * relay.start();
 * process.once('SIGTERM', () => void relay.stop());
 * ```
 */
export function createRelay(options: RelayOptions): Relay {
  const opts = parseOptions(relayOptionsSchema, options, 'createRelay()');
  const { store, publisher } = options;
  const clock: Clock = opts.clock ?? systemClock;
  const name = opts.name ?? 'relay';
  const logger = bindLogFields(opts.logger ?? noopLogger, { relay: name });
  const batchSize = opts.batchSize ?? relayDefaults.batchSize;
  const leaseMs = opts.leaseMs ?? relayDefaults.leaseMs;
  const publishTimeoutMs = opts.publishTimeoutMs ?? Math.max(1, Math.floor(leaseMs / 3));
  const pollIntervalMs = opts.pollIntervalMs ?? relayDefaults.pollIntervalMs;
  const retentionMs = opts.retentionMs ?? relayDefaults.retentionMs;
  const cleanupIntervalMs = opts.cleanupIntervalMs ?? relayDefaults.cleanupIntervalMs;
  const depthCheckIntervalMs = opts.depthCheckIntervalMs ?? relayDefaults.depthCheckIntervalMs;
  const threshold = opts.depthAlertThreshold ?? relayDefaults.depthAlertThreshold;
  const schedule = {
    nominal: exponentialSchedule(
      opts.backoff?.initialDelayMs ?? relayDefaults.initialDelayMs,
      opts.backoff?.factor ?? relayDefaults.factor,
      opts.backoff?.maxDelayMs ?? relayDefaults.maxDelayMs,
    ),
    jitter: opts.backoff?.jitter ?? 'equal',
    random: opts.random ?? Math.random,
  };
  const maxAttempts = opts.maxAttempts ?? relayDefaults.maxAttempts;
  const halfOpenAfterMs = opts.breaker?.halfOpenAfterMs ?? relayDefaults.halfOpenAfterMs;

  const { on, emit } = createEventListeners<RelayEvents>(
    options.on,
    logger,
    'relay',
    relayEventNames,
  );

  const housekeeping = createHousekeeping({
    store,
    clock,
    logger,
    emit,
    threshold,
    retentionMs,
    isRunning: () => state === 'running',
  });

  // The breaker's own clock sets no timers; `openUntil` lets the loop sleep through the open
  // period instead of claiming rows only to give them back.
  let openUntil = 0;
  const breaker = createCircuitBreaker({
    consecutiveFailures: opts.breaker?.consecutiveFailures ?? relayDefaults.consecutiveFailures,
    halfOpenAfterMs,
    // Any failure to hand events over says the engine is in trouble.
    isFailure: () => true,
    clock,
    logger,
    on: {
      break: ({ error }) => {
        openUntil = clock.now() + halfOpenAfterMs;
        logger.error({ err: error, halfOpenAfterMs }, 'relay: engine failing, circuit open');
      },
      reset: () => logger.info({}, 'relay: engine back, circuit closed'),
    },
  });

  let state: Relay['state'] = 'idle';
  let publishFailures = 0;
  let storeFailures = 0;
  let deadLettered = 0;
  let loop: Promise<void> | undefined;
  let abandon = new AbortController();
  const sleep = createRelaySleep(store, clock, pollIntervalMs);
  let stopped: Promise<void> | undefined;
  let restartAfterStop = false;
  const timers = new Set<CancelTimer>();

  function backoff(failures: number): number {
    return backoffDelay(schedule, failures - 1);
  }

  /** One publish call, bounded by `publishTimeoutMs` and by the breaker's signal (which `stop` aborts). */
  function publishCall(entries: readonly OutboxEntry[], signal: AbortSignal): Promise<void> {
    const events = entries.map((entry) => entry.event);
    return withTimeout(
      (timeout) => publisher.publish(events, { signal: timeout }),
      publishTimeoutMs,
      { signal, clock },
    );
  }

  /** Publishes a claimed batch through the breaker, which counts only the engine's failures. */
  async function deliver(
    entries: readonly OutboxEntry[],
    started: number,
  ): Promise<IsolationOutcome> {
    let outcome: IsolationOutcome | undefined;
    try {
      await breaker.execute(
        async ({ signal }) => {
          outcome = await deliverIsolating(entries, {
            publish: (group) => publishCall(group, signal),
            // Narrowing down must finish well inside the lease, or another relay takes the rows.
            shouldStop: () => abandon.signal.aborted || clock.now() - started > leaseMs / 2,
            random: schedule.random,
          });
          if (outcome.engineFailed) throw outcome.engineError;
        },
        { signal: abandon.signal },
      );
    } catch (error) {
      // Refused before a call (circuit open), or the engine failed: nothing is the rows' fault.
      if (outcome?.engineFailed !== true) {
        return {
          delivered: [],
          rejected: [],
          untried: [...entries],
          engineError: error,
          engineFailed: true,
        };
      }
    }
    if (outcome === undefined) throw new Error('relay: breaker returned without running');
    return outcome;
  }

  async function runOnce(): Promise<RelayStepResult> {
    const started = clock.now();
    if (openUntil > started) return { kind: 'circuit-open', retryInMs: openUntil - started };
    sleep.claiming();
    const owner = `${name}:${crypto.randomUUID()}`;
    const entries = await store.claim({
      owner,
      limit: batchSize,
      now: started,
      leaseExpiresAt: started + leaseMs,
    });
    sleep.claimed(entries.length);
    if (entries.length === 0) return { kind: 'empty' };
    const { delivered, rejected, untried, engineError, engineFailed } = await deliver(
      entries,
      started,
    );
    const ids = delivered.map((entry) => entry.event.id);
    if (ids.length > 0) {
      const marked = await store.markSent({ owner, ids, now: clock.now() });
      if (marked < ids.length) {
        logger.warn({ published: ids.length, marked }, 'relay: lease lapsed before markSent');
        emit('leaseLost', { published: ids.length, marked });
      }
    }
    const now = clock.now();
    const parked = await settleRejected(rejected, {
      store,
      owner,
      now,
      maxAttempts,
      backoff,
      logger,
      onRejected: (event) => emit('rejected', event),
      onDeadLetter: (event) => {
        deadLettered += 1;
        emit('deadLetter', event);
      },
    });
    const back = untried.map((entry) => entry.event.id);
    if (abandon.signal.aborted) {
      await store.release({
        owner,
        ids: back,
        now,
        retryAt: now,
        error: 'relay stopped',
        countAttempt: false,
      });
      if (back.length > 0)
        logger.warn({ count: back.length }, 'relay: stopped mid-batch; rows given back');
      return { kind: 'stopped' };
    }
    if (engineFailed) {
      publishFailures += 1;
      const retryAfterMs = isBallastError(engineError, 'CIRCUIT_OPEN')
        ? Number(engineError.details.retryAfterMs ?? halfOpenAfterMs)
        : undefined;
      const retryInMs = retryAfterMs ?? backoff(publishFailures);
      const error = describeFailure(engineError);
      await store.release({
        owner,
        ids: back,
        now,
        retryAt: now + retryInMs,
        error,
        countAttempt: false,
      });
      logger.warn(
        { err: engineError, count: back.length, consecutiveFailures: publishFailures, retryInMs },
        'relay: publish failed; batch released for later',
      );
      emit('publishFailed', {
        count: back.length,
        error: engineError,
        consecutiveFailures: publishFailures,
        retryInMs,
      });
      return { kind: 'failed', retryInMs };
    }
    // Rows left untried behind a refused row of their key, or for lack of lease time: at once.
    await store.release({ owner, ids: back, now, retryAt: now, countAttempt: false });
    publishFailures = 0;
    if (ids.length > 0) emit('published', { count: ids.length, durationMs: clock.now() - started });
    return {
      kind: 'published',
      count: ids.length,
      full: entries.length === batchSize,
      rejected: rejected.length,
      parked,
    };
  }

  async function run(): Promise<void> {
    while (state === 'running') {
      try {
        const result = await runOnce();
        storeFailures = 0;
        await sleep.after(result);
      } catch (error) {
        storeFailures += 1;
        const retryInMs = backoff(storeFailures);
        logger.error({ err: error, retryInMs }, 'relay: outbox store failed; backing off');
        emit('storeError', { error, operation: 'relay' });
        await sleep.backOff(retryInMs);
      }
    }
  }

  function every(ms: number, task: () => Promise<void>): void {
    const arm = () => {
      const cancel = clock.setTimer(() => {
        timers.delete(cancel);
        void task().finally(() => {
          if (state === 'running') arm();
        });
      }, ms);
      timers.add(cancel);
    };
    arm();
  }

  function start(): void {
    if (state === 'running') return;
    // The last call wins: a start during a stop restarts the loop once the stop is done, rather
    // than being dropped and leaving a relay its caller believes is running.
    if (state === 'stopping') {
      restartAfterStop = true;
      return;
    }
    state = 'running';
    abandon = new AbortController();
    sleep.start();
    void housekeeping.checkDepth();
    every(depthCheckIntervalMs, housekeeping.checkDepth);
    every(cleanupIntervalMs, housekeeping.cleanUp);
    loop = run();
  }

  async function stop(stopOptions: { signal?: AbortSignal } = {}): Promise<void> {
    // Checked first: a signal that is no AbortSignal threw a TypeError before the stop began.
    parseOptions(stopOptionsSchema, stopOptions, 'relay.stop()');
    if (state !== 'running' && state !== 'stopping') return;
    restartAfterStop = false;
    const signal = stopOptions.signal;
    const onAbort = () => abandon.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // One stop at a time: a second call waits for the same one (its signal can still abandon
      // the batch).
      stopped ??= finishStop();
      await stopped;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async function finishStop(): Promise<void> {
    state = 'stopping';
    for (const cancel of timers) cancel();
    timers.clear();
    sleep.stop();
    try {
      await loop;
    } finally {
      stopped = undefined;
      state = 'stopped';
      logger.info({}, 'relay: stopped');
      if (restartAfterStop) {
        restartAfterStop = false;
        start();
      }
    }
  }

  return {
    start,
    stop,
    runOnce,
    on,
    get state() {
      return state;
    },
    get circuit() {
      return breaker.state;
    },
    get lastDepth() {
      return housekeeping.lastDepth;
    },
    get deadLettered() {
      return deadLettered;
    },
  };
}
