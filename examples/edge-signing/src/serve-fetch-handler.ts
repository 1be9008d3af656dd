/**
 * Serves a web-standard fetch handler with `node:http`, the way Deno or a Workers runtime would
 * call it: one `Request` in, one `Response` out. It is the whole "edge runtime" of this example;
 * in production the same handler is deployed to the edge platform as it is.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

type FetchHandler = (request: Request) => Promise<Response>;

function toRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (let index = 0; index < req.rawHeaders.length; index += 2) {
    headers.append(req.rawHeaders[index]!, req.rawHeaders[index + 1]!);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
    method,
    headers,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  } as RequestInit);
}

/** Listens on `port` (0: any free port) and resolves with the server and the port it got. */
export function serveFetchHandler(
  handler: FetchHandler,
  port: number,
): Promise<{ server: Server; port: number }> {
  const server = createServer(async (req, res) => {
    let response: Response;
    try {
      response = await handler(toRequest(req));
    } catch {
      // A request Node accepted but fetch cannot represent (an invalid header value).
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Bad request');
      return;
    }
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        res.write(value);
      }
    }
    res.end();
  });
  return new Promise((resolve) => {
    server.listen(port, '127.0.0.1', () => {
      resolve({ server, port: (server.address() as AddressInfo).port });
    });
  });
}
