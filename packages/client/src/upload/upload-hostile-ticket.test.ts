/**
 * `uploadFile` against a hostile or buggy upload endpoint: whatever the presign answer holds,
 * the file is only ever PUT to an http(s) URL with valid, settable headers, failures are
 * `BallastError`s, confirm runs at most once, and an abort leaves no listener behind.
 */
import { isBallastError } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { createClient } from '../fetch/create-client.js';
import { uploadFile } from './upload-file.js';
import type { UploadFileOptions } from './upload-options.js';

const file = () => new File([new Uint8Array(64).fill(7)], 'a.pdf', { type: 'application/pdf' });

function hostileServer(
  ticket: unknown,
  put: (signal: AbortSignal | undefined) => Promise<Response> = async () =>
    new Response(null, { status: 200 }),
) {
  const calls = { request: 0, put: [] as string[], confirm: 0 };
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.endsWith('/uploads')) {
      calls.request += 1;
      return Response.json(ticket, { status: 201 });
    }
    if (url.endsWith('/uploads/confirm')) {
      calls.confirm += 1;
      return Response.json({ id: 1 });
    }
    calls.put.push(url);
    return put(init?.signal ?? undefined);
  }) as typeof fetch;
  return { calls, fetch: fetchImpl };
}

function upload(
  server: ReturnType<typeof hostileServer>,
  options: Partial<UploadFileOptions> = {},
) {
  const client = createClient({
    baseUrl: 'http://api.test',
    fetch: server.fetch,
    retry: { writes: 0 },
  });
  return uploadFile(file(), {
    client,
    requestUrl: '/uploads',
    confirmUrl: '/uploads/confirm',
    fetch: server.fetch,
    transport: 'fetch',
    retryDelaysMs: [1],
    ...options,
  });
}

async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

const ticket = (upload: unknown) => ({ upload, token: 't' });

describe('uploadFile with a hostile presign answer', () => {
  it.each([
    ['javascript: URL', ticket({ url: 'javascript:alert(1)', headers: {} })],
    ['file: URL', ticket({ url: 'file:///etc/passwd', headers: {} })],
    ['data: URL', ticket({ url: 'data:text/plain,x', headers: {} })],
    ['URL with credentials', ticket({ url: 'https://user:pw@storage.test/a', headers: {} })],
    ['URL that does not parse', ticket({ url: 'http://[bad', headers: {} })],
    ['missing url', ticket({ headers: {} })],
    ['url that is a number', ticket({ url: 42, headers: {} })],
    ['headers as an array', ticket({ url: 'https://storage.test/a', headers: ['x'] })],
    [
      'a header value that is not text',
      ticket({ url: 'https://storage.test/a', headers: { a: 1 } }),
    ],
    [
      'a header name with a space',
      ticket({ url: 'https://storage.test/a', headers: { 'x y': '1' } }),
    ],
    [
      'a header value with CR LF',
      ticket({ url: 'https://storage.test/a', headers: { 'x-a': 'a\r\nx-b: c' } }),
    ],
    [
      'a forbidden Cookie header',
      ticket({ url: 'https://storage.test/a', headers: { Cookie: 'sid=1' } }),
    ],
    [
      'a forbidden Origin header',
      ticket({ url: 'https://storage.test/a', headers: { origin: 'https://evil.test' } }),
    ],
    [
      'a Sec- header',
      ticket({ url: 'https://storage.test/a', headers: { 'Sec-Fetch-Site': 'none' } }),
    ],
    [
      'a Transfer-Encoding header',
      ticket({ url: 'https://storage.test/a', headers: { 'transfer-encoding': 'chunked' } }),
    ],
    [
      'a method other than PUT',
      ticket({ url: 'https://storage.test/a', method: 'POST', headers: {} }),
    ],
    ['no token', { upload: { url: 'https://storage.test/a', headers: {} } }],
    ['null', null],
  ])('%s → UPSTREAM_ERROR, nothing sent to storage, no confirm', async (_label, answer) => {
    const server = hostileServer(answer);
    const error = await failure(upload(server));
    expect(isBallastError(error) && error.code).toBe('UPSTREAM_ERROR');
    expect(server.calls.put).toEqual([]);
    expect(server.calls.confirm).toBe(0);
  });

  it('refuses a storage origin outside storageOrigins, accepts one inside', async () => {
    const evil = hostileServer(ticket({ url: 'https://evil.test/a', headers: {} }));
    const error = await failure(upload(evil, { storageOrigins: ['https://storage.test'] }));
    expect(isBallastError(error) && error.code).toBe('UPSTREAM_ERROR');
    expect(evil.calls.put).toEqual([]);
    const good = hostileServer(
      ticket({
        url: 'https://storage.test/a?sig=1',
        headers: { 'content-type': 'application/pdf' },
      }),
    );
    await upload(good, { storageOrigins: ['https://storage.test'] });
    expect(good.calls).toEqual({ request: 1, put: ['https://storage.test/a?sig=1'], confirm: 1 });
  });

  it('refuses a storageOrigins entry that is not an http(s) origin', async () => {
    const server = hostileServer(ticket({ url: 'https://storage.test/a', headers: {} }));
    const error = await failure(upload(server, { storageOrigins: ['javascript:'] }));
    expect(isBallastError(error) && error.code).toBe('INVALID_OPTIONS');
  });

  it('a file that cannot be read (too large for memory) fails as a BallastError', async () => {
    class HugeFile extends Blob {
      override get size() {
        return 6 * 1024 ** 3;
      }
      override arrayBuffer(): Promise<ArrayBuffer> {
        return Promise.reject(new RangeError('Array buffer allocation failed'));
      }
    }
    const server = hostileServer(ticket({ url: 'https://storage.test/a', headers: {} }));
    const client = createClient({ baseUrl: 'http://api.test', fetch: server.fetch });
    const error = await failure(
      uploadFile(new HugeFile(['x']), {
        client,
        requestUrl: '/uploads',
        confirmUrl: '/uploads/confirm',
        transport: 'fetch',
        fetch: server.fetch,
      }),
    );
    expect(isBallastError(error) && error.code).toBe('UPLOAD_FAILED');
    expect(server.calls.request).toBe(0);
  });

  it('an abort mid-PUT ends with ABORTED, no confirm, and every abort listener removed', async () => {
    const controller = new AbortController();
    let listeners = 0;
    const { signal } = controller;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((
      type: string,
      listener: EventListener,
      options?: AddEventListenerOptions,
    ) => {
      if (type === 'abort') listeners += 1;
      add(type, listener, options);
    }) as typeof signal.addEventListener;
    signal.removeEventListener = ((type: string, listener: EventListener) => {
      if (type === 'abort') listeners -= 1;
      remove(type, listener);
    }) as typeof signal.removeEventListener;
    const server = hostileServer(
      ticket({ url: 'https://storage.test/a', headers: {} }),
      (putSignal) =>
        new Promise((_resolve, reject) => {
          putSignal?.addEventListener('abort', () =>
            reject(new DOMException('aborted', 'AbortError')),
          );
          setTimeout(() => controller.abort(), 5);
        }),
    );
    const error = await failure(upload(server, { signal }));
    expect(isBallastError(error) && error.code).toBe('ABORTED');
    expect(server.calls.confirm).toBe(0);
    expect(server.calls.put).toHaveLength(1);
    expect(listeners).toBe(0);
  });
});
