import { connectionFailureCodes } from '@ballast/core/adapter-kit';
import { describe, expect, it } from 'vitest';
import { BallastError } from '../errors/ballast-error.js';
import { classifyError, composeClassifiers, type ErrorClassifier } from './classify-error.js';

const context = { attempt: 1, now: Date.parse('2026-03-01T12:00:00Z') };
const classify = (error: unknown) => classifyError(error, context);
const withCode = (code: string, cause?: unknown) =>
  Object.assign(new Error(`connect ${code}`), { code, cause });

describe('classifyError', () => {
  it.each([
    ['a fetch network failure (Node)', new TypeError('fetch failed')],
    ['a fetch network failure (Chrome)', new TypeError('Failed to fetch')],
    [
      'a fetch network failure (Firefox)',
      new TypeError('NetworkError when attempting to fetch resource.'),
    ],
    ['ECONNRESET', withCode('ECONNRESET')],
    [
      'ECONNREFUSED from a syscall',
      Object.assign(withCode('ECONNREFUSED'), { syscall: 'connect' }),
    ],
    ['ETIMEDOUT', withCode('ETIMEDOUT')],
    ['ECONNREFUSED', withCode('ECONNREFUSED')],
    ['EAI_AGAIN', withCode('EAI_AGAIN')],
    ['a socket code on the cause', new Error('query failed', { cause: withCode('ECONNRESET') })],
    [
      'an undici socket error two causes deep',
      new Error('a', { cause: new Error('b', { cause: withCode('UND_ERR_SOCKET') }) }),
    ],
    ['AbortSignal.timeout()', new DOMException('The operation timed out.', 'TimeoutError')],
    ['a Ballast TIMEOUT', new BallastError('TIMEOUT')],
    ['a retryable BallastError', new BallastError('UPSTREAM_ERROR')],
    ['408', { status: 408 }],
    ['500', { status: 500 }],
    ['502 via statusCode', { statusCode: 502 }],
    ['503 via response.status (ky, axios)', { response: { status: 503 } }],
    ['504 via $metadata (AWS SDK)', { $metadata: { httpStatusCode: 504 } }],
    ['a thrown Response 500', new Response(null, { status: 500 })],
    ['an unknown error', new Error('something odd')],
    ['a thrown string', 'odd'],
  ])('retries %s', (_name, error) => {
    expect(classify(error)).toBe('retry');
  });

  it.each([
    ['400', { status: 400 }],
    ['401', { status: 401 }],
    ['404 on a Response', new Response(null, { status: 404 })],
    ['409', { response: { status: 409 } }],
    ['422', { statusCode: 422 }],
    ['501 Not Implemented', { status: 501 }],
    ['505 HTTP Version Not Supported', { status: 505 }],
    ['a non-retryable BallastError', new BallastError('VERSION_CONFLICT')],
    ['INVALID_OPTIONS', new BallastError('INVALID_OPTIONS')],
    ['an AbortError', new DOMException('aborted', 'AbortError')],
    [
      'a plain TypeError (a bug)',
      new TypeError("Cannot read properties of undefined (reading 'x')"),
    ],
    ['a RangeError', new RangeError('Invalid array length')],
    ['a ReferenceError', new ReferenceError('x is not defined')],
    ['a SyntaxError', new SyntaxError('Unexpected token')],
    ['another Node system error', Object.assign(withCode('ENOENT'), { syscall: 'open' })],
  ])('fails %s', (_name, error) => {
    expect(classify(error)).toBe('fail');
  });

  it('returns the Retry-After of a 429 or 503, as delta-seconds or an HTTP-date', () => {
    expect(classify({ status: 429, headers: { 'retry-after': '7' } })).toEqual({
      retryAfterMs: 7_000,
    });
    expect(
      classify(
        new Response(null, {
          status: 503,
          headers: { 'Retry-After': 'Sun, 01 Mar 2026 12:00:30 GMT' },
        }),
      ),
    ).toEqual({ retryAfterMs: 30_000 });
    expect(
      classify({ response: { status: 429, headers: new Headers({ 'retry-after': '1' }) } }),
    ).toEqual({ retryAfterMs: 1_000 });
    // A malformed value is no hint at all.
    expect(classify({ status: 429, headers: { 'retry-after': 'soon' } })).toBe('retry');
    // A non-retryable status ignores Retry-After.
    expect(classify({ status: 400, headers: { 'retry-after': '7' } })).toBe('fail');
  });

  it('reads retryAfterMs or retryAfterSeconds from a retryable BallastError', () => {
    expect(
      classify(new BallastError('CIRCUIT_OPEN', { details: { retryAfterMs: 1_234 } })),
    ).toEqual({
      retryAfterMs: 1_234,
    });
    expect(
      classify(new BallastError('RATE_LIMITED', { details: { retryAfterSeconds: 2 } })),
    ).toEqual({
      retryAfterMs: 2_000,
    });
  });
});

describe('composeClassifiers', () => {
  const postgres: ErrorClassifier = (error) => {
    const code = (error as { code?: unknown })?.code;
    return code === '40001' || code === '40P01' ? 'retry' : undefined;
  };
  const s3: ErrorClassifier = (error) =>
    (error as { name?: unknown })?.name === 'SlowDown' ? { retryAfterMs: 1_000 } : undefined;

  it('asks each classifier in turn; the first opinion wins', () => {
    const classifyAll = composeClassifiers(postgres, s3, classifyError);
    const serialization = Object.assign(new TypeError('could not serialize access'), {
      code: '40001',
    });
    expect(classifyAll(serialization, context)).toBe('retry');
    expect(classifyAll(Object.assign(new Error('slow'), { name: 'SlowDown' }), context)).toEqual({
      retryAfterMs: 1_000,
    });
    expect(classifyAll({ status: 404 }, context)).toBe('fail');
  });

  it('returns undefined when no classifier has an opinion', () => {
    expect(composeClassifiers(postgres, s3)(new Error('other'), context)).toBeUndefined();
    expect(composeClassifiers()(new Error('other'), context)).toBeUndefined();
  });
});

describe('connectionFailureCodes', () => {
  it('lists the codes of a connection not made or lost, and nothing that is a bug', () => {
    expect([...connectionFailureCodes].sort()).toEqual([
      'EAI_AGAIN',
      'ECONNABORTED',
      'ECONNREFUSED',
      'ECONNRESET',
      'EHOSTUNREACH',
      'ENETDOWN',
      'ENETUNREACH',
      'ENOTFOUND',
      'EPIPE',
      'ETIMEDOUT',
      'UND_ERR_CONNECT_TIMEOUT',
      'UND_ERR_SOCKET',
    ]);
    for (const bug of ['ENOENT', 'EACCES', 'ERR_INVALID_ARG_TYPE']) {
      expect(connectionFailureCodes).not.toContain(bug);
    }
  });

  it("are what retry's default classifier retries, even from a syscall, while other codes fail", () => {
    for (const code of connectionFailureCodes) {
      const error = Object.assign(withCode(code), { syscall: 'connect' });
      expect(classify(error), code).toBe('retry');
      expect(classify(new Error('query failed', { cause: error })), code).toBe('retry');
    }
    expect(classify(Object.assign(withCode('ENOENT'), { syscall: 'open' }))).toBe('fail');
  });
});
