/**
 * The relay's wake-up line: one dedicated connection that `LISTEN`s on the outbox's channel
 * (a pooled connection cannot hold a LISTEN: the pool would hand it to someone else). Every
 * `publish` sends `pg_notify` in the writer's transaction, which Postgres delivers only when
 * that transaction commits, so a wake-up always means committed rows.
 *
 * Notifications are a hint, never the source of truth: if the connection drops, the relay's slow
 * poll still finds every row, and this reconnects with back-off and wakes the relay once on
 * reconnecting (commits may have happened while it was away).
 */
import { type CancelTimer, type Clock, type Logger, noopLogger, systemClock } from '@ballast/core';
import { quoteIdentifier } from '../table-identifier.js';

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

export class OutboxListener {
  readonly #listeners = new Set<() => void>();
  readonly #open: () => Promise<ListenConnection>;
  readonly #channel: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #connection: ListenConnection | undefined;
  #connecting = false;
  #retryTimer: CancelTimer | undefined;
  #failures = 0;

  constructor(
    options: ListenOptions,
    channel: string,
    clock: Clock = systemClock,
    logger: Logger = noopLogger,
  ) {
    this.#open =
      'connect' in options ? options.connect : () => openWithPg(options.connectionString);
    this.#channel = channel;
    this.#clock = clock;
    this.#logger = logger;
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (this.#listeners.size === 1) void this.#connect();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) void this.close();
    };
  }

  /** Ends the connection and any pending reconnect. */
  async close(): Promise<void> {
    this.#retryTimer?.();
    this.#retryTimer = undefined;
    const connection = this.#connection;
    this.#connection = undefined;
    await connection?.end().catch(() => undefined);
  }

  #wake(): void {
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch (error) {
        // A wake-up hint failing must not stop the others.
        this.#logger.warn({ err: error }, 'outbox: commit listener threw; ignored');
      }
    }
  }

  async #connect(): Promise<void> {
    if (this.#connecting || this.#connection !== undefined || this.#listeners.size === 0) return;
    this.#connecting = true;
    let connection: ListenConnection | undefined;
    try {
      connection = await this.#open();
      const lost = (error?: Error) => {
        if (this.#connection !== connection) return;
        this.#connection = undefined;
        this.#logger.warn({ err: error }, 'outbox: LISTEN connection lost; reconnecting');
        connection?.end().catch(() => undefined);
        this.#scheduleReconnect();
      };
      connection.on('notification', (message) => {
        if (message.channel === this.#channel) this.#wake();
      });
      // Attached in the tick the connection opened: an 'error' with no listener would crash
      // the process when the database restarts.
      connection.on('error', lost);
      connection.on('end', () => lost());
      await connection.query(`LISTEN ${quoteIdentifier(this.#channel)}`);
      if (this.#listeners.size === 0) {
        await connection.end().catch(() => undefined);
        return;
      }
      this.#connection = connection;
      if (this.#failures > 0) this.#wake();
      this.#failures = 0;
    } catch (error) {
      await connection?.end().catch(() => undefined);
      this.#logger.warn({ err: error }, 'outbox: could not LISTEN; the relay polls meanwhile');
      this.#scheduleReconnect();
    } finally {
      this.#connecting = false;
    }
  }

  #scheduleReconnect(): void {
    if (this.#listeners.size === 0 || this.#retryTimer !== undefined) return;
    this.#failures += 1;
    const delay = Math.min(30_000, 500 * 2 ** Math.min(this.#failures - 1, 10));
    this.#retryTimer = this.#clock.setTimer(() => {
      this.#retryTimer = undefined;
      void this.#connect();
    }, delay);
  }
}
