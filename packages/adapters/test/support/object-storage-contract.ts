/**
 * The `ObjectStorage` contract as tests: every implementation (memory, file system, S3) runs
 * the same suite, so the consistency recipes and reconciliation can rely on one behaviour.
 * Each test works under its own random prefix, so one bucket can serve the whole suite.
 *
 * Usage:
 * ```ts
 * describeObjectStorageContract('S3 (s3rver)', async () => ({
 *   storage: new S3ObjectStorage({ … }),
 *   send: (request) => fetch(request), // how a client sends a presigned request
 * }));
 * ```
 */
import {
  confirmUpload,
  createUploadTokens,
  isBallastError,
  issueSignedUpload,
  MemoryDocumentRecords,
  type ObjectInfo,
  type ObjectStorage,
} from '@ballast/core';
import { compareObjectKeys } from '@ballast/core/adapter-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** What the suite needs from one implementation. */
export interface ObjectStorageContractSubject {
  readonly storage: ObjectStorage;
  /** Sends a presigned request as a browser would and returns the service's response. */
  send(request: Request): Promise<Response>;
  /** Called once after the suite. */
  cleanup?(): Promise<void>;
}

/** Switches for backends that cannot meet a part of the contract; say why where you use one. */
export interface ObjectStorageContractOptions {
  /** Keys with characters above U+FFFF list in UTF-8 byte order. Default `true`. */
  readonly unicodeKeyOrder?: boolean;
  /** `lastModified` is close to the wall clock (false for stores on a ManualClock). Default `true`. */
  readonly wallClockTimes?: boolean;
  /** The backend reports `checksumSha256` for a plain put. Default `false` (S3 does not by default). */
  readonly reportsChecksum?: boolean;
  /**
   * The service checks presigned signatures, so a tampered URL is refused. Default `true`;
   * s3rver accepts any signature (real S3 and MinIO refuse).
   */
  readonly verifiesPresignedSignatures?: boolean;
  /**
   * A request cut off mid-body stores nothing. Default `true`; s3rver sometimes keeps an empty
   * object from one (real S3 refuses an incomplete body).
   */
  readonly discardsCutRequests?: boolean;
}

const encoder = new TextEncoder();

async function sha256Base64(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>),
  );
  return btoa(String.fromCharCode(...digest));
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

async function listAll(storage: ObjectStorage, prefix: string, pageSize?: number) {
  const pages: ObjectInfo[][] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const page = await storage.list({ prefix, cursor, pageSize });
    pages.push([...page.objects]);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return pages;
}

