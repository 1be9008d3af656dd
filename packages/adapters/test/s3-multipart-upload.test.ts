/**
 * Multipart puts over real HTTP against s3rver (patched with AbortMultipartUpload and
 * ListMultipartUploads, see support/s3-server.ts): several parts with S3's smallest part size,
 * no orphan parts after any failure, a dropped connection survived by re-sending one part, and
 * leftovers of an upload that could not abort removed by the next put of the key.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStorage } from '@ballast/adapters/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partSizeFor } from '../src/s3/s3-multipart-config.js';
import { type CuttableProxy, startCuttableProxy } from './support/cuttable-proxy.js';
import { type S3TestServer, s3TestCredentials, startS3Server } from './support/s3-server.js';

const MiB = 1024 * 1024;
const partSizeBytes = 5 * MiB;

let s3: S3TestServer;
let proxy: CuttableProxy;

beforeAll(async () => {
  s3 = await startS3Server();
  proxy = await startCuttableProxy(s3.endpoint);
});

afterAll(async () => {
  await proxy?.close();
  await s3?.close();
});

/** The S3 commands a client sends, by name, for asserting what went over the wire. */
function recordCommands(client: S3Client): string[] {
  const names: string[] = [];
  client.middlewareStack.add(
    (next, context) => (args) => {
      names.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: `record-${Math.random()}` },
  );
  return names;
}

function storage(endpoint = s3.endpoint) {
  const built = new S3ObjectStorage({
    bucket: s3.bucket,
    endpoint,
    credentials: s3TestCredentials,
    multipartThresholdBytes: 5 * MiB,
    partSizeBytes,
    timeoutMs: 3_000,
    uploadTimeoutMs: 5_000,
  });
  return { storage: built, commands: recordCommands(built.client) };
}

/** A stream of `bytes` in 64 KiB chunks (pg_dump's size), erroring after `failAfter` bytes. */
function streamOf(bytes: Uint8Array, failAfter = Number.POSITIVE_INFINITY) {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= failAfter) return controller.error(new Error('the dump died'));
      if (offset >= bytes.byteLength) return controller.close();
      const end = Math.min(offset + 64 * 1024, bytes.byteLength);
      controller.enqueue(bytes.slice(offset, end));
      offset = end;
    },
  });
}

async function incompleteUploads(prefix: string): Promise<string[]> {
  const listed = await s3.client.send(
    new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: prefix }),
  );
  return (listed.Uploads ?? []).map((upload) => upload.Key ?? '');
}

