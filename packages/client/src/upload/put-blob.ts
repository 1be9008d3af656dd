/**
 * One PUT of a file to a presigned URL: through `XMLHttpRequest` where the platform has it,
 * because only XHR reports upload progress (a fetch with a streamed body would, but storage
 * services refuse the chunked encoding it needs and want the `Content-Length` a Blob body
 * gives); through `fetch` elsewhere (Node, workers), with progress reported at the start and
 * the end only. The request carries exactly the headers the URL was signed with and the body's
 * length, which the platform sets from the Blob (a page may not set `Content-Length` itself).
 */
import type { BallastError, Clock } from '@ballast/core';
import { clientError } from '../errors/client-error.js';

/** Upload progress of one attempt, in bytes. */
export interface UploadProgress {
  loaded: number;
  total: number;
}

/** What {@link putBlob} needs. */
export interface PutBlobRequest {
  url: string;
  headers: Readonly<Record<string, string>>;
  body: Blob;
  /** The attempt fails with `TIMEOUT` after this long without progress, in ms. */
  idleTimeoutMs: number;
  clock: Clock;
  signal?: AbortSignal | undefined;
  onProgress(progress: UploadProgress): void;
  /** The fetch used where XHR is missing (or when `transport` is `'fetch'`). */
  fetch?: typeof fetch | undefined;
  transport: 'auto' | 'xhr' | 'fetch';
}

/** The storage's answer: its status, and its body for an error (S3 answers XML). */
export interface PutBlobAnswer {
  status: number;
  headers: Headers;
}

// Headers a page may not set; the platform writes them (Content-Length from the Blob).
const platformHeaders = new Set(['content-length', 'host', 'connection', 'expect']);

function signedHeaders(headers: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(headers).filter(([name]) => !platformHeaders.has(name.toLowerCase()));
}

function timeout(idleTimeoutMs: number): BallastError {
  return clientError('TIMEOUT', {
    message: `The upload made no progress for ${idleTimeoutMs} ms`,
  });
}

function viaXhr(request: PutBlobRequest): Promise<PutBlobAnswer> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let settled = false;
    let cancelIdle = () => {};
    const armIdle = () => {
      cancelIdle();
      cancelIdle = request.clock.setTimer(
        () => fail(timeout(request.idleTimeoutMs)),
        request.idleTimeoutMs,
      );
    };
    const onAbort = () => fail(clientError('ABORTED'));
    const finish = () => {
      settled = true;
      cancelIdle();
      request.signal?.removeEventListener('abort', onAbort);
    };
    function fail(error: BallastError) {
      if (settled) return;
      finish();
      xhr.abort();
      reject(error);
    }
    xhr.open('PUT', request.url);
    for (const [name, value] of signedHeaders(request.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      armIdle();
      request.onProgress({ loaded: event.loaded, total: request.body.size });
    };
    xhr.onload = () => {
      if (settled) return;
      finish();
      const headers = new Headers();
      for (const line of xhr
        .getAllResponseHeaders()
        .trim()
        .split(/[\r\n]+/)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      resolve({ status: xhr.status, headers });
    };
    xhr.onerror = () => fail(clientError('NETWORK_ERROR'));
    xhr.ontimeout = () => fail(timeout(request.idleTimeoutMs));
    request.signal?.addEventListener('abort', onAbort, { once: true });
    armIdle();
    xhr.send(request.body);
  });
}

async function viaFetch(request: PutBlobRequest): Promise<PutBlobAnswer> {
  const controller = new AbortController();
  let timedOut = false;
  // Without progress events the idle timeout bounds the whole attempt.
  const cancelTimer = request.clock.setTimer(() => {
    timedOut = true;
    controller.abort();
  }, request.idleTimeoutMs);
  const onAbort = () => controller.abort();
  request.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    request.onProgress({ loaded: 0, total: request.body.size });
    const fetchImpl = request.fetch ?? globalThis.fetch;
    const response = await fetchImpl(request.url, {
      method: 'PUT',
      headers: signedHeaders(request.headers),
      body: request.body,
      signal: controller.signal,
    });
    // The body is drained so the connection is reused; an error answer's text is not kept
    // (a storage service's XML is not a message for people).
    await response.arrayBuffer().catch(() => undefined);
    if (response.ok) request.onProgress({ loaded: request.body.size, total: request.body.size });
    return { status: response.status, headers: response.headers };
  } catch (cause) {
    if (request.signal?.aborted) throw clientError('ABORTED', { cause });
    if (timedOut) throw timeout(request.idleTimeoutMs);
    throw clientError('NETWORK_ERROR', { cause });
  } finally {
    cancelTimer();
    request.signal?.removeEventListener('abort', onAbort);
  }
}

/** Sends the PUT once; resolves with any HTTP answer, rejects with a `BallastError` without one. */
export function putBlob(request: PutBlobRequest): Promise<PutBlobAnswer> {
  if (request.signal?.aborted) return Promise.reject(clientError('ABORTED'));
  const useXhr =
    request.transport === 'xhr' ||
    (request.transport === 'auto' && typeof XMLHttpRequest === 'function');
  return useXhr ? viaXhr(request) : viaFetch(request);
}