function streamOf(...chunks: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

/** Declares the contract suite for one implementation. */
export function describeObjectStorageContract(
  name: string,
  setup: () => Promise<ObjectStorageContractSubject>,
  options: ObjectStorageContractOptions = {},
): void {
  describe(`ObjectStorage contract: ${name}`, () => {
    let subject: ObjectStorageContractSubject;
    let storage: ObjectStorage;
    let run = 0;
    const base = `contract-${Math.random().toString(36).slice(2, 8)}`;
    /** A prefix no other test uses. */
    const fresh = () => `${base}/t${++run}/`;

    beforeAll(async () => {
      subject = await setup();
      storage = subject.storage;
    });
    afterAll(async () => {
      await subject?.cleanup?.();
    });

    it('stores a string and describes it in head', async () => {
      const key = `${fresh()}hello.txt`;
      const before = Date.now();
      const info = await storage.put(key, 'hello world', { contentType: 'text/plain' });
      expect(info).toMatchObject({ key, size: 11 });
      const head = await storage.head(key);
      expect(head).toMatchObject({ key, size: 11, contentType: 'text/plain' });
      expect(typeof head?.etag).toBe('string');
      expect(head?.etag).toBe(info.etag);
      if (options.wallClockTimes !== false) {
        expect(head!.lastModified).toBeGreaterThan(before - 5_000);
        expect(head!.lastModified).toBeLessThan(Date.now() + 5_000);
      }
      if (options.reportsChecksum) {
        expect(head?.checksumSha256).toBe(await sha256Base64(encoder.encode('hello world')));
      }
    });

    it('stores bytes and streams and returns them unchanged from get', async () => {
      const prefix = fresh();
      const bytes = new Uint8Array([0, 1, 2, 250, 255]);
      await storage.put(`${prefix}bytes`, bytes);
      await storage.put(`${prefix}stream`, streamOf('chunk one, ', 'chunk two'), {
        contentLength: 20,
      });
      await storage.put(`${prefix}empty`, '');
      const gotBytes = await storage.get(`${prefix}bytes`);
      expect(new Uint8Array(await new Response(gotBytes!.body).arrayBuffer())).toEqual(bytes);
      const gotStream = await storage.get(`${prefix}stream`);
      expect(gotStream?.size).toBe(20);
      expect(await readAll(gotStream!.body)).toBe('chunk one, chunk two');
      const empty = await storage.get(`${prefix}empty`);
      expect(empty?.size).toBe(0);
      expect(await readAll(empty!.body)).toBe('');
    });

    it('answers undefined for a missing key in get and head', async () => {
      const key = `${fresh()}missing`;
      expect(await storage.head(key)).toBeUndefined();
      expect(await storage.get(key)).toBeUndefined();
    });

    it('overwrites an object in place', async () => {
      const key = `${fresh()}doc`;
      await storage.put(key, 'first version');
      await storage.put(key, 'v2');
      expect((await storage.head(key))?.size).toBe(2);
      expect(await readAll((await storage.get(key))!.body)).toBe('v2');
      expect((await listAll(storage, key)).flat().map((o) => o.key)).toEqual([key]);
    });

    it('deletes, and deleting a missing object succeeds', async () => {
      const key = `${fresh()}gone`;
      await storage.put(key, 'x');
      await storage.delete(key);
      expect(await storage.head(key)).toBeUndefined();
      await expect(storage.delete(key)).resolves.toBeUndefined();
      await expect(storage.delete(`${fresh()}never-existed`)).resolves.toBeUndefined();
    });

    it('round-trips keys with spaces, unicode, dots and reserved characters', async () => {
      const prefix = fresh();
      const keys = [
        `${prefix}with space.txt`,
        `${prefix}ñandú/ünïcode.pdf`,
        `${prefix}a+b=c&d.txt`,
        `${prefix}..`,
        `${prefix}./dot`,
        `${prefix}percent%20literal`,
        `${prefix}folder/`,
      ];
      for (const key of keys) await storage.put(key, key);
      for (const key of keys) {
        expect(await readAll((await storage.get(key))!.body)).toBe(key);
      }
      const listed = (await listAll(storage, prefix)).flat().map((o) => o.key);
      expect(listed).toEqual([...keys].sort(compareObjectKeys));
    });

    it('lists in UTF-8 byte order with sizes', async () => {
      const prefix = fresh();
      const names = ['b', 'a/2', 'a-1', 'a0', 'a', 'A', 'a/1/x', 'z~', 'é'];
      if (options.unicodeKeyOrder !== false) names.push('\u{1F600}', '\uFF61');
      for (const name of names) await storage.put(`${prefix}${name}`, name);
      const listed = (await listAll(storage, prefix)).flat();
      expect(listed.map((o) => o.key.slice(prefix.length))).toEqual(
        [...names].sort(compareObjectKeys),
      );
      for (const object of listed) {
        expect(object.size).toBe(encoder.encode(object.key.slice(prefix.length)).length);
      }
    });

    it('pages with a cursor: full pages, then a last page without nextCursor', async () => {
      const prefix = fresh();
      const keys = Array.from({ length: 25 }, (_, i) => `${prefix}k${String(i).padStart(3, '0')}`);
      for (const key of keys) await storage.put(key, 'x');
      const pages = await listAll(storage, prefix, 10);
      expect(pages.map((p) => p.length)).toEqual([10, 10, 5]);
      expect(pages.flat().map((o) => o.key)).toEqual(keys);
    });

    it('lists only keys under the prefix, across nested folders', async () => {
      const prefix = fresh();
      await storage.put(`${prefix}docs/1`, 'x');
      await storage.put(`${prefix}docs/deep/2`, 'x');
      await storage.put(`${prefix}docs-other/3`, 'x');
      await storage.put(`${prefix}doc`, 'x');
      const docs = (await listAll(storage, `${prefix}docs/`, 1)).flat().map((o) => o.key);
      expect(docs).toEqual([`${prefix}docs/1`, `${prefix}docs/deep/2`]);
      const partial = (await listAll(storage, `${prefix}doc`)).flat().map((o) => o.key);
      expect(partial).toEqual([
        `${prefix}doc`,
        `${prefix}docs-other/3`,
        `${prefix}docs/1`,
        `${prefix}docs/deep/2`,
      ]);
      expect((await storage.list({ prefix: `${prefix}nothing/` })).objects).toEqual([]);
    });

    it('accepts an upload through a presigned PUT and serves it through a presigned GET', async () => {
      const key = `${fresh()}signed/scan.pdf`;
      const put = await storage.presignPut(key, {
        expiresInSeconds: 300,
        contentType: 'application/pdf',
      });
      expect(put.method).toBe('PUT');
      expect(put.expiresAt).toBeGreaterThan(Date.now() - 60_000);
      const uploaded = await subject.send(
        new Request(put.url, { method: 'PUT', headers: put.headers, body: '%PDF-1.7 fake' }),
      );
      expect(uploaded.status).toBe(200);
      expect(await storage.head(key)).toMatchObject({ key, size: 13 });
      const get = await storage.presignGet(key, { expiresInSeconds: 300 });
      const downloaded = await subject.send(new Request(get.url, { method: 'GET' }));
      expect(downloaded.status).toBe(200);
      expect(await downloaded.text()).toBe('%PDF-1.7 fake');
    });

    it.runIf(options.verifiesPresignedSignatures !== false)(
      'rejects a tampered presigned URL',
      async () => {
        const key = `${fresh()}signed/a.txt`;
        const put = await storage.presignPut(key, { expiresInSeconds: 300 });
        const tampered = put.url.replace('signed/a.txt', 'signed/b.txt');
        const response = await subject.send(new Request(tampered, { method: 'PUT', body: 'x' }));
        expect(response.status).toBe(403);
        expect(await storage.head(key.replace('a.txt', 'b.txt'))).toBeUndefined();
      },
    );

    it('fails with ABORTED on an aborted signal', async () => {
      const key = `${fresh()}aborted`;
      const signal = AbortSignal.abort();
      const outcomes = await Promise.allSettled([
        storage.put(key, 'x', { signal }),
        storage.head(key, { signal }),
        storage.list({ prefix: key, signal }),
      ]);
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        const reason = (outcome as PromiseRejectedResult).reason;
        expect(isBallastError(reason, 'ABORTED')).toBe(true);
      }
      expect(await storage.head(key)).toBeUndefined();
    });

    it('moves an object to a free key, never over an existing one', async () => {
      const prefix = fresh();
      await storage.put(`${prefix}staged`, 'moved bytes', { contentType: 'application/pdf' });
      const moved = await storage.move(`${prefix}staged`, `${prefix}final/doc`);
      expect(moved).toMatchObject({ key: `${prefix}final/doc`, size: 11 });
      expect(await storage.head(`${prefix}staged`)).toBeUndefined();
      const final = await storage.get(`${prefix}final/doc`);
      expect(final?.contentType).toBe('application/pdf');
      expect(await readAll(final!.body)).toBe('moved bytes');

      await storage.put(`${prefix}other`, 'must not win');
      await expect(storage.move(`${prefix}other`, `${prefix}final/doc`)).rejects.toMatchObject({
        code: 'PRECONDITION_FAILED',
      });
      expect(await readAll((await storage.get(`${prefix}final/doc`))!.body)).toBe('moved bytes');
      expect(await storage.head(`${prefix}other`)).toBeDefined();
      await expect(storage.move(`${prefix}missing`, `${prefix}x`)).rejects.toMatchObject({
        code: 'OBJECT_NOT_FOUND',
      });
    });

    it('signed upload: stages, promotes on confirmation, and never lets the URL replace the confirmed object', async () => {
      const prefix = fresh();
      const records = new MemoryDocumentRecords<{ name: string }>();
      const tokens = createUploadTokens({ secret: 'contract-upload-token-secret-0123456789' });
      const content = encoder.encode('the confirmed bytes');
      const issued = await issueSignedUpload({
        storage,
        records,
        tokens,
        key: `${prefix}doc`,
        record: { name: 'doc' },
        size: content.length,
        checksumSha256: await sha256Base64(content),
      });
      const put = (body: Uint8Array) =>
        subject.send(
          new Request(issued.upload.url, {
            method: 'PUT',
            headers: issued.upload.headers,
            body: body as Uint8Array<ArrayBuffer>,
          }),
        );
      expect((await put(content)).status).toBe(200);
      const staged = (await listAll(storage, prefix)).flat().map((object) => object.key);
      expect(staged).toEqual([expect.stringMatching(/^.+\/doc\.upload-[0-9a-f]{32}$/)]);
      expect(await storage.head(`${prefix}doc`)).toBeUndefined();

      const confirmed = await confirmUpload({ token: issued.token, tokens, storage, records });
      expect(confirmed.row.status).toBe('active');
      expect((await listAll(storage, prefix)).flat().map((o) => o.key)).toEqual([`${prefix}doc`]);

      // The URL used again (content of the declared size, to get past a store that does not
      // verify signatures, as s3rver): staged anew, deleted by the next confirmation, never
      // promoted over the confirmed object.
      const swapped = encoder.encode('SWAPPED, same size!');
      expect(swapped.length).toBe(content.length);
      await put(swapped);
      const again = await confirmUpload({ token: issued.token, tokens, storage, records });
      expect(again.row).toEqual(confirmed.row);
      expect((await listAll(storage, prefix)).flat().map((o) => o.key)).toEqual([`${prefix}doc`]);
      expect(await readAll((await storage.get(`${prefix}doc`))!.body)).toBe('the confirmed bytes');
    });

    it.runIf(options.verifiesPresignedSignatures !== false)(
      'a presigned PUT refuses another length, other bytes and another content type',
      async () => {
        const key = `${fresh()}bound`;
        const content = encoder.encode('12345');
        const put = await storage.presignPut(key, {
          expiresInSeconds: 300,
          contentLength: 5,
          checksumSha256: await sha256Base64(content),
        });
        expect(put.headers['content-type']).toBe('application/octet-stream');
        const send = (body: string, headers: Record<string, string> = {}) =>
          subject.send(
            new Request(put.url, { method: 'PUT', headers: { ...put.headers, ...headers }, body }),
          );
        expect((await send('x'.repeat(10_000))).status).toBe(403);
        expect((await send('54321')).status).toBe(400);
        expect((await send('12345', { 'content-type': 'text/html' })).status).toBe(403);
        expect(await storage.head(key)).toBeUndefined();
        expect((await send('12345')).status).toBe(200);
      },
    );

    it('refuses a content type no HTTP header can carry with VALIDATION_FAILED, storing nothing', async () => {
      // Typically a browser's file.type passed on: the client's input, so a 400, never a
      // retryable 503 that would also count against the storage's circuit breaker.
      const prefix = fresh();
      const hostile = ['text/html\r\nx-amz-acl: public-read', 'a\u0000b', `x/${'y'.repeat(1100)}`];
      for (const [index, contentType] of hostile.entries()) {
        await expect(
          storage.put(`${prefix}${index}`, 'abc', { contentType }),
        ).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
          status: 400,
          retryable: false,
          details: { field: 'contentType' },
        });
      }
      expect((await storage.list({ prefix })).objects).toEqual([]);
    });

    it('refuses a body of another shape and a contentLength that is no size with INVALID_OPTIONS naming put()', async () => {
      // A Blob straight from a form is the likely one: a retryable STORAGE_UNAVAILABLE (file
      // system) or an error naming readBodyStream() (memory, S3) hid the caller's mistake.
      const prefix = fresh();
      for (const body of [new Blob(['abc']), 42, null, { a: 1 }, new ArrayBuffer(3)]) {
        await expect(storage.put(`${prefix}body`, body as never)).rejects.toMatchObject({
          code: 'INVALID_OPTIONS',
          message: expect.stringMatching(/put\(\).*"body"/),
          details: { field: 'body' },
        });
      }
      for (const contentLength of [Number.NaN, -1, Number.POSITIVE_INFINITY, 2.5, '3']) {
        await expect(
          storage.put(`${prefix}length`, 'abc', { contentLength: contentLength as never }),
        ).rejects.toMatchObject({ code: 'INVALID_OPTIONS', details: { field: 'contentLength' } });
      }
      expect((await storage.list({ prefix })).objects).toEqual([]);
    });

    it('refuses a stream of another length than contentLength with VALIDATION_FAILED, storing nothing', async () => {
      // S3 always refused it; memory and the file system stored the five bytes, so a test on
      // them passed where production fails.
      const prefix = fresh();
      for (const contentLength of [3, 8]) {
        await expect(
          storage.put(`${prefix}${contentLength}`, new Blob(['hello']).stream(), { contentLength }),
        ).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
          status: 400,
          details: { field: 'contentLength' },
        });
      }
      expect((await storage.list({ prefix })).objects).toEqual([]);
    });

    it("fails with UPLOAD_FAILED, not retryable, when the caller's stream breaks off, storing nothing", async () => {
      // The caller's source failed, not storage: memory threw the raw error, the file system
      // a retryable STORAGE_UNAVAILABLE that a retry policy would repeat against a dead stream.
      const prefix = fresh();
      for (const contentLength of [undefined, 6]) {
        let sent = false;
        const broken = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent) controller.error(new Error('source broke off'));
            else controller.enqueue(new TextEncoder().encode('abc'));
            sent = true;
          },
        });
        await expect(
          storage.put(`${prefix}${contentLength ?? 'unsized'}`, broken, { contentLength }),
        ).rejects.toMatchObject({ code: 'UPLOAD_FAILED', retryable: false });
      }
      // Without contentLength the stream is read before anything is sent.
      expect(await storage.head(`${prefix}unsized`)).toBeUndefined();
      if (options.discardsCutRequests !== false) {
        expect((await storage.list({ prefix })).objects).toEqual([]);
      }
    });

    it('rejects list page sizes outside 1..1000 with INVALID_OPTIONS', async () => {
      for (const pageSize of [0, 1001, 2.5]) {
        await expect(storage.list({ prefix: fresh(), pageSize })).rejects.toMatchObject({
          code: 'INVALID_OPTIONS',
        });
      }
    });
  });
}
