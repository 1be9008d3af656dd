/**
 * A TCP proxy in front of a test server that can be cut, so "the network went away" is a real
 * reset connection rather than a mocked error. `up = false` destroys every open connection and
 * refuses new ones; `cutAfterBytes(n)` does the same once `n` more bytes went upstream (a cut
 * in the middle of an upload), optionally coming back up at once (a single dropped connection).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface CuttableProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Whether connections pass. Setting `false` also destroys the open ones. */
  up: boolean;
  /**
   * Cuts every connection once `bytes` more bytes went from clients to the target; with
   * `reopen`, new connections pass again right after (one dropped connection), else the proxy
   * stays down until `up = true`. Resolves when the cut happened.
   */
  cutAfterBytes(bytes: number, options?: { readonly reopen?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export async function startCuttableProxy(target: string): Promise<CuttableProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const state = { up: true };
  let pending: { left: number; reopen: boolean; done: () => void } | undefined;
  const cut = () => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  const server: Server = createServer((socket) => {
    if (!state.up) return socket.destroy();
    const upstream = connect(Number(port), hostname);
    sockets.add(socket).add(upstream);
    socket.on('data', (chunk: Buffer) => {
      if (!pending) return;
      pending.left -= chunk.byteLength;
      if (pending.left > 0) return;
      const { reopen, done } = pending;
      pending = undefined;
      state.up = reopen;
      cut();
      done();
    });
    socket.pipe(upstream).pipe(socket);
    const drop = () => {
      socket.destroy();
      upstream.destroy();
      sockets.delete(socket);
      sockets.delete(upstream);
    };
    socket.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    get up() {
      return state.up;
    },
    set up(value: boolean) {
      state.up = value;
      if (!value) cut();
    },
    cutAfterBytes(bytes, options = {}) {
      return new Promise((resolve) => {
        pending = { left: bytes, reopen: options.reopen ?? false, done: resolve };
      });
    },
    close: () =>
      new Promise((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}
