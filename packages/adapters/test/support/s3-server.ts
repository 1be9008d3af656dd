/**
 * An S3-compatible server for integration tests: s3rver 3.7.1 in this process, on a free
 * loopback port, storing into a fresh temporary directory. Every test file starts its own, so
 * files never share a bucket; tests inside a file isolate themselves by key prefix or by
 * creating a bucket with `createBucket`.
 *
 * s3rver differs from S3 in ways that matter to Ballast's tests; {@link startS3Server} patches
 * the first three in this process (the test process is the only user of s3rver):
 * - Its ListObjectsV2 continuation tokens use single DES, which OpenSSL 3 (Node ≥ 17) refuses
 *   ("digital envelope routines::unsupported", answered as a 500): no listing past page one.
 * - It lists in the order it walks its directory tree, so "a/2" comes before "a-1", where S3
 *   lists in UTF-8 byte order, the order reconciliation merge-joins on.
 * - It stores a key as a file path, so "./dot" becomes "dot" and "a//b" becomes "a/b".
 * - It has CreateMultipartUpload, UploadPart and CompleteMultipartUpload but neither
 *   AbortMultipartUpload (405) nor ListMultipartUploads (501), so an aborted upload's parts
 *   would stay forever and no test could see them: {@link addMultipartAbortAndListing} answers
 *   both from its upload directories, as S3 does.
 * - It ignores the conditions S3 checks on a copy's source (`x-amz-copy-source-if-match`) and
 *   on a delete (`If-Match`, S3's conditional delete): {@link addCopyAndDeleteConditions}
 *   answers 412 `PreconditionFailed` when the object's ETag differs, as S3 does.
 * - It does not verify SigV4 signatures at all (a tampered presigned URL works), which no patch
 *   here fixes: tests of signature checks need another S3-compatible server.
 */
import crypto from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** s3rver's fixed credentials (it rejects any other access key id). */
export const s3TestCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** An SDK client for the test server at `endpoint`: path style, no retries, checksums only when S3 needs them. */
export function s3TestClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: s3TestCredentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

export interface S3TestServer {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** A bucket created at start. */
  readonly bucket: string;
  /**
   * A client configured the way the adapter configures its own: path-style, checksums only
   * when required (see docs/adapters-s3.md), one attempt per call.
   */
  readonly client: S3Client;
  /** Creates another empty bucket and returns its name. */
  createBucket(name?: string): Promise<string>;
  /**
   * Writes objects straight into the server's store, without HTTP: for tests that need many
   * objects in place (s3rver takes several ms per PUT) and test something else over HTTP.
   * Listing, HEAD and GET then see them like any other object.
   */
  seedObjects(keys: readonly string[], body?: string, bucket?: string): Promise<void>;
  /** Stops the server, destroys the client and removes the directory. */
  close(): Promise<void>;
}

function randomBucketName(): string {
  return `ballast-${Math.random().toString(36).slice(2, 10)}`;
}

let continuationTokensAllowed = false;

/**
 * s3rver encrypts continuation tokens with `des` (DES-CBC), which OpenSSL 3 only has in its
 * legacy provider. Triple DES with the key repeated three times is the same cipher (EDE with
 * K1 = K2 = K3 reduces to single DES) and is in the default provider, so this swaps it in for
 * s3rver's calls only; the test process is the only user of this module.
 */
function allowS3rverContinuationTokens(): void {
  if (continuationTokensAllowed) return;
  continuationTokensAllowed = true;
  const { createCipheriv, createDecipheriv } = crypto;
  const tripled = (key: crypto.CipherKey) => {
    const single = Buffer.from(key as Uint8Array);
    return Buffer.concat([single, single, single]);
  };
  crypto.createCipheriv = ((algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike) =>
    algorithm === 'des'
      ? createCipheriv('des-ede3-cbc', tripled(key), iv)
      : createCipheriv(algorithm, key, iv)) as typeof crypto.createCipheriv;
  crypto.createDecipheriv = ((algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike) =>
    algorithm === 'des'
      ? createDecipheriv('des-ede3-cbc', tripled(key), iv)
      : createDecipheriv(algorithm, key, iv)) as typeof crypto.createDecipheriv;
}

interface S3rverListOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}

interface S3rverFilesystemStore {
  getBucketPath(bucket: string): string;
  getMetadata(bucket: string, key: string): Promise<unknown>;
}

interface S3rverFilesystemStoreClass {
  prototype: S3rverFilesystemStore & {
    listObjects(bucket: string, options: S3rverListOptions): Promise<unknown>;
  };
  encodeKeyPath(key: string): string;
  decodeKeyPath(keyPath: string): string;
}

let storeFaithfulToS3 = false;

