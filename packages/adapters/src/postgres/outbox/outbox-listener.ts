/**
 * The relay's wake-up line: one dedicated connection that `LISTEN`s on the outbox's channel
 * (a pooled connection cannot hold a LISTEN: the pool would hand it to someone else). A
 * `publish` sends `pg_notify` in the writer's transaction while a relay sleeps, which Postgres
 * delivers only when that transaction commits, so a wake-up always means committed rows. The
 * same connection holds the locks that tell writers a relay sleeps (`outbox-wake-up.ts`): it
 * holds them while any of its subscribers sleeps, a plain `onCommit` subscriber always.
 *
 * Notifications are a hint, never the source of truth: if the connection drops, the relay's slow
 * poll still finds every row, and this reconnects with back-off and wakes the relay once on
 * reconnecting (commits may have happened while it was away).
 */
import {
  type CancelTimer,
  type Clock,
  type CommitWatch,
  type Logger,
  noopLogger,
  systemClock,
} from '@ballast/core';
import { quoteIdentifier } from '../table-identifier.js';
import type { wakeUpStatements } from './outbox-wake-up.js';

/** The part of a `pg.Client` the listener uses. */
export interface ListenConnection {
  query(text: string): Promise<unknown>;
  on(event: 'notification', listener: (message: { channel: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  end(): Promise<void>;
}

/** How the outbox opens its LISTEN connection. */
export type ListenOptions =
  | { readonly connectionString: string }
  | { readonly connect: () => Promise<ListenConnection> };

async function openWithPg(connectionString: string): Promise<ListenConnection> {
  // Loaded on demand so the subpath does not need `pg` unless LISTEN is used this way.
  const pg = await import('pg');
  const Client = (pg.default ?? pg).Client;
  const client = new Client({ connectionString, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client as unknown as ListenConnection;
}

/** One subscriber: its wake-up, and whether it sleeps (wants writers to notify). */
interface Subscriber {
  readonly wake: () => void;
  sleeping: boolean;
}

/** The lock statements, from `wakeUpStatements`. */
type WakeUpStatements = ReturnType<typeof wakeUpStatements>;

const lockTimeoutState = '55P03';

/**
 * How long `close()` waits for the lock statements still queued on the connection, and then for
 * the connection to end, ms. A connection that stopped answering (a path dropping packets) would
 * otherwise hold `outbox.close()`, and a graceful shutdown with it, for ever.
 */
const closeWaitMs = 2_000;

function firstValue(result: unknown, column: string): unknown {
  return (result as { rows?: Record<string, unknown>[] } | null)?.rows?.[0]?.[column];
}

export class OutboxListener {
  readonly #subscribers = new Set<Subscriber>();
  readonly #open: () => Promise<ListenConnection>;
  readonly #channel: string;
  readonly #statements: WakeUpStatements;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #connection: ListenConnection | undefined;
  #connecting = false;
  #retryTimer: CancelTimer | undefined;
  #failures = 0;
  /** This connection holds the sleeping lock. */
  #holding = false;
  #taking: Promise<boolean> | undefined;
  /** The lock statements, one at a time (a release must not overtake a take). */
  #locks: Promise<unknown> = Promise.resolve();

  constructor(
    options: ListenOptions,
    channel: string,
    statements: WakeUpStatements,
    clock: Clock = systemClock,
    logger: Logger = noopLogger,
  ) {
    this.#open =
      'connect' in options ? options.connect : () => openWithPg(options.connectionString);
    this.#channel = channel;
    this.#statements = statements;
    this.#clock = clock;
    this.#logger = logger;
  }

  /** A plain wake-up hint: writers notify for it on every commit while it is subscribed. */
  subscribe(listener: () => void): () => void {
    const subscriber = this.#add(listener, true);
    return () => this.#remove(subscriber);
  }

  /** A relay's subscription: writers notify only while it says it sleeps. */
  watch(listener: () => void): CommitWatch {
    const subscriber = this.#add(listener, false);
    let closed = false;
    return {
      sleeping: async () => {
        if (closed) return false;
        subscriber.sleeping = true;
        const sure = await this.#takeSleepingLock();
        // Unsure, the relay stays awake: the lock must not be kept on its account.
        if (!sure && !closed) this.#awake(subscriber);
        return sure;
      },
      awake: () => this.#awake(subscriber),
      close: () => {
        if (closed) return;
        closed = true;
        subscriber.sleeping = false;
        this.#remove(subscriber);
      },
    };
  }

  #awake(subscriber: Subscriber): void {
    subscriber.sleeping = false;
    this.#releaseUnlessSleeping();
  }

  /** Ends the connection and any pending reconnect. */
  async close(): Promise<void> {
    this.#retryTimer?.();
    this.#retryTimer = undefined;
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection !== undefined) {
      if (this.#holding) this.#lockStep(() => connection.query(this.#statements.wake));
      this.#wakeOthers(connection);
    }
    this.#holding = false;
    await this.#withinCloseWait(this.#locks);
    if (connection !== undefined) await this.#withinCloseWait(connection.end());
  }

  /** Waits for `work` (its failure ignored) at most {@link closeWaitMs}. */
  async #withinCloseWait(work: Promise<unknown>): Promise<void> {
    let cancel: CancelTimer = () => {};
    const timeUp = new Promise<void>((resolve) => {
      cancel = this.#clock.setTimer(resolve, closeWaitMs);
    });
    try {
      await Promise.race([work.catch(() => undefined), timeUp]);
    } finally {
      cancel();
    }
  }

  /**
   * Relays on other connections may sleep without the sleeper lock while this one holds it or
   * is awake: when a subscriber leaves, they are woken to take over (after the locks are given
   * up, so that they can take them).
   */
  #wakeOthers(connection: ListenConnection): void {
    this.#lockStep(() => connection.query(this.#statements.notify));
  }

  #add(wake: () => void, sleeping: boolean): Subscriber {
    const subscriber = { wake, sleeping };
    this.#subscribers.add(subscriber);
    if (this.#subscribers.size === 1) void this.#connect();
    else if (sleeping) void this.#takeSleepingLock();
    return subscriber;
  }

  #remove(subscriber: Subscriber): void {
    if (!this.#subscribers.delete(subscriber)) return;
    if (this.#subscribers.size === 0) {
      void this.close();
      return;
    }
    this.#releaseUnlessSleeping();
    if (this.#connection !== undefined) this.#wakeOthers(this.#connection);
  }

  #anySleeping(): boolean {
    for (const subscriber of this.#subscribers) if (subscriber.sleeping) return true;
    return false;
  }

  /** Runs `step` after the lock statements before it; never rejects. */
  #lockStep<T>(step: () => Promise<T>): Promise<T | undefined> {
    const next = this.#locks.then(step).catch((error: unknown) => {
      this.#logger.warn({ err: error }, 'outbox: wake-up lock statement failed');
      return undefined;
    });
    this.#locks = next;
    return next;
  }

