import { NoSuchBucket, NoSuchKey, NotFound, S3ServiceException } from '@aws-sdk/client-s3';
import { BallastError, toProblem } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { classifyS3Error, s3RetryClassifier, toStorageError } from './s3-errors.js';

function serviceError(name: string, status: number, message = 'S3 says no'): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId: 'REQ123' },
    message,
  });
}

function nodeError(code: string, name = 'Error'): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:9`), { code, name });
}

const context = { operation: 'put', bucket: 'docs', key: 'a/b.pdf' } as const;

describe('classifyS3Error', () => {
  it.each([
    ['SlowDown', 503, 'throttled'],
    ['Throttling', 400, 'throttled'],
    ['TooManyRequestsException', 429, 'throttled'],
    ['Whatever', 429, 'throttled'],
    ['InternalError', 500, 'unavailable'],
    ['ServiceUnavailable', 503, 'unavailable'],
    ['UnknownError', 502, 'unavailable'],
    ['RequestTimeout', 400, 'unavailable'],
    ['AccessDenied', 403, 'access-denied'],
    ['InvalidAccessKeyId', 403, 'access-denied'],
    ['SignatureDoesNotMatch', 403, 'access-denied'],
    ['Forbidden', 403, 'access-denied'],
    ['EntityTooLarge', 400, 'too-large'],
    ['InvalidArgument', 400, 'rejected'],
  ])('%s with HTTP %i is %s', (name, status, kind) => {
    const facts = classifyS3Error(serviceError(name, status));
    expect(facts).toEqual({ kind, s3Code: name, httpStatus: status, requestId: 'REQ123' });
  });

  it('reads the modelled not-found and missing-bucket exceptions', () => {
    const metadata = { httpStatusCode: 404 };
    expect(classifyS3Error(new NoSuchKey({ message: 'x', $metadata: metadata })).kind).toBe(
      'not-found',
    );
    expect(classifyS3Error(new NotFound({ message: 'x', $metadata: metadata })).kind).toBe(
      'not-found',
    );
    expect(classifyS3Error(new NoSuchBucket({ message: 'x', $metadata: metadata })).kind).toBe(
      'no-such-bucket',
    );
  });

  it('treats transport errnos as unavailability, even when the handler renamed them', () => {
    expect(classifyS3Error(nodeError('ECONNREFUSED'))).toEqual({
      kind: 'unavailable',
      s3Code: 'ECONNREFUSED',
    });
    expect(classifyS3Error(nodeError('ECONNRESET', 'TimeoutError')).kind).toBe('unavailable');
    const wrapped = Object.assign(new TypeError('fetch failed'), {
      cause: nodeError('ENOTFOUND'),
    });
    expect(classifyS3Error(wrapped)).toEqual({ kind: 'unavailable', s3Code: 'ENOTFOUND' });
  });

  it('separates aborts, the handler’s own timeouts and unknown throws', () => {
    expect(classifyS3Error(Object.assign(new Error('x'), { name: 'AbortError' })).kind).toBe(
      'aborted',
    );
    expect(classifyS3Error(Object.assign(new Error('x'), { name: 'TimeoutError' })).kind).toBe(
      'timeout',
    );
    expect(classifyS3Error('a string')).toEqual({ kind: 'rejected' });
    expect(classifyS3Error(undefined)).toEqual({ kind: 'rejected' });
  });
});

describe('toStorageError', () => {
  it.each([
    ['SlowDown', 503, 'STORAGE_UNAVAILABLE', true],
    ['InternalError', 500, 'STORAGE_UNAVAILABLE', true],
    ['AccessDenied', 403, 'STORAGE_UNAVAILABLE', false],
    ['NoSuchBucket', 404, 'STORAGE_UNAVAILABLE', false],
    ['InvalidArgument', 400, 'STORAGE_UNAVAILABLE', false],
    ['EntityTooLarge', 400, 'PAYLOAD_TOO_LARGE', false],
    ['NoSuchKey', 404, 'OBJECT_NOT_FOUND', false],
  ])('%s (%i) becomes %s, retryable %s', (name, status, code, retryable) => {
    const mapped = toStorageError(serviceError(name, status), context);
    expect(mapped).toBeInstanceOf(BallastError);
    expect(mapped.code).toBe(code);
    expect(mapped.retryable).toBe(retryable);
    expect(mapped.details).toMatchObject({ operation: 'put' });
  });

  it('names operation, object and S3 code, but never copies S3’s message text', () => {
    const secretEcho = 'StringToSign AWS4-HMAC-SHA256 secret-material';
    const mapped = toStorageError(serviceError('SignatureDoesNotMatch', 403, secretEcho), context);
    expect(mapped.message).toBe('S3 put of docs/a/b.pdf failed (SignatureDoesNotMatch) [HTTP 403]');
    expect(mapped.message).not.toContain('secret');
    expect(JSON.stringify(toProblem(mapped))).not.toContain('secret');
  });

  it('maps aborts and timeouts', () => {
    const aborted = toStorageError(Object.assign(new Error('x'), { name: 'AbortError' }), context);
    expect([aborted.code, aborted.retryable]).toEqual(['ABORTED', false]);
    const timedOut = toStorageError(
      Object.assign(new Error('x'), { name: 'TimeoutError' }),
      context,
    );
    expect([timedOut.code, timedOut.retryable]).toEqual(['TIMEOUT', true]);
  });
});

describe('s3RetryClassifier', () => {
  const verdict = (error: unknown) => s3RetryClassifier(error, { attempt: 1, now: 0 });

  it('retries throttling, 5xx, RequestTimeout, transport errors and timeouts', () => {
    expect(verdict(serviceError('SlowDown', 503))).toBe('retry');
    expect(verdict(serviceError('ServiceUnavailable', 503))).toBe('retry');
    expect(verdict(serviceError('RequestTimeout', 400))).toBe('retry');
    expect(verdict(nodeError('ECONNRESET', 'TimeoutError'))).toBe('retry');
    expect(verdict(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe('retry');
  });

  it('does not retry not-found, access denied, bad requests or aborts', () => {
    expect(verdict(serviceError('NoSuchKey', 404))).toBe('fail');
    expect(verdict(serviceError('AccessDenied', 403))).toBe('fail');
    expect(verdict(serviceError('InvalidArgument', 400))).toBe('fail');
    expect(verdict(Object.assign(new Error('x'), { name: 'AbortError' }))).toBe('fail');
  });

  it('trusts the retryable flag of the adapter’s own errors', () => {
    expect(verdict(new BallastError('STORAGE_UNAVAILABLE'))).toBe('retry');
    expect(verdict(new BallastError('STORAGE_UNAVAILABLE', { retryable: false }))).toBe('fail');
    expect(verdict(new BallastError('ABORTED'))).toBe('fail');
  });

  it('has no opinion on errors that are not S3’s, so the next classifier decides', () => {
    expect(verdict(new RangeError('bug'))).toBeUndefined();
    expect(verdict('a string')).toBeUndefined();
  });
});
