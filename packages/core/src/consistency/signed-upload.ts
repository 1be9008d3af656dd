/**
 * Signed uploads (seed 000 §2): the client uploads straight to storage with a presigned PUT,
 * and the row only becomes `active` once the server has seen the object. The row is inserted
 * `pending` with a deadline before the URL is handed out, so an upload that is never confirmed
 * is still known and reconciliation can clean it (and its object) after the deadline; an object
 * never appears without a row that accounts for it.
 *
 * Nothing issued for an upload can touch a confirmed object: the presigned PUT writes to a
 * staging key (`<key>.upload-<random>`), bound to the declared size, SHA-256 and content type,
 * and `confirmUpload` moves the staged object to the final key, a move that never replaces an
 * object. Replaying the URL after confirmation only creates a new staged object, which the next
 * confirmation deletes (or reconciliation, as an orphan after its grace period).
 */
import { systemClock } from '../clock/system-clock.js';
import { encodeBase64 } from '../crypto/byte-encoding.js';
import { BallastError, isBallastError } from '../errors/ballast-error.js';
import { noopLogger } from '../logging/logger.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import { saga } from '../saga/saga.js';
import { normaliseSha256, sha256 } from '../storage/checksum.js';
import { assertContentType } from '../storage/content-type.js';
import { readObjectBody } from '../storage/object-body.js';
import type { ObjectInfo, ObjectStorage, PresignedRequest } from '../storage/object-storage.js';
import type { DocumentRecords } from './document-records.js';
import {
  keySchema,
  portSchema,
  type RecipeOptions,
  storageSchema,
  withRecipeOptions,
} from './recipe-options.js';
import { stagingKeyOf } from './staging-key.js';
import type { RecordedObject } from './upload-then-record.js';
import type { UploadTokens } from './upload-tokens.js';

/** Options for {@link issueSignedUpload}. */
export interface IssueSignedUploadOptions<Data, Row extends { readonly id: string }>
  extends RecipeOptions {
  readonly storage: ObjectStorage;
  /** `insert` (the pending row) and `expirePending` (undo when presigning fails). */
  readonly records: Pick<DocumentRecords<Data, Row>, 'insert' | 'expirePending'>;
  readonly tokens: UploadTokens;
  /** A fresh key for the object, e.g. `cases/${caseId}/${crypto.randomUUID()}`. */
  readonly key: string;
  /** The caller's own columns for the pending row. */
  readonly record: Data;
  /**
   * Content type the client must send, signed into the URL. Default
   * `'application/octet-stream'` (never the uploader's choice).
   */
  readonly contentType?: string;
  /**
   * Declared size in bytes, signed into the URL (storage refuses another length) and checked
   * again by `confirmUpload`. Strongly recommended: without it the uploader picks the size.
   */
  readonly size?: number;
  /**
   * Declared SHA-256 of the file, base64 or hex (the client computes it before asking), signed
   * into the URL (storage refuses other bytes) and checked again by `confirmUpload`.
   */
  readonly checksumSha256?: string;
  /** Lifetime of the presigned PUT. Default `900` (15 minutes). */
  readonly expiresInSeconds?: number;
  /**
   * Extra time after the URL expires during which the upload may still be confirmed (a large
   * upload started just before expiry). Default `300`. The pending row expires at
   * `now + expiresInSeconds + confirmWithinSeconds`.
   */
  readonly confirmWithinSeconds?: number;
}

/** What the server returns to the client that will upload. */
export interface SignedUpload<Row> {
  /** The `pending` row. */
  readonly row: Row;
  /** The presigned PUT the client sends the file with. */
  readonly upload: PresignedRequest;
  /** Opaque; the client passes it to the confirmation endpoint. */
  readonly token: string;
  /** Deadline for the confirmation (epoch ms). */
  readonly confirmBy: number;
}

// Literals, not `7 * 24 * 3600`: arithmetic in a schema's arguments makes a bundler keep the schema
// in bundles that never call issueSignedUpload().
const weekSeconds = 604_800;
const daySeconds = 86_400;

const issueSchema = v.object(
  withRecipeOptions({
    storage: storageSchema('presignPut'),
    records: portSchema('a DocumentRecords', 'insert', 'expirePending'),
    tokens: portSchema('UploadTokens (createUploadTokens())', 'sign', 'verify'),
    key: keySchema,
    record: v.unknown(),
    contentType: v.optional(v.string({ minLength: 1 })),
    size: v.optional(v.number({ integer: true, min: 0 })),
    // Any string: its form is checked below as the uploader's input (400), not as an option.
    checksumSha256: v.optional(v.string()),
    expiresInSeconds: v.optional(v.number({ integer: true, min: 1, max: weekSeconds }), 900),
    confirmWithinSeconds: v.optional(v.number({ integer: true, min: 0, max: daySeconds }), 300),
  }),
);

