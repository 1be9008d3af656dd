/**
 * The browser half of Ballast's signed uploads (seed 000 §2): ask your server for a presigned
 * PUT (core's `issueSignedUpload()` on the server), send the file straight to storage with
 * progress and retries, then confirm (core's `confirmUpload()`), which makes the row `active`.
 *
 * The PUT sends exactly the headers the URL was signed with (content type, `x-amz-checksum-
 * sha256`) and the file's exact length, so S3 or the local presigner accept it. A storage
 * service's single PUT cannot resume in the middle of a file, so a retry sends the whole file
 * again; the server's `issueSignedUpload` binds size and SHA-256, so a retry can never store
 * other bytes. Surviving a reload is the upload queue's job (`createUploadQueue`).
 */
import {
  type BallastError,
  type ErrorCodeInfo,
  isBallastError,
  parseRetryAfter,
  systemClock,
} from '@ballast/core';
import { clientError } from '../errors/client-error.js';
import { createClient } from '../fetch/create-client.js';
import { createIdempotencyKey } from '../fetch/idempotency-key.js';
import { backoffMs } from '../fetch/retry-decision.js';
import { type PutBlobAnswer, putBlob } from './put-blob.js';
import {
  parseUploadFileOptions,
  type UploadEvents,
  type UploadFileOptions,
  type UploadResult,
} from './upload-options.js';
import { parseUploadTicket, type UploadTicket } from './upload-ticket.js';

/** Whether sending the PUT again may succeed. */
function isTransient(error: BallastError): boolean {
  if (error.code === 'ABORTED') return false;
  return error.code === 'NETWORK_ERROR' || error.code === 'TIMEOUT' || error.retryable;
}

/** `UPLOAD_FAILED`'s defaults, as core's catalogue has them (see clientError). */
export const uploadFailed: Partial<ErrorCodeInfo> = {
  status: 502,
  retryable: true,
  action: 'retry',
};

function storageError(answer: PutBlobAnswer, now: number): BallastError {
  const { status } = answer;
  const transient = status >= 500 || status === 408 || status === 429;
  const retryAfterMs = parseRetryAfter(answer.headers.get('retry-after'), now);
  return clientError(
    'UPLOAD_FAILED',
    {
      retryable: transient,
      ...(transient
        ? {}
        : {
            message:
              status === 403
                ? 'Storage refused the upload: the link expired, or the file is not the one declared.'
                : 'Storage refused the file.',
          }),
      details: { storageStatus: status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    },
    uploadFailed,
  );
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * SHA-256 of the file in base64, or `undefined` where WebCrypto's digest is missing (a page
 * served over plain http on a LAN address): the server then decides whether it needs one.
 */
async function sha256Of(file: Blob): Promise<string | undefined> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) return undefined;
  try {
    return toBase64(new Uint8Array(await subtle.digest('SHA-256', await file.arrayBuffer())));
  } catch (cause) {
    // Too large for memory (RangeError), or removed/changed on disk since it was picked.
    throw clientError(
      'UPLOAD_FAILED',
      {
        message: 'The file could not be read; pick it again, or pass checksumSha256.',
        retryable: false,
        details: { size: file.size },
        cause,
      },
      uploadFailed,
    );
  }
}

/**
 * Uploads `file` through a presigned PUT: requests the URL, sends the file (with progress
 * events, and retries with backoff on a network failure, a timeout or a storage 5xx), asks
 * once for a fresh URL when storage answers 403 (an expired URL), then confirms.
 *
 * @example
 * ```ts
 * const { data } = await uploadFile(file, {
 *   requestUrl: '/uploads',
 *   confirmUrl: '/uploads/confirm',
 *   on: { progress: ({ loaded, total }) => (bar.value = loaded / total) },
 * });
 * ```
 * @throws BallastError `INVALID_OPTIONS` for a wrong option; your server's errors as they
 *   answered them (problem+json); `UPSTREAM_ERROR` when the presign answer is malformed or
 *   unsafe (a URL that is not http(s), carries credentials or is outside `storageOrigins`;
 *   headers a page may not set), before any byte is sent; `UPLOAD_FAILED` when storage refused the file
 *   (`details.storageStatus`), retryable when it was a 5xx; `NETWORK_ERROR` or `TIMEOUT` when
 *   the retries ran out; `ABORTED` when `signal` fired.
 */
