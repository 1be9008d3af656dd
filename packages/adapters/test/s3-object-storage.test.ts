/**
 * S3ObjectStorage over real HTTP against s3rver started in this process: every port method,
 * presigned requests made with `fetch`, paging, the checksum caveat, and each failure mode
 * (timeout, connection refused, throttling, bad credentials, missing bucket, caller abort).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { S3ObjectStorage, s3RetryClassifier } from '@ballast/adapters/s3';
import {
  type BallastError,
  classifyError,
  composeClassifiers,
  createCircuitBreaker,
  isBallastError,
  type Logger,
  ManualClock,
  retry,
  toProblem,
} from '@ballast/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeObjectStorageContract } from './support/object-storage-contract.js';
import {
  type S3TestServer,
  s3TestClient,
  s3TestCredentials,
  startS3Server,
} from './support/s3-server.js';

// The same contract as the memory and filesystem storages, over HTTP. s3rver does not check
// presigned signatures, so only the tampered-URL case is switched off.
describeObjectStorageContract(
  'S3ObjectStorage on s3rver',
  async () => {
    const server = await startS3Server();
    const storage = new S3ObjectStorage({
      bucket: server.bucket,
      endpoint: server.endpoint,
      credentials: s3TestCredentials,
    });
    return {
      storage,
      send: (request) => fetch(request),
      cleanup: async () => {
        storage.close();
        await server.close();
      },
    };
  },
  { verifiesPresignedSignatures: false, discardsCutRequests: false },
);

let s3: S3TestServer;

beforeAll(async () => {
  s3 = await startS3Server();
});

afterAll(async () => {
  await s3.close();
});

function storageFor(options: Partial<ConstructorParameters<typeof S3ObjectStorage>[0]> = {}) {
  return new S3ObjectStorage({
    bucket: s3.bucket,
    endpoint: s3.endpoint,
    credentials: s3TestCredentials,
    ...options,
  });
}

function streamOfChunks(bytes: Uint8Array, chunkSize: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  });
}

async function bytesOf(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function rejectionOf(promise: Promise<unknown>): Promise<BallastError> {
  try {
    await promise;
  } catch (error) {
    if (isBallastError(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

function recordingLogger(): Logger & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const record = (fields: Record<string, unknown>, message?: string) => {
    lines.push({ ...fields, message });
  };
  // Debug lines (the SDK's own chatter) are not part of what these tests assert.
  return { lines, debug: () => {}, info: record, warn: record, error: record };
}

async function listen(server: Server | HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * An HTTP server that answers every request with the status and S3 error code `answer()` says
 * at that moment (200 with an ETag when `code` is empty), and counts requests.
 */
