/**
 * The client against a server that misbehaves: an answer whose body never ends, a redirect of a
 * write (a login page in front of the API), and a problem+json member that collides with what
 * the client computes itself.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type BallastError, ManualClock } from '@ballast/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient } from './create-client.js';

const baseUrl = 'http://api.test';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections(); // a stalled answer's connection would hold close() open
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

/**
 * A real HTTP server whose answers send their headers and a first byte of the body, then stall
 * (a hung proxy or server) or, with `cut`, drop the connection.
 */
async function stallingServer(status: number, cut = false) {
  const server = createServer((_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.write('{"id":', () => cut && response.destroy());
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A real HTTP server that sends every write to a login page, as an expired SSO session does. */
async function apiBehindLogin() {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    if (request.url === '/login') {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<form>Sign in</form>');
    } else response.writeHead(302, { location: '/login' }).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { seen, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('createClient against a hostile server', () => {
  for (const status of [200, 503]) {
    it(`an answer ${status} whose body never arrives ends within timeoutMs, not never`, async () => {
      const clock = new ManualClock();
      let headersArrived = false;
      const client = createClient({
        baseUrl: await stallingServer(status),
        clock,
        timeoutMs: 1_000,
        fetch: async (url, init) => {
          const response = await fetch(url, init);
          headersArrived = true;
          return response;
        },
      });
      let outcome: unknown = 'still waiting';
      const request = client.request('/sales', { method: 'POST', body: {}, retries: 0 });
      request.then(
        () => (outcome = 'resolved'),
        (error: BallastError) => (outcome = error.code),
      );
      // The headers (and the first bytes) arrive, then nothing more.
      await vi.waitFor(() => expect(headersArrived).toBe(true));
      await clock.advance(1_000);
      await vi.waitFor(() => expect(outcome).not.toBe('still waiting'));
      // A 2xx whose body was cut may have been applied: TIMEOUT sends it again under the same key.
      expect(outcome).toBe(status === 200 ? 'TIMEOUT' : 'UPSTREAM_ERROR');
    });
  }

  it('an answer whose connection drops mid-body is a NETWORK_ERROR, not a bare TypeError', async () => {
    const client = createClient({ baseUrl: await stallingServer(200, true) });
    await expect(client.get('/sales', { retries: 0 })).rejects.toMatchObject({
      code: 'NETWORK_ERROR',
    });
  });

  it('a write redirected to a login page is not turned into a GET and taken as delivered', async () => {
    const api = await apiBehindLogin();
    const client = createClient({ baseUrl: api.url, retry: { writes: 0 } });
    const error = await client
      .post('/sales', { item: 'coffee' })
      .catch((caught: BallastError) => caught);
    // Not applied, and not the caller's mistake: the queue sends it again later, same key.
    expect(error).toMatchObject({ code: 'UPSTREAM_ERROR', status: 302, retryable: true });
    expect(api.seen).toEqual(['POST /sales']);
  });

  it('a read still follows a redirect', async () => {
    const api = await apiBehindLogin();
    const client = createClient({ baseUrl: api.url });
    await expect(client.get('/products')).resolves.toBe('<form>Sign in</form>');
    expect(api.seen).toEqual(['GET /products', 'GET /login']);
  });

  it('a problem+json retryAfterMs that is not a number leaves the usual backoff, not NaN', async () => {
    const clock = new ManualClock();
    let attempts = 0;
    const client = createClient({
      baseUrl,
      clock,
      random: () => 0,
      fetch: async () =>
        ++attempts === 1
          ? new Response(JSON.stringify({ code: 'UPSTREAM_ERROR', retryAfterMs: 'soon' }), {
              status: 503,
              headers: { 'content-type': 'application/problem+json', 'retry-after': 'later' },
            })
          : new Response('{"id":1}', { headers: { 'content-type': 'application/json' } }),
    });
    const reading = client.get('/x', { retries: 1 });
    await clock.advance(499); // equal jitter with random 0: half of the first 1 s delay
    expect(attempts).toBe(1);
    await clock.advance(1);
    await expect(reading).resolves.toEqual({ id: 1 });
    expect(attempts).toBe(2);
  });
});
