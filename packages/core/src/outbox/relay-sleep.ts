/**
 * How a relay waits between claims and what wakes it, apart from the loop in `relay.ts`.
 *
 * An idle relay sleeps `pollIntervalMs` unless the store signals a commit. A store with only
 * `onCommit` signals every commit, so after a partial batch the relay may wait for the next
 * signal. A store with `watchCommits` (Postgres) signals only while a relay has said it sleeps,
 * because a signalling commit is serialised with every other one: there an awake relay claims
 * again at once after any batch, and only a claim that found nothing makes it say `sleeping()`,
 * claim once more (any commit that did not signal is visible to that claim), and sleep. It then
 * stays asleep between batches of one event (sparse commits, whose signals cost nothing much)
 * and is awake again, so writers stop signalling, as soon as a claim returns more than one.
 * When the store could not make sure of that (a writer kept its transaction open), the relay
 * claims again after 5 ms, five times, then after a back-off that doubles up to 100 ms (or
 * `pollIntervalMs` if shorter), and after 5 ms again once a claim finds rows: writers whose
 * transactions keep overlapping (a loaded machine) delay an event by about 5 ms, and a
 * transaction left open costs at most ten claims a second, never a busy loop.
 *
 * A commit never cuts a back-off after a failure short; `stop()` cuts every wait.
 */
import type { Clock } from '../clock/clock.js';
import type { CommitWatch, OutboxStore } from './outbox-store.js';
import type { RelayStepResult } from './relay-api.js';

/** The waits after the store could not make sure of a wake-up: short ones, then doubling. */
const shortUnsureDelayMs = 5;
const shortUnsureTries = 5;
const maxUnsureDelayMs = 100;

/** The relay loop's waits (see the header). */
export interface RelaySleep {
  /** Subscribes to the store's commit signals. */
  start(): void;
  /** Unsubscribes and cuts the current wait short. */
  stop(): void;
  /** A claim starts: a signal from now on is one that claim may have missed. */
  claiming(): void;
  /** A claim returned `count` entries (more than one: commits are dense, wake up at once). */
  claimed(count: number): void;
  /** Waits as `result` asks before the next claim. */
  after(result: RelayStepResult): Promise<void>;
  /** Waits `ms` after a store failure; a commit does not cut it short. */
  backOff(ms: number): Promise<void>;
}

export function createRelaySleep(
  store: OutboxStore,
  clock: Clock,
  pollIntervalMs: number,
): RelaySleep {
  let wakeRequested = false;
  let wake: (() => void) | undefined;
  let stopping = new AbortController();
  let watch: CommitWatch | undefined;
  let unsubscribe: (() => void) | undefined;
  // The store signals commits on this relay's account (`sleeping()` answered `true`).
  let announced = false;
  let unsure = 0;

  const onCommit = () => {
    wakeRequested = true;
    wake?.();
  };

  /** Sleeps `ms`; a commit cuts it short only when `wakeable`; `stop()` always does. */
  async function pause(ms: number, wakeable: boolean): Promise<void> {
    if (stopping.signal.aborted) return;
    if (wakeable && wakeRequested) return;
    const interrupt = new AbortController();
    const onStop = () => interrupt.abort();
    stopping.signal.addEventListener('abort', onStop, { once: true });
    if (wakeable) wake = () => interrupt.abort();
    try {
      await clock.sleep(ms, interrupt.signal);
    } catch {
      // Interrupted by a commit or by stop(): both mean "look again now".
    } finally {
      wake = undefined;
      stopping.signal.removeEventListener('abort', onStop);
    }
  }

  function wakeUp(): void {
    if (!announced) return;
    announced = false;
    watch?.awake();
  }

  /**
   * The store's answer to `sleeping()`, or unsure after a poll interval (or on `stop()`): the
   * answer comes from a connection, and one that stopped answering without an error (a network
   * path dropping packets) must cost the relay its wake-ups, never its polling.
   */
  async function answerWithinPoll(answer: Promise<boolean>): Promise<boolean> {
    const timeUp = new AbortController();
    const onStop = () => timeUp.abort();
    stopping.signal.addEventListener('abort', onStop, { once: true });
    const deadline = clock.sleep(pollIntervalMs, timeUp.signal).then(
      () => false,
      () => false,
    );
    try {
      return await Promise.race([answer, deadline]);
    } finally {
      timeUp.abort();
      stopping.signal.removeEventListener('abort', onStop);
    }
  }

  async function idle(current: CommitWatch | undefined): Promise<void> {
    if (current === undefined || announced) return pause(pollIntervalMs, true);
    const sure = await answerWithinPoll(current.sleeping());
    if (watch !== current) return;
    if (sure) {
      // The loop claims once more before it sleeps: see the header.
      announced = true;
      unsure = 0;
      return;
    }
    unsure += 1;
    const doublings = Math.min(Math.max(0, unsure - shortUnsureTries), 16);
    const delay = shortUnsureDelayMs * 2 ** doublings;
    await pause(Math.min(pollIntervalMs, maxUnsureDelayMs, delay), true);
  }

  return {
    start() {
      stopping = new AbortController();
      const watching = store.watchCommits?.(onCommit);
      watch = watching;
      unsubscribe = watching === undefined ? store.onCommit?.(onCommit) : () => watching.close();
    },
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      watch = undefined;
      announced = false;
      unsure = 0;
      stopping.abort();
    },
    claiming() {
      wakeRequested = false;
    },
    claimed(count) {
      if (count > 1) wakeUp();
    },
    async after(result) {
      if (announced && result.kind === 'published' && result.count <= 1 && !result.full) {
        // Sparse commits: stay asleep, every commit signals (see the header).
        await pause(pollIntervalMs, true);
        return;
      }
      if (result.kind !== 'empty') wakeUp();
      if (result.kind === 'published') unsure = 0;
      if (result.kind === 'published') {
        // Without a watch every commit signals, so a partial batch may wait for the next one.
        if (!result.full && watch === undefined) await pause(pollIntervalMs, true);
      } else if (result.kind === 'empty') {
        await idle(watch);
      } else if (result.kind === 'failed' || result.kind === 'circuit-open') {
        await pause(result.retryInMs, false);
      }
    },
    async backOff(ms) {
      wakeUp();
      await pause(ms, false);
    },
  };
}
