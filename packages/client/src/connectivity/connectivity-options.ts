/** Options of {@link createConnectivity}, validated apart from the behaviour. */
import type { Clock } from '@ballast/core';
import {
  clockCheck,
  duration,
  func,
  number,
  object,
  optional,
  parseOptions,
  string,
  withMethods,
} from '../options/option-checks.js';

/** Whether the server can be reached. */
export type ConnectivityStatus = 'online' | 'offline' | 'degraded';

/** A change of {@link ConnectivityStatus}. */
export interface ConnectivityChange {
  status: ConnectivityStatus;
  previous: ConnectivityStatus;
}

/** Events of a {@link Connectivity}. */
export interface ConnectivityEvents {
  /** The status changed. */
  change: (event: ConnectivityChange) => void;
}

/** Options of {@link createConnectivity}. */
export interface ConnectivityOptions {
  /**
   * URL of a cheap health endpoint (`GET`, any 2xx means reachable), e.g. `'/health'`. Without
   * it, status follows the browser's `navigator.onLine` and the failures reported by clients.
   */
  healthUrl?: string;
  /** The fetch used for the health ping. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Consecutive failed requests before the server is pinged (or called degraded). Default `3`. */
  failureThreshold?: number;
  /** While not online, the health ping repeats this often, in ms. Default `5_000`. */
  pingIntervalMs?: number;
  /** Time allowed for one health ping, in ms. Default `5_000`. */
  pingTimeoutMs?: number;
  /**
   * The object whose `online`/`offline` events and `navigator.onLine` are watched. Default
   * `globalThis` when it has `addEventListener` (a browser page or worker); in Node, none.
   */
  target?: EventTarget;
  /** Listeners, as `on: { change }`. */
  on?: Partial<ConnectivityEvents>;
  /** Source of time for the ping timer. Default: the system clock. */
  clock?: Clock;
}

type Defaulted = 'failureThreshold' | 'pingIntervalMs' | 'pingTimeoutMs';
/** Options after validation, defaults applied. */
export type ParsedConnectivityOptions = Omit<ConnectivityOptions, Defaulted> &
  Required<Pick<ConnectivityOptions, Defaulted>>;

/** Validates {@link createConnectivity}'s options and applies the defaults. */
export function parseConnectivityOptions(input: unknown): ParsedConnectivityOptions {
  return parseOptions(
    object({
      healthUrl: optional(string(1, 2_000)),
      fetch: optional(func<typeof fetch>()),
      failureThreshold: optional(number(1, 1_000), 3),
      pingIntervalMs: optional(duration(10), 5_000),
      pingTimeoutMs: optional(duration(1), 5_000),
      target: optional(withMethods<EventTarget>('addEventListener')),
      on: optional(object({ change: optional(func<ConnectivityEvents['change']>()) })),
      clock: optional(clockCheck),
    }),
    input,
    'createConnectivity()',
  );
}
