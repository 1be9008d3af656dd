/**
 * Starts an Express app or a Fastify instance on a free local port, for tests that drive it over
 * real HTTP.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { FastifyInstance } from 'fastify';

/** A started test server: its base URL and how to stop it. */
export interface ListeningServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function listenExpress(app: Express): Promise<ListeningServer> {
  const server = await new Promise<Server>((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export async function listenFastify(app: FastifyInstance): Promise<ListeningServer> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: () => app.close(),
  };
}
