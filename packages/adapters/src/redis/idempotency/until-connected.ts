/**
 * Start-up for a client that is still connecting. The docs build the store's ioredis client
 * with `enableOfflineQueue: false`, which refuses every command until the connection is ready,
 * so a `check()` on the line after `new Redis(url)` would report a healthy Redis as unavailable.
 * This waits for that first connection (or opens a `lazyConnect` one) and no longer: a
 * connection that fails rejects with its error at once, so a Redis that is down is still
 * reported as fast as before, and a client that is already up, or reconnecting after an outage,
 * is left alone.
 */

/** What ioredis' `Redis` and `Cluster` expose about their connection. */
interface ConnectionState {
  status?: unknown;
  connect?: () => Promise<unknown>;
  once?: (event: string, listener: (...args: unknown[]) => void) => unknown;
  off?: (event: string, listener: (...args: unknown[]) => void) => unknown;
}

/** Resolves once `client` is connected, when it is an ioredis client still opening its first connection. */
export async function untilConnected(client: unknown): Promise<void> {
  const { status, connect, once, off } = client as ConnectionState;
  if (status === 'wait' && typeof connect === 'function') {
    await connect.call(client);
    return;
  }
  if (status !== 'connecting' && status !== 'connect') return;
  if (typeof once !== 'function' || typeof off !== 'function') return;
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: unknown) => {
      off.call(client, 'ready', onReady);
      off.call(client, 'error', onError);
      off.call(client, 'close', onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    const onReady = () => settle();
    const onError = (error: unknown) => settle(error ?? new Error('Redis connection failed'));
    const onClose = () => settle(new Error('Redis connection closed before it was ready'));
    once.call(client, 'ready', onReady);
    once.call(client, 'error', onError);
    once.call(client, 'close', onClose);
  });
}
