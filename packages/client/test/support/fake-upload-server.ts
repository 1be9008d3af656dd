/**
 * An upload server behind a fake `fetch`, built on core's real signed-upload recipe:
 * `POST /uploads` runs `issueSignedUpload()` over a `MemoryObjectStorage`, the presigned PUT
 * (`memory://bucket/…`) is served by the store as storage would serve it (signature, bound
 * headers, length and SHA-256 checked), and `POST /uploads/confirm` runs `confirmUpload()`.
 * Both API routes keep a record per `Idempotency-Key`, as Ballast's middleware does. The
 * network can be cut, and PUTs can be scripted to fail.
 */
import {
  confirmUpload,
  createUploadTokens,
  issueSignedUpload,
  MemoryDocumentRecords,
  MemoryObjectStorage,
} from '@ballast/core';

export interface FakeUploadServer {
  fetch: typeof fetch;
  storage: MemoryObjectStorage;
  records: MemoryDocumentRecords<{ name?: unknown }>;
  /** Requests that reached each route (replays answered from the record included). */
  calls: { request: number; put: number; confirm: number };
  /** Headers of every PUT, as storage received them. */
  putHeaders: Headers[];
  /** When false, fetch rejects like a browser with no network. */
  online: boolean;
  /** The next N PUTs fail: `'network'` (no answer) or with `status`. */
  failPuts(count: number, how: 'network' | number): void;
  /** Lifetime of issued URLs, in seconds. */
  expiresInSeconds: number;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' },
  });

export function createFakeUploadServer(): FakeUploadServer {
  const storage = new MemoryObjectStorage();
  const records = new MemoryDocumentRecords<{ name?: unknown }>();
  const tokens = createUploadTokens({ secret: 'a-test-secret-of-at-least-32-bytes!!' });
  const recorded = new Map<string, Response>();
  let putFailures = 0;
  let putFailure: 'network' | number = 'network';
  const server: FakeUploadServer = {
    storage,
    records,
    calls: { request: 0, put: 0, confirm: 0 },
    putHeaders: [],
    online: true,
    expiresInSeconds: 900,
    failPuts(count, how) {
      putFailures = count;
      putFailure = how;
    },
    fetch: async (input, init) => {
      if (!server.online) throw new TypeError('Failed to fetch');
      const url = String(input);
      const method = init?.method ?? 'GET';
      if (url.startsWith('memory://')) {
        server.calls.put += 1;
        server.putHeaders.push(new Headers(init?.headers));
        if (putFailures > 0) {
          putFailures -= 1;
          if (putFailure === 'network') throw new TypeError('Failed to fetch');
          return new Response('<Error/>', { status: putFailure });
        }
        return storage.handlePresigned(new Request(url, { ...init, method }));
      }
      const key = new Headers(init?.headers).get('idempotency-key');
      const replay = key === null ? undefined : recorded.get(key);
      const path = new URL(url).pathname;
      if (path === '/uploads') server.calls.request += 1;
      if (path === '/uploads/confirm') server.calls.confirm += 1;
      if (replay !== undefined) return replay.clone();
      const body = JSON.parse(String(init?.body ?? '{}'));
      let answer: Response;
      try {
        if (method === 'POST' && path === '/uploads') {
          const issued = await issueSignedUpload({
            storage,
            records,
            tokens,
            key: `files/${crypto.randomUUID()}`,
            record: { name: body.name },
            contentType: body.contentType,
            size: body.size,
            checksumSha256: body.checksumSha256,
            expiresInSeconds: server.expiresInSeconds,
          });
          answer = json(201, issued);
        } else if (method === 'POST' && path === '/uploads/confirm') {
          const { row } = await confirmUpload({ token: body.token, tokens, storage, records });
          answer = json(200, row);
        } else answer = json(404, { code: 'NOT_FOUND', status: 404 });
      } catch (error) {
        const failure = error as { code: string; status: number; message: string };
        answer = json(failure.status, {
          code: failure.code,
          status: failure.status,
          detail: failure.message,
        });
      }
      if (key !== null) recorded.set(key, answer.clone());
      return answer;
    },
  };
  return server;
}