async function sha256Of(storageToRead: S3ObjectStorage, key: string): Promise<string> {
  const object = await storageToRead.get(key);
  expect(object).toBeDefined();
  const hash = createHash('sha256');
  for await (const chunk of object!.body as unknown as AsyncIterable<Uint8Array>)
    hash.update(chunk);
  return hash.digest('hex');
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('S3ObjectStorage multipart puts on s3rver', () => {
  it('uploads a stream at the threshold in parts and the object reads back byte for byte', async () => {
    const { storage: store, commands } = storage();
    const body = randomBytes(17 * MiB + 123);
    const info = await store.put('mp/whole.bin', streamOf(body), {
      contentLength: body.byteLength,
      contentType: 'application/octet-stream',
    });
    expect(info).toMatchObject({ key: 'mp/whole.bin', size: body.byteLength });
    expect(commands.filter((name) => name !== 'ListMultipartUploads')).toEqual([
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
      'HeadObject',
    ]);
    expect((await store.head('mp/whole.bin'))?.size).toBe(body.byteLength);
    expect(await sha256Of(store, 'mp/whole.bin')).toBe(sha256(body));
    expect(await incompleteUploads('mp/')).toEqual([]);
    store.close();
  }, 60_000);

  it('keeps one PutObject below the threshold', async () => {
    const { storage: store, commands } = storage();
    const body = randomBytes(5 * MiB - 1);
    await store.put('mp/small.bin', streamOf(body), { contentLength: body.byteLength });
    expect(commands).toEqual(['PutObject']);
    expect(await sha256Of(store, 'mp/small.bin')).toBe(sha256(body));
    store.close();
  }, 60_000);

  it('aborts the upload when the source stream fails midway: no object, no parts left', async () => {
    const { storage: store, commands } = storage();
    const body = randomBytes(16 * MiB);
    await expect(
      store.put('mp/died.bin', streamOf(body, 12 * MiB), { contentLength: body.byteLength }),
    ).rejects.toMatchObject({ code: 'UPLOAD_FAILED', retryable: false });
    expect(commands).toContain('UploadPart');
    expect(commands.at(-1)).toBe('AbortMultipartUpload');
    expect(await store.head('mp/died.bin')).toBeUndefined();
    expect(await incompleteUploads('mp/died')).toEqual([]);
    store.close();
  }, 60_000);

  it('holds the stream to its contentLength, and aborts when it is shorter or longer', async () => {
    const { storage: store } = storage();
    const body = randomBytes(11 * MiB);
    await expect(
      store.put('mp/short.bin', streamOf(body), { contentLength: body.byteLength + 1 }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'contentLength' } });
    await expect(
      store.put('mp/long.bin', streamOf(body), { contentLength: body.byteLength - 1 }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', details: { field: 'contentLength' } });
    expect(await store.head('mp/short.bin')).toBeUndefined();
    expect(await store.head('mp/long.bin')).toBeUndefined();
    expect(await incompleteUploads('mp/short')).toEqual([]);
    expect(await incompleteUploads('mp/long')).toEqual([]);
    store.close();
  }, 60_000);

  it('aborts the upload when the caller aborts midway', async () => {
    const { storage: store, commands } = storage();
    const body = randomBytes(16 * MiB);
    const controller = new AbortController();
    let sent = 0;
    const counting = streamOf(body).pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          sent += chunk.byteLength;
          if (sent > 7 * MiB) controller.abort(new Error('operator pressed ^C'));
          out.enqueue(chunk);
        },
      }),
    );
    await expect(
      store.put('mp/aborted.bin', counting, {
        contentLength: body.byteLength,
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(commands.at(-1)).toBe('AbortMultipartUpload');
    expect(await incompleteUploads('mp/aborted')).toEqual([]);
    store.close();
  }, 60_000);

  it('survives one dropped connection by sending that part again', async () => {
    const { storage: store, commands } = storage(proxy.endpoint);
    const body = randomBytes(12 * MiB);
    const cut = proxy.cutAfterBytes(7 * MiB, { reopen: true });
    await store.put('mp/dropped.bin', streamOf(body), { contentLength: body.byteLength });
    await cut;
    expect(commands.filter((name) => name === 'UploadPart').length).toBe(4);
    expect(await sha256Of(store, 'mp/dropped.bin')).toBe(sha256(body));
    expect(await incompleteUploads('mp/dropped')).toEqual([]);
    store.close();
  }, 60_000);

  it('when the network is gone the parts stay; the next put of the key aborts them first', async () => {
    const { storage: store, commands } = storage(proxy.endpoint);
    const body = randomBytes(12 * MiB);
    const cut = proxy.cutAfterBytes(7 * MiB);
    await expect(
      store.put('mp/cut.bin', streamOf(body), { contentLength: body.byteLength }),
    ).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE', retryable: true });
    await cut;
    // The abort could not get through either: S3 still holds the upload.
    expect(commands.at(-1)).toBe('AbortMultipartUpload');
    expect(await incompleteUploads('mp/cut')).toEqual(['mp/cut.bin']);

    proxy.up = true;
    commands.length = 0;
    await store.put('mp/cut.bin', streamOf(body), { contentLength: body.byteLength });
    expect(commands.slice(0, 3)).toEqual([
      'ListMultipartUploads',
      'AbortMultipartUpload',
      'CreateMultipartUpload',
    ]);
    expect(await incompleteUploads('mp/cut')).toEqual([]);
    expect(await sha256Of(store, 'mp/cut.bin')).toBe(sha256(body));
    store.close();
  }, 60_000);

  it('releases the caller’s stream when the upload cannot even start', async () => {
    const { storage: store } = storage(proxy.endpoint);
    proxy.up = false;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(new Uint8Array(64 * 1024)),
      cancel: () => {
        cancelled = true;
      },
    });
    try {
      await expect(
        store.put('mp/unreachable.bin', body, { contentLength: 8 * MiB }),
      ).rejects.toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
      expect(cancelled).toBe(true);
    } finally {
      proxy.up = true;
      store.close();
    }
  }, 60_000);

  it('fails and deletes the object when the assembled object’s checksum is not what was sent', async () => {
    const { storage: store } = storage();
    // s3rver reports no checksums; make it report a wrong composite one, as a corrupting S3 would.
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'CompleteMultipartUploadCommand') {
          (result.output as { ChecksumSHA256?: string }).ChecksumSHA256 = `${'A'.repeat(43)}=-3`;
        }
        return result;
      },
      { step: 'initialize', name: 'wrong-composite-checksum' },
    );
    const body = randomBytes(11 * MiB);
    await expect(
      store.put('mp/corrupt.bin', streamOf(body), { contentLength: body.byteLength }),
    ).rejects.toMatchObject({ code: 'UPLOAD_FAILED' });
    expect(await store.head('mp/corrupt.bin')).toBeUndefined();
    expect(await incompleteUploads('mp/corrupt')).toEqual([]);
    store.close();
  }, 60_000);

  it('validates its settings: parts below S3’s 5 MiB minimum are refused', () => {
    expect(
      () =>
        new S3ObjectStorage({
          bucket: s3.bucket,
          endpoint: s3.endpoint,
          credentials: s3TestCredentials,
          partSizeBytes: MiB,
        }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    expect(
      () =>
        new S3ObjectStorage({
          bucket: s3.bucket,
          endpoint: s3.endpoint,
          credentials: s3TestCredentials,
          multipartThresholdBytes: 6 * 1024 ** 3,
        }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });

  it('grows the part size so that no object needs more than 10,000 parts', () => {
    expect(partSizeFor(100 * MiB, 16 * MiB)).toBe(16 * MiB);
    const huge = 1024 ** 4; // 1 TiB
    const grown = partSizeFor(huge, 16 * MiB);
    expect(Math.ceil(huge / grown)).toBeLessThanOrEqual(10_000);
    expect(grown % MiB).toBe(0);
  });
});