/**
 * Inserts a `pending` row, presigns a PUT for `key` and signs an upload token naming both.
 * Check the caller's right to upload (case token, session) before calling it. If presigning
 * fails, the pending row is expired again and the error propagates.
 *
 * @example
 * ```ts
 * const { upload, token } = await issueSignedUpload({
 *   storage, records, tokens, key: `cases/${caseId}/${crypto.randomUUID()}`,
 *   record: { caseId, name: 'scan.pdf' }, contentType: 'application/pdf', size: 482_113,
 * });
 * // client: await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: file });
 * ```
 */
export async function issueSignedUpload<Data, Row extends { readonly id: string }>(
  options: IssueSignedUploadOptions<Data, Row>,
): Promise<SignedUpload<Row>> {
  const parsed = parseOptions(issueSchema, options, 'issueSignedUpload()');
  const { storage, records, tokens, key, size, signal } = options;
  const contentType = options.contentType ?? defaultContentType;
  // The declared type and checksum come from the uploader (file.type, a hash the browser
  // computed): a malformed one is the client's mistake, refused before any row is written.
  assertContentType(contentType);
  let checksumSha256: string | undefined;
  if (options.checksumSha256 !== undefined) {
    checksumSha256 = normaliseSha256(options.checksumSha256);
    if (!checksumSha256) {
      throw mismatch('checksumSha256', 'Declared checksum is not a SHA-256 in base64 or hex.');
    }
  }
  const stagingKey = stagingKeyOf(key);
  const clock = options.clock ?? systemClock;
  const traceId = options.traceId ?? crypto.randomUUID();
  const confirmBy = clock.now() + (parsed.expiresInSeconds + parsed.confirmWithinSeconds) * 1000;
  const results = await saga({
    name: 'issueSignedUpload',
    logger: options.logger ?? noopLogger,
    traceId,
    signal,
  })
    .step({
      name: 'row',
      run: (ctx) =>
        records.insert(
          { key, status: 'pending', data: options.record, expiresAt: confirmBy },
          { traceId, now: clock.now(), signal: ctx.signal },
        ),
      compensate: async (_ctx, row) => {
        await records.expirePending(row.id, { traceId, now: clock.now() });
      },
    })
    .step({
      name: 'upload',
      run: () =>
        storage.presignPut(stagingKey, {
          expiresInSeconds: parsed.expiresInSeconds,
          contentType,
          ...(size === undefined ? {} : { contentLength: size }),
          ...(checksumSha256 === undefined ? {} : { checksumSha256 }),
        }),
    })
    .step({
      name: 'token',
      run: ({ results }) =>
        tokens.sign({
          recordId: results.row.id,
          key,
          stagingKey,
          expiresAt: confirmBy,
          size,
          contentType,
          ...(checksumSha256 === undefined ? {} : { checksumSha256 }),
        }),
    })
    .run();
  return { row: results.row, upload: results.upload, token: results.token, confirmBy };
}

/** Options for {@link confirmUpload}. */
export interface ConfirmUploadOptions<Row extends { readonly id: string }> extends RecipeOptions {
  /** The token from {@link issueSignedUpload}, as the client sent it back. */
  readonly token: string;
  readonly tokens: UploadTokens;
  readonly storage: ObjectStorage;
  /** Only `markUploaded` is used. */
  readonly records: Pick<DocumentRecords<unknown, Row>, 'markUploaded'>;
  /** Size the object must have. Default: the size declared when issuing, if any. */
  readonly expectedSize?: number;
  /**
   * SHA-256 the object must have, base64 (S3's form) or hex. Compared with the backend's
   * checksum when it reports one, otherwise the object is read and hashed.
   */
  readonly expectedChecksum?: string;
}

const confirmSchema = v.object(
  withRecipeOptions({
    token: v.string({ minLength: 1, maxLength: 8192 }),
    tokens: portSchema('UploadTokens (createUploadTokens())', 'sign', 'verify'),
    storage: storageSchema('head', 'get', 'move', 'delete'),
    records: portSchema('a DocumentRecords', 'markUploaded'),
    expectedSize: v.optional(v.number({ integer: true, min: 0 })),
    expectedChecksum: v.optional(v.string({ minLength: 1, maxLength: 128 })),
  }),
);

const defaultContentType = 'application/octet-stream';

/** `type/subtype`, lower-cased, without parameters: what a content type says the bytes are. */
function mediaType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

function mismatch(field: string, message: string): BallastError {
  return new BallastError('VALIDATION_FAILED', { message, details: { field } });
}

async function checksumOf(
  storage: ObjectStorage,
  info: ObjectInfo,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  if (info.checksumSha256) return info.checksumSha256;
  const object = await storage.get(info.key, { signal });
  if (!object) return undefined;
  return encodeBase64(await sha256(await readObjectBody(object.body, signal)));
}

