/**
 * Serves a web-standard fetch handler over Node's HTTP server, as Hono's node adapter or Deno
 * would: the request body is a web stream (not pre-read), the request's signal aborts when the
 * client goes away, and a streamed response is cancelled when the client disconnects. Lets the
 * adapter contracts drive the fetch middleware over real HTTP like the Express and Fastify apps.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (let index = 0; index < req.rawHeaders.length; index += 2) {
    headers.append(req.rawHeaders[index] as string, req.rawHeaders[index + 1] as string);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
    method,
    headers,
    signal,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  } as RequestInit);
}

/** Starts a server for `handler` on a free loopback port. */
export async function serveFetch(
  handler: (request: Request) => Promise<Response>,
): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    let response: Response;
    try {
      response = await handler(toRequest(req, gone.signal));
    } catch {
      // The host's own answer to an error the middleware let through.
      res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of response.headers) {
      if (name !== 'set-cookie') headers[name] = value;
    }
    const cookies = response.headers.getSetCookie();
    if (cookies.length > 0) headers['set-cookie'] = cookies;
    res.writeHead(response.status, headers);
    if (response.body === null) {
      res.end();
      return;
    }
    const reader = response.body.getReader();
    res.once('close', () => {
      if (!res.writableFinished) void reader.cancel().catch(() => {});
    });
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (!res.write(value)) {
          await new Promise((resolve) => {
            res.once('drain', resolve);
            res.once('close', resolve);
          });
        }
      }
      res.end();
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