export async function uploadFile<T = unknown>(
  file: Blob,
  options: UploadFileOptions,
): Promise<UploadResult<T>> {
  const config = parseUploadFileOptions(options);
  if (typeof Blob === 'undefined' || !(file instanceof Blob)) {
    throw clientError('INVALID_OPTIONS', {
      message: 'Invalid options for uploadFile(): "file": expected a Blob or File',
      details: { field: 'file' },
    });
  }
  const clock = config.clock ?? systemClock;
  const client = config.client ?? createClient();
  const { signal } = config;
  const emit = <E extends keyof UploadEvents>(
    event: E,
    payload: Parameters<UploadEvents[E]>[0],
  ) => {
    try {
      (config.on?.[event] as ((value: typeof payload) => void) | undefined)?.(payload);
    } catch {
      // A listener's failure is the listener's; it never changes the upload's outcome.
    }
  };
  const abortedCheck = () => {
    if (signal?.aborted) throw clientError('ABORTED', { cause: signal.reason });
  };

  const contentType = config.contentType ?? (file.type || 'application/octet-stream');
  const name = config.name ?? (file as { name?: unknown }).name;
  let checksumSha256: string | undefined;
  if (config.checksumSha256 === undefined) {
    emit('stage', { stage: 'hashing' });
    checksumSha256 = await sha256Of(file);
  } else if (config.checksumSha256 !== false) checksumSha256 = config.checksumSha256;
  abortedCheck();

  const key = config.idempotencyKey ?? createIdempotencyKey();
  async function requestTicket(requestKey: string): Promise<UploadTicket> {
    emit('stage', { stage: 'requesting' });
    const { data } = await client.request(config.requestUrl, {
      method: 'POST',
      idempotencyKey: requestKey,
      ...(signal === undefined ? {} : { signal }),
      body: {
        ...config.fields,
        ...(typeof name === 'string' ? { name } : {}),
        size: file.size,
        contentType,
        ...(checksumSha256 === undefined ? {} : { checksumSha256 }),
      },
    });
    return parseUploadTicket(data, {
      storageOrigins: config.storageOrigins,
      customFetch: config.fetch !== undefined,
    });
  }

  let ticket = await requestTicket(key);
  let renewed = false;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    emit('stage', { stage: 'uploading' });
    let error: BallastError;
    let answer: PutBlobAnswer | undefined;
    try {
      answer = await putBlob({
        url: ticket.upload.url,
        headers: ticket.upload.headers,
        body: file,
        idleTimeoutMs: config.idleTimeoutMs,
        clock,
        signal,
        transport: config.transport,
        fetch: config.fetch,
        onProgress: (progress) => emit('progress', { ...progress, attempt: attempts }),
      });
      if (answer.status >= 200 && answer.status < 300) break;
      error = storageError(answer, clock.now());
    } catch (caught) {
      if (!isBallastError(caught)) throw caught;
      error = caught;
    }
    if (answer?.status === 403 && !renewed) {
      // Storage refused the URL, most often because it expired (a long wait offline, a
      // replayed answer after a reload, a client clock that differs from the server's): one
      // fresh URL, under a key of its own so no earlier renewal's record answers it.
      renewed = true;
      ticket = await requestTicket(`${key}:renew-${clock.now()}`);
      continue;
    }
    if (attempts > config.retries || !isTransient(error)) throw error;
    const delayMs = backoffMs(config.retryDelaysMs, attempts - 1, error);
    emit('retry', { attempt: attempts, delayMs, error });
    try {
      await clock.sleep(delayMs, signal);
    } catch (cause) {
      throw clientError('ABORTED', { cause });
    }
  }

  emit('stage', { stage: 'confirming' });
  const confirmed = await client.request<T>(config.confirmUrl, {
    method: 'POST',
    idempotencyKey: `${key}:confirm`,
    ...(signal === undefined ? {} : { signal }),
    body: { token: ticket.token },
  });
  return {
    data: confirmed.data,
    attempts,
    ...(checksumSha256 === undefined ? {} : { checksumSha256 }),
  };
}