/**
 * Confirms a signed upload: verifies the token (signature, then deadline on the server's
 * clock), checks the staged object's size and checksum, moves it to the final key (never over
 * an existing object), checks the final object again, then moves the row from `pending` to
 * `active`. Throws `SIGNATURE_INVALID` / `SIGNATURE_EXPIRED` for a bad or late token,
 * `OBJECT_NOT_FOUND` when nothing was uploaded yet (the client may upload and confirm again
 * before the deadline), `VALIDATION_FAILED` (`details.field` `size`, `checksum` or
 * `contentType`, compared as media types) for the wrong bytes, and `NOT_FOUND` when the row is no longer pending (expired and cleaned). A
 * repeated confirmation re-checks the final object and resolves with the active row; an object
 * staged again after confirmation (a replayed URL) is deleted, never promoted.
 *
 * @example
 * ```ts
 * const { row } = await confirmUpload({ token: body.token, tokens, storage, records });
 * ```
 */
export async function confirmUpload<Row extends { readonly id: string }>(
  options: ConfirmUploadOptions<Row>,
): Promise<RecordedObject<Row>> {
  parseOptions(confirmSchema, options, 'confirmUpload()');
  const { storage, records, tokens, signal } = options;
  const clock = options.clock ?? systemClock;
  const traceId = options.traceId ?? crypto.randomUUID();
  const logger = options.logger ?? noopLogger;
  let expectedChecksum: string | undefined;
  if (options.expectedChecksum !== undefined) {
    expectedChecksum = normaliseSha256(options.expectedChecksum);
    if (!expectedChecksum) {
      throw mismatch('checksum', 'Expected checksum is not a SHA-256 in base64 or hex.');
    }
  }
  const claims = await tokens.verify(options.token);
  expectedChecksum ??= claims.checksumSha256;
  const expectedSize = options.expectedSize ?? claims.size;
  const check = async (object: ObjectInfo): Promise<void> => {
    if (expectedSize !== undefined && object.size !== expectedSize) {
      throw mismatch('size', `Uploaded object has ${object.size} bytes, expected ${expectedSize}.`);
    }
    // The type is signed into the URL, but a storage that does not check presigned headers
    // (some gateways, s3rver) keeps whatever the uploader sent: an HTML page under a PDF's row.
    if (
      claims.contentType !== undefined &&
      object.contentType !== undefined &&
      mediaType(object.contentType) !== mediaType(claims.contentType)
    ) {
      throw mismatch(
        'contentType',
        `Uploaded object is ${object.contentType}, expected ${claims.contentType}.`,
      );
    }
    if (expectedChecksum && (await checksumOf(storage, object, signal)) !== expectedChecksum) {
      throw mismatch('checksum', 'Uploaded object does not match the expected SHA-256.');
    }
  };
  if (claims.stagingKey !== undefined) {
    const staged = await storage.head(claims.stagingKey, { signal });
    if (staged) {
      // An object at the final key means this upload was promoted before and the URL was used
      // again: the confirmed object is never replaced; the new staged one goes.
      const promoted = (await storage.head(claims.key, { signal })) !== undefined;
      if (!promoted) await check(staged);
      try {
        if (!promoted) await storage.move(claims.stagingKey, claims.key, { signal });
      } catch (error) {
        // Another confirmation promoted it in between: the final key is taken, or the staged
        // object already moved away. The final object is checked below either way.
        if (
          !isBallastError(error, 'PRECONDITION_FAILED') &&
          !isBallastError(error, 'OBJECT_NOT_FOUND')
        )
          throw error;
      }
      if (await storage.head(claims.stagingKey, { signal })) {
        logger.warn(
          { traceId, recordId: claims.recordId, key: claims.key },
          'upload staged again after promotion: staged object deleted, confirmed one kept',
        );
        await storage.delete(claims.stagingKey, { signal });
      }
    }
  }
  const object = await storage.head(claims.key, { signal });
  if (!object) {
    throw new BallastError('OBJECT_NOT_FOUND', {
      message: `Nothing uploaded yet under the key of upload ${claims.recordId}.`,
    });
  }
  // Checked again at the final key, on every confirmation, repeated ones included.
  await check(object);
  const row = await records.markUploaded(claims.recordId, object, {
    traceId,
    now: clock.now(),
    signal,
  });
  if (!row) {
    throw new BallastError('NOT_FOUND', {
      message: `Upload ${claims.recordId} is no longer pending (expired or removed).`,
    });
  }
  logger.info(
    { traceId, recordId: claims.recordId, key: claims.key, size: object.size },
    'upload confirmed',
  );
  return { row, object };
}