/**
 * Makes s3rver's file store keep keys exactly and list them like S3. Keys: every path segment
 * that a file system would normalise away ("", ".", "..") or that starts with the escape
 * character is stored as "&" + segment. Listing: collect the keys under the prefix, sort them by
 * their UTF-8 bytes, resume strictly after `startAfter` in that order.
 */
function makeStoreFaithfulToS3(): void {
  if (storeFaithfulToS3) return;
  storeFaithfulToS3 = true;
  const require = createRequire(import.meta.url);
  const Store = require('s3rver/lib/stores/filesystem.js') as S3rverFilesystemStoreClass;
  const S3Object = require('s3rver/lib/models/object.js') as new (
    bucket: string,
    key: string,
    content: null,
    metadata: unknown,
  ) => unknown;
  const { walk } = require('s3rver/lib/utils.js') as {
    walk: (directory: string) => Iterable<string>;
  };
  const escapeSegment = (segment: string) =>
    segment === '' || segment === '.' || segment === '..' || segment.startsWith('&')
      ? `&${segment}`
      : segment;
  const unescapeSegment = (segment: string) =>
    segment.startsWith('&') ? segment.slice(1) : segment;
  Store.encodeKeyPath = (key) => key.split('/').map(escapeSegment).join('/');
  Store.decodeKeyPath = (keyPath) => keyPath.split('/').map(unescapeSegment).join('/');

  const objectSuffix = '._S3rver_object';
  const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  Store.prototype.listObjects = async function listObjects(bucket, options) {
    const {
      delimiter = '',
      startAfter = '',
      prefix = '',
      maxKeys = Number.POSITIVE_INFINITY,
    } = options;
    const bucketPath = this.getBucketPath(bucket);
    const keys: string[] = [];
    for (const filePath of walk(bucketPath)) {
      if (!filePath.endsWith(objectSuffix)) continue;
      const key = Store.decodeKeyPath(filePath.slice(bucketPath.length + 1, -objectSuffix.length));
      if (key.startsWith(prefix) && (startAfter === '' || byteOrder(key, startAfter) > 0)) {
        keys.push(key);
      }
    }
    keys.sort(byteOrder);
    const commonPrefixes = new Set<string>();
    const page: string[] = [];
    let isTruncated = false;
    for (const key of keys) {
      const rest = delimiter === '' ? -1 : key.slice(prefix.length).indexOf(delimiter);
      if (rest !== -1) {
        commonPrefixes.add(key.slice(0, prefix.length + rest + delimiter.length));
        continue;
      }
      if (page.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      page.push(key);
    }
    const metadata = await Promise.all(
      page.map((key) =>
        this.getMetadata(bucket, key).catch((error: { code?: string }) => {
          if (error.code === 'ENOENT') return undefined;
          throw error;
        }),
      ),
    );
    return {
      objects: page
        .map((key, i) => [key, metadata[i]] as const)
        .filter(([, meta]) => meta !== undefined)
        .map(([key, meta]) => new S3Object(bucket, key, null, meta)),
      commonPrefixes: [...commonPrefixes].sort(byteOrder),
      isTruncated,
    };
  };
}

interface KoaContext {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  store: { getResourcePath(bucket: string, key: string | undefined, resource: string): string };
}

type KoaMiddleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

/** s3rver's error class, so a route added here answers in s3rver's own XML error format. */
const S3Error = createRequire(import.meta.url)('s3rver/lib/models/error.js') as new (
  code: string,
  message: string,
) => Error;

/** Runs `middleware` just before s3rver's router, after its own request parsing. */
function insertBeforeRouter(server: S3rver, middleware: KoaMiddleware): void {
  const koa = server as unknown as { middleware: KoaMiddleware[] };
  koa.middleware.splice(koa.middleware.length - 1, 0, middleware);
}

/**
 * AbortMultipartUpload (`DELETE /bucket/key?uploadId=…`) and ListMultipartUploads
 * (`GET /bucket?uploads`), answered from s3rver's own upload directories
 * (`<bucket>/…_uploads/<uploadId>/{key,metadata,1,2…}`), inserted just before its router.
 */
function addMultipartAbortAndListing(server: S3rver): void {
  const middleware: KoaMiddleware = async (ctx, next) => {
    // Path style: "/bucket/" for the bucket itself, "/bucket/key…" for an object.
    const slash = ctx.path.indexOf('/', 1);
    const bucket = slash === -1 ? ctx.path.slice(1) : ctx.path.slice(1, slash);
    const objectKey = slash === -1 ? '' : ctx.path.slice(slash + 1);
    if (!bucket) return next();
    const uploadsDir = ctx.store.getResourcePath(bucket, undefined, 'uploads');
    const uploadId = ctx.query.uploadId;
    if (ctx.method === 'DELETE' && objectKey !== '' && typeof uploadId === 'string') {
      if (!/^[0-9a-f]+$/.test(uploadId) || !(await exists(join(uploadsDir, uploadId)))) {
        throw new S3Error('NoSuchUpload', 'The specified upload does not exist.');
      }
      await rm(join(uploadsDir, uploadId), { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    if (ctx.method === 'GET' && objectKey === '' && 'uploads' in ctx.query) {
      const prefix = typeof ctx.query.prefix === 'string' ? ctx.query.prefix : '';
      const ids = await readdir(uploadsDir).catch(() => [] as string[]);
      const uploads = [];
      for (const id of ids) {
        const key = await readFile(join(uploadsDir, id, 'key'), 'utf8').catch(() => undefined);
        if (key === undefined || !key.startsWith(prefix)) continue;
        const { birthtime } = await stat(join(uploadsDir, id));
        uploads.push({ Key: key, UploadId: id, Initiated: birthtime.toISOString() });
      }
      uploads.sort((a, b) => Buffer.compare(Buffer.from(a.Key), Buffer.from(b.Key)));
      ctx.body = {
        ListMultipartUploadsResult: {
          Bucket: bucket,
          Prefix: prefix,
          MaxUploads: 1000,
          IsTruncated: false,
          ...(uploads.length === 0 ? {} : { Upload: uploads }),
        },
      };
      return;
    }
    return next();
  };
  // The router is the last middleware; the XML encoder before it serialises `ctx.body`.
  insertBeforeRouter(server, middleware);
}

/**
 * S3's ETag conditions on CopyObject's source and on DeleteObject, which s3rver ignores: a
 * request whose condition names another ETag than the object's is refused with 412.
 */
function addCopyAndDeleteConditions(server: S3rver): void {
  const etagOf = async (ctx: KoaContext, bucket: string, key: string) => {
    const store = ctx.store as unknown as {
      existsObject(bucket: string, key: string): Promise<boolean>;
      getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
    };
    if (!(await store.existsObject(bucket, key))) return undefined;
    return (await store.getMetadata(bucket, key)).etag;
  };
  const refuse = () => {
    throw new S3Error(
      'PreconditionFailed',
      'At least one of the pre-conditions you specified did not hold',
    );
  };
  const middleware: KoaMiddleware = async (ctx, next) => {
    const copySourceIfMatch = ctx.headers['x-amz-copy-source-if-match'];
    const copySource = ctx.headers['x-amz-copy-source'];
    if (
      ctx.method === 'PUT' &&
      typeof copySource === 'string' &&
      typeof copySourceIfMatch === 'string'
    ) {
      const source = decodeURIComponent(copySource).replace(/^\//, '');
      const slash = source.indexOf('/');
      const etag = await etagOf(ctx, source.slice(0, slash), source.slice(slash + 1));
      if (etag !== undefined && etag !== copySourceIfMatch) refuse();
    }
    const ifMatch = ctx.headers['if-match'];
    if (ctx.method === 'DELETE' && typeof ifMatch === 'string' && !('uploadId' in ctx.query)) {
      const slash = ctx.path.indexOf('/', 1);
      if (slash !== -1) {
        const key = decodeURIComponent(ctx.path.slice(slash + 1));
        const etag = await etagOf(ctx, ctx.path.slice(1, slash), key);
        if (etag !== undefined && etag !== ifMatch) refuse();
      }
    }
    return next();
  };
  insertBeforeRouter(server, middleware);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function startS3Server(): Promise<S3TestServer> {
  allowS3rverContinuationTokens();
  makeStoreFaithfulToS3();
  const directory = await mkdtemp(join(tmpdir(), 'ballast-s3rver-'));
  const bucket = randomBucketName();
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  addMultipartAbortAndListing(server);
  addCopyAndDeleteConditions(server);
  const { port } = await server.run();
  const require = createRequire(import.meta.url);
  const S3Object = require('s3rver/lib/models/object.js') as new (
    bucket: string,
    key: string,
    content: Buffer,
    metadata: Record<string, string>,
  ) => unknown;
  const store = (server as unknown as { store: { putObject(object: unknown): Promise<unknown> } })
    .store;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = s3TestClient(endpoint);
  return {
    endpoint,
    bucket,
    client,
    async createBucket(name = randomBucketName()) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async seedObjects(keys, body = 'x', target = bucket) {
      const content = Buffer.from(body);
      for (let i = 0; i < keys.length; i += 100) {
        await Promise.all(
          keys
            .slice(i, i + 100)
            .map((key) =>
              store.putObject(new S3Object(target, key, content, { 'content-type': 'text/plain' })),
            ),
        );
      }
    },
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
