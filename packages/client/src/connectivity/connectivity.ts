/**
 * Whether the server can be reached, as one status the UI can show ("Sin conexión", seed 002
 * §2.3). The browser's `navigator.onLine` only knows whether there is a network interface, not
 * whether the API answers (a captive portal, a dead Wi-Fi uplink), so failed requests count
 * too: after N in a row a light health ping decides, and keeps deciding until the server
 * answers. In Node there is no `navigator`, and the ping alone does the work.
 */
import { systemClock } from '@ballast/core';
import { createListeners } from '../events/listeners.js';
import type { ConnectivityReporter } from '../fetch/client-options.js';
import {
  type ConnectivityEvents,
  type ConnectivityOptions,
  type ConnectivityStatus,
  parseConnectivityOptions,
} from './connectivity-options.js';

/** The connectivity tracker made by {@link createConnectivity}. */
export interface Connectivity extends ConnectivityReporter {
  /** The current status. */
  readonly status: ConnectivityStatus;
  /** Subscribes to status changes; returns a function that unsubscribes. */
  on<E extends keyof ConnectivityEvents>(event: E, listener: ConnectivityEvents[E]): () => void;
  /** Pings the health URL now (when configured) and resolves with the resulting status. */
  check(): Promise<ConnectivityStatus>;
  /** Stops listening to the platform and cancels the ping timer. */
  close(): void;
}

type OnlineNavigator = { onLine?: boolean } | undefined;

/**
 * Tracks connectivity from `navigator.onLine`, `online`/`offline` events, failures reported by
 * clients (`createClient({ connectivity })`) and a health ping.
 *
 * - `offline`: the platform says there is no network, or the health ping gets no answer.
 * - `degraded`: requests keep failing but the device has a network, or the health endpoint
 *   answers with an error status.
 * - `online`: the last request or ping got an answer.
 *
 * @example
 * ```ts
 * const connectivity = createConnectivity({ healthUrl: '/health' });
 * connectivity.on('change', ({ status }) => banner.toggle(status !== 'online'));
 * const api = createClient({ connectivity });
 * ```
 */
export function createConnectivity(options: ConnectivityOptions = {}): Connectivity {
  const config = parseConnectivityOptions(options);
  const clock = config.clock ?? systemClock;
  const target =
    config.target ??
    (typeof globalThis.addEventListener === 'function' ? (globalThis as EventTarget) : undefined);
  // Without a target (Node) there is no platform status: only pings and reports count.
  const platformOnline = () =>
    target === undefined || (globalThis.navigator as OnlineNavigator)?.onLine !== false;

  const { emit, on } = createListeners<ConnectivityEvents>(['change'], config.on);
  let status: ConnectivityStatus = platformOnline() ? 'online' : 'offline';
  let failures = 0;
  let cancelPing: (() => void) | undefined;
  let pinging: Promise<ConnectivityStatus> | undefined;
  let closed = false;

  function setStatus(next: ConnectivityStatus) {
    if (next === status) return;
    const previous = status;
    status = next;
    // After close() the status is still kept, but nobody is told any more.
    if (!closed) emit('change', { status: next, previous });
    if (next === 'online') stopPinging();
    else schedulePing();
  }

  function stopPinging() {
    cancelPing?.();
    cancelPing = undefined;
  }

  function schedulePing() {
    if (closed || config.healthUrl === undefined || cancelPing !== undefined) return;
    cancelPing = clock.setTimer(() => {
      cancelPing = undefined;
      void check();
    }, config.pingIntervalMs);
  }

  async function ping(healthUrl: string): Promise<ConnectivityStatus> {
    const controller = new AbortController();
    const cancelTimer = clock.setTimer(() => controller.abort(), config.pingTimeoutMs);
    try {
      const fetchImpl = config.fetch ?? globalThis.fetch;
      const response = await fetchImpl(healthUrl, {
        method: 'GET',
        cache: 'no-store',
        redirect: 'manual',
        signal: controller.signal,
      });
      // The body is not needed; release the connection.
      await response.body?.cancel().catch(() => undefined);
      // A redirect is not the server answering: a captive portal sends every request to its
      // sign-in page, whose 200 a followed ping would take for the API. `manual` makes it a 3xx
      // (an opaque redirect, status 0, in a browser); a fetch that follows anyway flags it.
      return response.ok && !response.redirected ? 'online' : 'degraded';
    } catch {
      return 'offline';
    } finally {
      cancelTimer();
    }
  }

  async function check(): Promise<ConnectivityStatus> {
    if (config.healthUrl === undefined || closed) return status;
    if (!platformOnline()) {
      setStatus('offline');
      return status;
    }
    pinging ??= ping(config.healthUrl).then((next) => {
      pinging = undefined;
      if (next === 'online') failures = 0;
      setStatus(next);
      if (next !== 'online') schedulePing();
      return status;
    });
    return pinging;
  }

  const onOnline = () => {
    failures = 0;
    if (config.healthUrl === undefined) setStatus('online');
    else void check();
  };
  const onOffline = () => setStatus('offline');
  target?.addEventListener('online', onOnline);
  target?.addEventListener('offline', onOffline);

  return {
    get status() {
      return status;
    },
    on,
    check,
    reportSuccess() {
      failures = 0;
      if (status !== 'online' && platformOnline()) setStatus('online');
    },
    reportFailure() {
      failures += 1;
      if (failures < config.failureThreshold || status !== 'online') return;
      if (config.healthUrl === undefined) setStatus('degraded');
      else void check();
    },
    close() {
      closed = true;
      stopPinging();
      target?.removeEventListener('online', onOnline);
      target?.removeEventListener('offline', onOffline);
    },
  };
}