  /**
   * Resolves `true` once writers notify this connection or another relay's (see
   * `outbox-wake-up.ts`), `false` when that could not be made sure (no connection, or a writer
   * held its transaction past `lock_timeout`).
   */
  #takeSleepingLock(): Promise<boolean> {
    const connection = this.#connection;
    if (connection === undefined) return Promise.resolve(false);
    if (this.#holding) return Promise.resolve(true);
    this.#taking ??= this.#lockStep(() => this.#take(connection)).then((outcome) => {
      this.#taking = undefined;
      return outcome !== undefined && outcome !== 'unsure';
    });
    return this.#taking;
  }

  /**
   * A sleeping subscriber that another connection's locks covered may have lost that cover (the
   * relay there stopped: it gave the locks up, then notified). So on a notification this
   * connection tries to take them, and when it does, wakes its subscribers once more: commits
   * between that release and this take did not notify.
   */
  #takeOverIfCovered(): void {
    const connection = this.#connection;
    if (connection === undefined || this.#holding || !this.#anySleeping()) return;
    void this.#lockStep(() => this.#take(connection)).then((outcome) => {
      if (outcome === 'taken') this.#wake();
    });
  }

  /** `covered`: another connection holds the sleeper lock, writers notify on its account. */
  async #take(
    connection: ListenConnection,
    isCurrent = () => connection === this.#connection,
  ): Promise<'held' | 'taken' | 'covered' | 'unsure'> {
    if (this.#holding) return 'held';
    let slept: unknown;
    try {
      slept = firstValue(await connection.query(this.#statements.sleep), 'slept');
    } catch (error) {
      await connection.query(this.#statements.resign).catch(() => undefined);
      if ((error as { code?: unknown } | null)?.code !== lockTimeoutState) throw error;
      return 'unsure';
    }
    if (slept !== true) return 'covered';
    if (!isCurrent()) return 'unsure';
    this.#holding = true;
    // Every subscriber woke while the lock was being taken.
    this.#releaseUnlessSleeping();
    return 'taken';
  }

  #releaseUnlessSleeping(): void {
    const connection = this.#connection;
    if (!this.#holding || connection === undefined || this.#anySleeping()) return;
    this.#holding = false;
    this.#lockStep(() => connection.query(this.#statements.wake));
  }

  #wake(): void {
    for (const { wake: listener } of this.#subscribers) {
      try {
        listener();
      } catch (error) {
        // A wake-up hint failing must not stop the others.
        this.#logger.warn({ err: error }, 'outbox: commit listener threw; ignored');
      }
    }
  }

  async #connect(): Promise<void> {
    if (this.#connecting || this.#connection !== undefined || this.#subscribers.size === 0) return;
    this.#connecting = true;
    let connection: ListenConnection | undefined;
    try {
      connection = await this.#open();
      const lost = (error?: Error) => {
        if (this.#connection !== connection) return;
        this.#connection = undefined;
        this.#holding = false;
        this.#logger.warn({ err: error }, 'outbox: LISTEN connection lost; reconnecting');
        connection?.end().catch(() => undefined);
        this.#scheduleReconnect();
      };
      connection.on('notification', (message) => {
        if (message.channel !== this.#channel) return;
        this.#wake();
        this.#takeOverIfCovered();
      });
      // Attached in the tick the connection opened: an 'error' with no listener would crash
      // the process when the database restarts.
      connection.on('error', lost);
      connection.on('end', () => lost());
      await connection.query(this.#statements.setUp);
      // Locks before LISTEN, so the connection shows `LISTEN` as its query while it waits; a
      // notification in between is covered by the wake-up below.
      const holding =
        this.#anySleeping() && (await this.#take(connection, () => true)) !== 'unsure';
      await connection.query(`LISTEN ${quoteIdentifier(this.#channel)}`);
      if (this.#subscribers.size === 0) {
        await connection.end().catch(() => undefined);
        return;
      }
      this.#connection = connection;
      this.#releaseUnlessSleeping();
      if (this.#failures > 0 || holding) this.#wake();
      this.#failures = 0;
    } catch (error) {
      this.#holding = false;
      await connection?.end().catch(() => undefined);
      this.#logger.warn({ err: error }, 'outbox: could not LISTEN; the relay polls meanwhile');
      this.#scheduleReconnect();
    } finally {
      this.#connecting = false;
    }
  }

  #scheduleReconnect(): void {
    if (this.#subscribers.size === 0 || this.#retryTimer !== undefined) return;
    this.#failures += 1;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(this.#failures - 1, 10));
    this.#retryTimer = this.#clock.setTimer(() => {
      this.#retryTimer = undefined;
      void this.#connect();
    }, delay);
  }
}