async function scriptedS3(answer: () => { status: number; code?: string }) {
  let requests = 0;
  const server = createHttpServer((request, response) => {
    requests++;
    request.resume();
    const { status, code } = answer();
    if (code === undefined) {
      response.writeHead(status, { etag: '"0123456789abcdef0123456789abcdef"' });
      response.end();
      return;
    }
    response.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': 'REQ-42' });
    response.end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>scripted</Message><RequestId>REQ-42</RequestId></Error>`,
    );
  });
  const port = await listen(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('S3ObjectStorage on s3rver: the port methods', () => {
  const prefix = `methods-${Date.now()}/`;

  it('puts a string, then heads and gets it back with its metadata', async () => {
    const storage = storageFor();
    const key = `${prefix}hello.txt`;
    const put = await storage.put(key, 'héllo wörld', { contentType: 'text/plain' });
    expect(put).toMatchObject({ key, size: 13, contentType: 'text/plain' });
    expect(put.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(put.checksumSha256).toBe('oQA/fQSkEVcR0LSKLq8TWc5WXS0qb9ZQmN/P+t7u9Z8=');

    const head = await storage.head(key);
    expect(head).toMatchObject({ key, size: 13, etag: put.etag, contentType: 'text/plain' });
    expect(Math.abs((head?.lastModified ?? 0) - Date.now())).toBeLessThan(60_000);

    const got = await storage.get(key);
    expect(got).toMatchObject({ key, size: 13, etag: put.etag, contentType: 'text/plain' });
    expect(new TextDecoder().decode(await bytesOf(got!.body))).toBe('héllo wörld');
  });

  it('puts bytes and an empty body', async () => {
    const storage = storageFor();
    const bytes = randomBytes(70_000);
    await storage.put(`${prefix}bytes.bin`, new Uint8Array(bytes));
    expect(await bytesOf((await storage.get(`${prefix}bytes.bin`))!.body)).toEqual(
      new Uint8Array(bytes),
    );
    const empty = await storage.put(`${prefix}empty`, new Uint8Array(0));
    expect(empty.size).toBe(0);
    expect((await storage.head(`${prefix}empty`))?.size).toBe(0);
    expect((await bytesOf((await storage.get(`${prefix}empty`))!.body)).byteLength).toBe(0);
  });

  it('streams a 5 MiB upload with contentLength and reads it back byte for byte', async () => {
    const storage = storageFor();
    const bytes = new Uint8Array(randomBytes(5 * 1024 * 1024 + 123));
    const key = `${prefix}streamed.bin`;
    const put = await storage.put(key, streamOfChunks(bytes, 64 * 1024), {
      contentLength: bytes.byteLength,
      contentType: 'application/octet-stream',
    });
    expect(put.size).toBe(bytes.byteLength);
    expect((await storage.head(key))?.size).toBe(bytes.byteLength);
    const back = await bytesOf((await storage.get(key))!.body);
    expect(back.byteLength).toBe(bytes.byteLength);
    expect(Buffer.compare(Buffer.from(back), Buffer.from(bytes))).toBe(0);
  });

  it('buffers a stream without contentLength, and refuses one over the limit', async () => {
    const storage = storageFor({ maxBufferedUploadBytes: 100_000 });
    const bytes = new Uint8Array(randomBytes(99_999));
    await storage.put(`${prefix}buffered.bin`, streamOfChunks(bytes, 10_000));
    expect(await bytesOf((await storage.get(`${prefix}buffered.bin`))!.body)).toEqual(bytes);

    const tooBig = await rejectionOf(
      storage.put(`${prefix}too-big.bin`, streamOfChunks(new Uint8Array(100_001), 10_000)),
    );
    expect(tooBig.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await storage.head(`${prefix}too-big.bin`)).toBeUndefined();
  });

  it('holds a stream to its contentLength: shorter or longer fails and stores nothing', async () => {
    const storage = storageFor();
    for (const [actual, declared] of [
      [1_000, 1_001],
      [1_001, 1_000],
    ] as const) {
      const key = `${prefix}mismatch-${actual}-${declared}`;
      const error = await rejectionOf(
        storage.put(key, streamOfChunks(new Uint8Array(actual), 100), { contentLength: declared }),
      );
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.details).toMatchObject({ field: 'contentLength' });
      expect(await storage.head(key)).toBeUndefined();
    }
  });

  it('reports the caller’s failing stream as UPLOAD_FAILED, not as S3 unavailability', async () => {
    const storage = storageFor();
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(10));
        controller.error(new Error('disk read failed'));
      },
    });
    const error = await rejectionOf(
      storage.put(`${prefix}failing-source`, failing, { contentLength: 100 }),
    );
    expect([error.code, error.retryable]).toEqual(['UPLOAD_FAILED', false]);
    expect(await storage.head(`${prefix}failing-source`)).toBeUndefined();
  });

  it('answers undefined for a missing object and deletes idempotently', async () => {
    const storage = storageFor();
    expect(await storage.head(`${prefix}missing`)).toBeUndefined();
    expect(await storage.get(`${prefix}missing`)).toBeUndefined();
    await expect(storage.delete(`${prefix}missing`)).resolves.toBeUndefined();

    await storage.put(`${prefix}doomed`, 'x');
    await storage.delete(`${prefix}doomed`);
    expect(await storage.head(`${prefix}doomed`)).toBeUndefined();
    await storage.delete(`${prefix}doomed`);
  });

  it('validates keys and options before any request', async () => {
    const storage = storageFor();
    expect((await rejectionOf(storage.put('', 'x'))).code).toBe('INVALID_KEY');
    expect((await rejectionOf(storage.head('a'.repeat(1025)))).code).toBe('INVALID_KEY');
    const badPage = await rejectionOf(storage.list({ pageSize: 1001 }));
    expect([badPage.code, badPage.details.field]).toEqual(['INVALID_OPTIONS', 'pageSize']);
    const badExpiry = await rejectionOf(storage.presignGet('a', { expiresInSeconds: 0 }));
    expect([badExpiry.code, badExpiry.details.field]).toEqual([
      'INVALID_OPTIONS',
      'expiresInSeconds',
    ]);
  });
});

describe('S3ObjectStorage on s3rver: move under a concurrent overwrite', () => {
  const prefix = `move-race-${Date.now()}/`;

  /** A storage whose client runs `before(command)` ahead of each command it sends. */
  function storageWith(before: (command: object) => Promise<void>) {
    const client = s3TestClient(s3.endpoint);
    const send = client.send.bind(client) as (
      command: object,
      options?: object,
    ) => Promise<unknown>;
    (client as unknown as { send: typeof send }).send = async (command, options) => {
      await before(command);
      return send(command, options);
    };
    return new S3ObjectStorage({ bucket: s3.bucket, client });
  }

  const textOf = async (key: string) =>
    new TextDecoder().decode(await bytesOf((await storageFor().get(key))!.body));
  const overwrite = (key: string, bytes: string) =>
    s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: bytes }));

  it('the source overwritten between the check and the copy: refused, nothing moved', async () => {
    const source = `${prefix}a/staged`;
    const target = `${prefix}a/final`;
    await storageFor().put(source, 'checked bytes');
    let raced = false;
    const storage = storageWith(async (command) => {
      if (command instanceof CopyObjectCommand && !raced) {
        raced = true;
        await overwrite(source, 'a newer upload');
      }
    });
    await expect(storage.move(source, target)).rejects.toMatchObject({
      code: 'PRECONDITION_FAILED',
      details: { reason: 'source-changed' },
    });
    expect(raced).toBe(true);
    expect(await storageFor().head(target)).toBeUndefined();
    expect(await textOf(source)).toBe('a newer upload');
  });

  it('the source overwritten between the copy and the delete: the newer object is left alone', async () => {
    const source = `${prefix}b/staged`;
    const target = `${prefix}b/final`;
    await storageFor().put(source, 'checked bytes');
    const storage = storageWith(async (command) => {
      if (command instanceof DeleteObjectCommand) await overwrite(source, 'a newer upload');
    });
    const moved = await storage.move(source, target);
    expect(moved).toMatchObject({ key: target, size: 13 });
    expect(await textOf(target)).toBe('checked bytes');
    // The delete named the ETag it copied: the other writer's object survives.
    expect(await textOf(source)).toBe('a newer upload');
  });
});

describe('S3ObjectStorage on s3rver: listing', () => {
  // Past S3's 1,000-key page, in 13 pages of 97. (It was 2,500 keys: s3rver scans every key of
  // the prefix for each page, which made this one test 30-40 s of a loaded CI run.)
  it('pages through 1,200 keys in key order with a small page size', async () => {
    const storage = storageFor();
    const prefix = 'paging/';
    const keys = Array.from({ length: 1_200 }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
    // Shuffled writes: the order of the listing must come from S3, not from the write order.
    const shuffled = [...keys].sort(() => Math.random() - 0.5);
    for (let i = 0; i < shuffled.length; i += 50) {
      await Promise.all(shuffled.slice(i, i + 50).map((key) => storage.put(key, key)));
    }
    await storage.put('elsewhere/not-listed', 'x');

    const listed: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await storage.list({ prefix, pageSize: 97, ...(cursor ? { cursor } : {}) });
      pages++;
      expect(page.objects.length).toBeLessThanOrEqual(97);
      for (const object of page.objects) {
        expect(object.size).toBe(object.key.length);
        listed.push(object.key);
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);

    expect(pages).toBe(Math.ceil(1_200 / 97));
    expect(listed).toEqual(keys);
  }, 120_000);

  it('lists a prefix with no objects as one empty last page', async () => {
    expect(await storageFor().list({ prefix: 'nothing-here/' })).toEqual({ objects: [] });
  });

  it('lists keys in UTF-8 byte order, the order reconciliation merge-joins on', async () => {
    // UTF-16 order would put U+FF61 after the emoji's surrogates; UTF-8 order puts it before.
    // (s3rver orders only keys one level below the prefix correctly: see support/s3-server.ts.)
    const storage = storageFor();
    const keys = ['order/B', 'order/b', 'order/é', 'order/\uff61', 'order/😀'];
    for (const key of [...keys].reverse()) await storage.put(key, 'x');
    const page = await storage.list({ prefix: 'order/' });
    expect(page.objects.map((object) => object.key)).toEqual(keys);
  });
});

describe('S3ObjectStorage on s3rver: presigned requests', () => {
  it('binds content type, length and SHA-256 of a presigned PUT as signed headers', async () => {
    // s3rver does not verify signatures; what S3 enforces is what the URL signs.
    const storage = storageFor();
    const checksum = createHash('sha256').update('12345').digest('base64');
    const request = await storage.presignPut('presigned/bound', {
      expiresInSeconds: 300,
      contentLength: 5,
      checksumSha256: checksum,
    });
    expect(request.headers).toEqual({
      'content-type': 'application/octet-stream',
      'x-amz-checksum-sha256': checksum,
    });
    const url = new URL(request.url);
    const signed = url.searchParams.get('X-Amz-SignedHeaders')?.split(';') ?? [];
    expect(signed).toEqual(
      expect.arrayContaining(['content-length', 'content-type', 'host', 'x-amz-checksum-sha256']),
    );
    // Bound as headers, not hoisted into the query where a client could leave them out.
    expect(url.searchParams.has('x-amz-checksum-sha256')).toBe(false);
    const unbound = await storage.presignPut('presigned/unbound', { expiresInSeconds: 300 });
    const unboundSigned = new URL(unbound.url).searchParams.get('X-Amz-SignedHeaders');
    expect(unboundSigned?.split(';')).toEqual(expect.arrayContaining(['content-type', 'host']));
    expect(
      (await fetch(request.url, { method: 'PUT', headers: request.headers, body: '12345' })).status,
    ).toBe(200);
  });

  it('presigns a PUT that fetch can upload to, with the signed content type', async () => {
    const storage = storageFor();
    const before = Date.now();
    const request = await storage.presignPut('presigned/upload.pdf', {
      expiresInSeconds: 300,
      contentType: 'application/pdf',
    });
    expect(request.method).toBe('PUT');
    expect(request.headers).toEqual({ 'content-type': 'application/pdf' });
    expect(request.expiresAt).toBeGreaterThanOrEqual(before + 300_000);
    expect(request.expiresAt).toBeLessThanOrEqual(Date.now() + 300_000);

    const body = new Uint8Array(randomBytes(12_345));
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body,
    });
    expect(response.status).toBe(200);
    const head = await storage.head('presigned/upload.pdf');
    expect(head).toMatchObject({ size: 12_345, contentType: 'application/pdf' });
    expect(await bytesOf((await storage.get('presigned/upload.pdf'))!.body)).toEqual(body);
  });

  it('presigns a GET that fetch can download from', async () => {
    const storage = storageFor();
    await storage.put('presigned/download.txt', 'download me', { contentType: 'text/plain' });
    const request = await storage.presignGet('presigned/download.txt', { expiresInSeconds: 60 });
    expect(request.method).toBe('GET');
    const response = await fetch(request.url, { headers: request.headers });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('download me');
  });

  it('signs with the injected clock: a URL signed two hours ago for one minute is refused', async () => {
    const clock = new ManualClock(Date.now() - 2 * 60 * 60 * 1000);
    const storage = storageFor({ clock });
    await storageFor().put('presigned/old.txt', 'old');
    const request = await storage.presignGet('presigned/old.txt', { expiresInSeconds: 60 });
    expect(request.expiresAt).toBe(clock.now() + 60_000);
    const response = await fetch(request.url);
    expect(response.status).toBe(403);
  });
});

describe('S3ObjectStorage: the checksum caveat for S3-compatible servers', () => {
  it('with the SDK’s default checksums a streamed PutObject is stored with its aws-chunked framing', async () => {
    // The reason the adapter sets requestChecksumCalculation: 'WHEN_REQUIRED' on its client.
    const defaults = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: s3TestCredentials,
    });
    try {
      const payload = 'exactly these bytes';
      await defaults.send(
        new PutObjectCommand({
          Bucket: s3.bucket,
          Key: 'caveat/default-client',
          Body: Readable.from([Buffer.from(payload)]),
          ContentLength: payload.length,
        }),
      );
      const stored = await s3.client.send(
        new GetObjectCommand({ Bucket: s3.bucket, Key: 'caveat/default-client' }),
      );
      const text = (await stored.Body?.transformToString()) ?? '';
      expect(text).not.toBe(payload);
      expect(text).toContain(payload);
      expect(text.toLowerCase()).toContain('x-amz-checksum');
    } finally {
      defaults.destroy();
    }
  });
});

describe('S3ObjectStorage: failures', () => {
  it('times out against a server that accepts and never answers → TIMEOUT, quickly', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => sockets.push(socket));
    const port = await listen(silent);
    const logger = recordingLogger();
    const storage = storageFor({ endpoint: `http://127.0.0.1:${port}`, timeoutMs: 150, logger });
    try {
      for (const call of [
        () => storage.head('k'),
        () => storage.get('k'),
        () => storage.delete('k'),
        () => storage.list(),
      ]) {
        const started = performance.now();
        const error = await rejectionOf(call());
        const elapsed = performance.now() - started;
        expect([error.code, error.retryable]).toEqual(['TIMEOUT', true]);
        expect(error.details).toMatchObject({ timeoutMs: 150 });
        expect(elapsed).toBeGreaterThanOrEqual(140);
        expect(elapsed).toBeLessThan(1_500);
      }
      const upload = await rejectionOf(
        storageFor({ endpoint: `http://127.0.0.1:${port}`, uploadTimeoutMs: 150 }).put('k', 'x'),
      );
      expect(upload.code).toBe('TIMEOUT');
      expect(logger.lines.map((line) => line.code)).toEqual([
        'TIMEOUT',
        'TIMEOUT',
        'TIMEOUT',
        'TIMEOUT',
      ]);
      expect(logger.lines[0]).toMatchObject({ operation: 'head', key: 'k', bucket: s3.bucket });
    } finally {
      storage.close();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('times out on the injected clock without waiting for real time', async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => sockets.push(socket));
    const port = await listen(silent);
    const clock = new ManualClock(0);
    const storage = storageFor({ endpoint: `http://127.0.0.1:${port}`, timeoutMs: 60_000, clock });
    try {
      const pending = rejectionOf(storage.head('k'));
      await clock.advance(60_000);
      expect((await pending).code).toBe('TIMEOUT');
    } finally {
      storage.close();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('reports a server that is down (connection refused) as STORAGE_UNAVAILABLE, retryable', async () => {
    const closed = createTcpServer();
    const port = await listen(closed);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const logger = recordingLogger();
    const storage = storageFor({ endpoint: `http://127.0.0.1:${port}`, logger });
    const error = await rejectionOf(storage.put('k', 'x'));
    expect([error.code, error.retryable, error.status]).toEqual(['STORAGE_UNAVAILABLE', true, 503]);
    expect(error.details).toMatchObject({ operation: 'put', reason: 'unavailable' });
    expect(s3RetryClassifier(error, { attempt: 1, now: 0 })).toBe('retry');
    expect(logger.lines[0]).toMatchObject({ s3Code: 'ECONNREFUSED', operation: 'put' });
    expect((await rejectionOf(storage.list())).code).toBe('STORAGE_UNAVAILABLE');
  });

  it('maps SlowDown and 5xx answers to STORAGE_UNAVAILABLE, retryable, with the request id logged', async () => {
    let answer = { status: 503, code: 'SlowDown' };
    const fake = await scriptedS3(() => answer);
    const logger = recordingLogger();
    const storage = storageFor({ endpoint: fake.endpoint, logger });
    try {
      const slowDown = await rejectionOf(storage.put('k', 'x'));
      expect([slowDown.code, slowDown.retryable]).toEqual(['STORAGE_UNAVAILABLE', true]);
      expect(slowDown.message).toBe(`S3 put of ${s3.bucket}/k failed (SlowDown) [HTTP 503]`);
      expect(logger.lines[0]).toMatchObject({
        s3Code: 'SlowDown',
        httpStatus: 503,
        requestId: 'REQ-42',
      });
      answer = { status: 500, code: 'InternalError' };
      const internal = await rejectionOf(storage.get('k'));
      expect([internal.code, internal.retryable]).toEqual(['STORAGE_UNAVAILABLE', true]);
      answer = { status: 400, code: 'RequestTimeout' };
      expect((await rejectionOf(storage.delete('k'))).retryable).toBe(true);
    } finally {
      storage.close();
      await fake.close();
    }
  });

  it('composes with core’s retry(): SlowDown is retried until it passes, AccessDenied is not', async () => {
    let answers = [
      { status: 503, code: 'SlowDown' },
      { status: 503, code: 'SlowDown' },
    ];
    const fake = await scriptedS3(() => answers.shift() ?? { status: 200 });
    const storage = storageFor({ endpoint: fake.endpoint });
    const classify = composeClassifiers(s3RetryClassifier, classifyError);
    try {
      const info = await retry(() => storage.put('k', 'x'), { classify, delays: [1, 1, 1] });
      expect(info.etag).toBe('"0123456789abcdef0123456789abcdef"');
      expect(fake.requests()).toBe(3);

      answers = [
        { status: 403, code: 'AccessDenied' },
        { status: 403, code: 'AccessDenied' },
      ];
      const denied = await rejectionOf(
        retry(() => storage.put('k', 'x'), { classify, delays: [1, 1, 1] }),
      );
      expect([denied.code, denied.retryable]).toEqual(['STORAGE_UNAVAILABLE', false]);
      expect(fake.requests()).toBe(4);
    } finally {
      storage.close();
      await fake.close();
    }
  });

  it('opens core’s circuit breaker after repeated failures, fails fast, and closes after a good probe', async () => {
    let healthy = false;
    const fake = await scriptedS3(() =>
      healthy ? { status: 200 } : { status: 503, code: 'ServiceUnavailable' },
    );
    const clock = new ManualClock(0);
    const breaker = createCircuitBreaker({ consecutiveFailures: 3, halfOpenAfter: 10_000, clock });
    const storage = storageFor({ endpoint: fake.endpoint, breaker });
    try {
      for (let i = 0; i < 3; i++) {
        expect((await rejectionOf(storage.put('k', 'x'))).code).toBe('STORAGE_UNAVAILABLE');
      }
      expect(breaker.state).toBe('open');
      const fast = await rejectionOf(storage.put('k', 'x'));
      expect([fast.code, fast.retryable]).toEqual(['CIRCUIT_OPEN', true]);
      expect(fake.requests()).toBe(3);

      healthy = true;
      await clock.advance(10_000);
      await storage.put('k', 'x');
      expect(breaker.state).toBe('closed');
      expect(fake.requests()).toBe(4);
    } finally {
      storage.close();
      await fake.close();
    }
  });

  it('does not count missing objects or caller aborts against the breaker', async () => {
    const breaker = createCircuitBreaker({ consecutiveFailures: 2, halfOpenAfter: 10_000 });
    const storage = storageFor({ breaker });
    for (let i = 0; i < 5; i++) {
      expect(await storage.head(`breaker/missing-${i}`)).toBeUndefined();
      expect(await storage.get(`breaker/missing-${i}`)).toBeUndefined();
    }
    for (let i = 0; i < 3; i++) {
      const aborted = await rejectionOf(
        storage.head('breaker/k', { signal: AbortSignal.abort(new Error('user left')) }),
      );
      expect(aborted.code).toBe('ABORTED');
    }
    expect(breaker.state).toBe('closed');
  });

  it('maps unknown credentials to a non-retryable STORAGE_UNAVAILABLE that names no secret', async () => {
    const secret = 'very-secret-key-material';
    const storage = storageFor({ credentials: { accessKeyId: 'NOBODY', secretAccessKey: secret } });
    const error = await rejectionOf(storage.put('k', 'x'));
    expect([error.code, error.retryable, error.status]).toEqual([
      'STORAGE_UNAVAILABLE',
      false,
      503,
    ]);
    expect(error.details).toMatchObject({ reason: 'access-denied' });
    expect(error.message).toContain('InvalidAccessKeyId');
    const everything = JSON.stringify([error.message, error.toJSON(), toProblem(error)]);
    expect(everything).not.toContain(secret);
    expect(s3RetryClassifier(error, { attempt: 1, now: 0 })).toBe('fail');
  });

  it('maps a missing bucket to a non-retryable STORAGE_UNAVAILABLE', async () => {
    const storage = storageFor({ bucket: 'no-such-bucket-here' });
    const error = await rejectionOf(storage.put('k', 'x'));
    expect([error.code, error.retryable]).toEqual(['STORAGE_UNAVAILABLE', false]);
    expect(error.details).toMatchObject({ reason: 'no-such-bucket' });
  });

  it('an aborted call rejects with ABORTED carrying the caller’s reason, before or during the call', async () => {
    const storage = storageFor();
    const reason = new Error('user navigated away');
    const early = await rejectionOf(storage.head('k', { signal: AbortSignal.abort(reason) }));
    expect([early.code, early.cause]).toEqual(['ABORTED', reason]);

    const sockets: Socket[] = [];
    const silent = createTcpServer((socket) => sockets.push(socket));
    const port = await listen(silent);
    const hanging = storageFor({ endpoint: `http://127.0.0.1:${port}` });
    try {
      const controller = new AbortController();
      const pending = rejectionOf(hanging.list({ signal: controller.signal }));
      setTimeout(() => controller.abort(reason), 20);
      const during = await pending;
      expect([during.code, during.cause, during.retryable]).toEqual(['ABORTED', reason, false]);
    } finally {
      hanging.close();
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('aborting during a download errors the body stream with ABORTED', async () => {
    const storage = storageFor();
    await storage.put('abort/large.bin', new Uint8Array(randomBytes(8 * 1024 * 1024)));
    const controller = new AbortController();
    const object = await storage.get('abort/large.bin', { signal: controller.signal });
    const reader = object!.body.getReader();
    await reader.read();
    controller.abort(new Error('stop'));
    let failure: unknown;
    try {
      for (;;) {
        const { done } = await reader.read();
        if (done) break;
      }
    } catch (error) {
      failure = error;
    }
    expect(isBallastError(failure, 'ABORTED')).toBe(true);
  });

  it('rejects contradictory options: a client plus settings that belong to it', () => {
    expect(() => new S3ObjectStorage({ bucket: 'docs', client: s3.client, region: 'x' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        details: expect.objectContaining({ field: 'region' }),
      }),
    );
    expect(() => new S3ObjectStorage({ bucket: '' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });

  it('works with a client passed in, and leaves it open on close()', async () => {
    const storage = new S3ObjectStorage({ bucket: s3.bucket, client: s3.client });
    await storage.put('own-client/a', 'a');
    storage.close();
    expect(await storage.head('own-client/a')).toMatchObject({ size: 1 });
  });
});
