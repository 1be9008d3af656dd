import { isKnownErrorCode } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { VersionConflictError } from '../locking/version-conflict-error.js';
import { retry } from '../retry/retry.js';
import { BallastError, isBallastError, toBallastError } from './ballast-error.js';
import { CodedError } from './coded-error.js';
import {
  circuitOpenEntry,
  invalidOptionsEntry,
  queueFullEntry,
  timeoutEntry,
} from './core-error-codes.js';
import { errorCatalogue } from './error-codes.js';
import { registerMessages, userMessageFor } from './messages.js';
import { toProblem, userMessage } from './problem.js';

describe('BallastError', () => {
  it('takes status, retryable and action from the catalogue', () => {
    const error = new BallastError('IDEMPOTENCY_KEY_REUSED');
    expect(error).toBeInstanceOf(Error);
    expect(error.status).toBe(422);
    expect(error.retryable).toBe(false);
    expect(error.action).toBe('use-new-key');
  });

  it('keeps the cause and lets options override the catalogue', () => {
    const cause = new Error('connection reset');
    const error = new BallastError('UPSTREAM_ERROR', { cause, status: 504, retryable: false });
    expect(error.cause).toBe(cause);
    expect(error.status).toBe(504);
    expect(error.retryable).toBe(false);
  });

  it('gives unknown application codes safe defaults', () => {
    const error = new BallastError('INVOICE_LOCKED');
    expect(error.status).toBe(500);
    expect(userMessage(error)).toBe(userMessage('INTERNAL'));
  });

  it('defaults its developer message to the code, never to user-facing text', () => {
    expect(new BallastError('TIMEOUT').message).toBe('TIMEOUT');
    expect(new BallastError('TIMEOUT', { message: 'attempt 2 timed out' }).message).toBe(
      'attempt 2 timed out',
    );
  });

  it('renders RFC 9457 problem details with a localised, internals-free detail', () => {
    const error = new BallastError('VERSION_CONFLICT', {
      message: 'update documents set ... where version = 3 matched 0 rows',
      details: { fields: ['title'] },
    });
    const problem = toProblem(error, { locale: 'es-AR', instance: '/documents/7' });
    expect(problem).toMatchObject({
      type: 'https://ballast.dev/errors/version-conflict',
      title: 'VERSION_CONFLICT',
      status: 409,
      code: 'VERSION_CONFLICT',
      action: 'reload-and-merge',
      retryable: false,
      instance: '/documents/7',
      fields: ['title'],
    });
    expect(problem.detail).toBe(userMessage('VERSION_CONFLICT', 'es'));
    expect(problem.detail).toBe(userMessage(error, 'es'));
    expect(JSON.stringify(problem)).not.toContain('update documents');
  });

  it('lets details never overwrite the standard members', () => {
    const problem = toProblem(
      new BallastError('NOT_FOUND', {
        details: { status: 200, code: 'X' },
      }),
    );
    expect(problem.status).toBe(404);
    expect(problem.code).toBe('NOT_FOUND');
  });

  it('renders anything else as INTERNAL, with no trace of its own message', () => {
    const problem = toProblem(new Error('select * from users'), { locale: 'es' });
    expect(problem).toMatchObject({ code: 'INTERNAL', status: 500 });
    expect(problem.detail).toBe(userMessage('INTERNAL', 'es'));
    expect(JSON.stringify(problem)).not.toContain('select');
    expect(userMessage(new Error('password=hunter2'))).toBe(userMessage('INTERNAL'));
  });
});

describe("core's own errors, built without the catalogue", () => {
  const entries = [
    ['INVALID_OPTIONS', invalidOptionsEntry],
    ['TIMEOUT', timeoutEntry],
    ['CIRCUIT_OPEN', circuitOpenEntry],
    ['QUEUE_FULL', queueFullEntry],
  ] as const;

  it('are the catalogue entries of their codes', () => {
    for (const [code, entry] of entries) expect(entry).toBe(errorCatalogue[code]);
  });

  it.each(entries)('%s is the BallastError the class would build', (code, entry) => {
    const cause = new Error('underneath');
    const options = { message: 'what happened', cause, details: { attempt: 2 } };
    const built = new CodedError(code, options, entry);
    const constructed = new BallastError(code, options);
    expect(built).toBeInstanceOf(BallastError);
    expect(built).toBeInstanceOf(Error);
    expect(isBallastError(built, code)).toBe(true);
    expect(toBallastError(built)).toBe(built);
    expect(built.toJSON()).toEqual(constructed.toJSON());
    // What pino logs as the error's type.
    expect(built.constructor.name).toBe('BallastError');
    expect({ ...built, cause: built.cause, stack: undefined }).toEqual({
      ...constructed,
      cause,
      stack: undefined,
    });
    expect(userMessage(built, 'es')).toBe(userMessage(constructed, 'es'));
    expect(toProblem(built)).toEqual(toProblem(constructed));
  });

  it('include what retry() throws', async () => {
    const error = await retry(() => new Promise(() => {}), { timeoutMs: 1, retries: 0 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(BallastError);
    expect(error).toMatchObject({ code: 'TIMEOUT', status: 504, retryable: true, action: 'retry' });
  });

  it('leave the instanceof test of a subclass as it was', () => {
    const conflict = new VersionConflictError({ currentVersion: 2, expectedVersion: 1 });
    expect(conflict).toBeInstanceOf(VersionConflictError);
    expect(conflict).toBeInstanceOf(BallastError);
    expect(new BallastError('VERSION_CONFLICT')).not.toBeInstanceOf(VersionConflictError);
    expect(new CodedError('TIMEOUT', {}, timeoutEntry)).not.toBeInstanceOf(VersionConflictError);
    expect(new Error('x')).not.toBeInstanceOf(BallastError);
    expect({ name: 'BallastError', code: 'TIMEOUT' }).not.toBeInstanceOf(BallastError);
  });
});

describe('messages', () => {
  it('has a Spanish message for every English one', async () => {
    const { englishMessages, spanishMessages } = await import('./messages.js');
    expect(Object.keys(spanishMessages).sort()).toEqual(Object.keys(englishMessages).sort());
  });

  it('accepts new locales and application codes', () => {
    registerMessages('fr', { NOT_FOUND: 'Introuvable.' });
    expect(userMessage('NOT_FOUND', 'fr-CA')).toBe('Introuvable.');
    expect(userMessage('TIMEOUT', 'fr')).toBe(userMessage('TIMEOUT', 'en'));
    // The deprecated name still answers the same.
    expect(userMessageFor('NOT_FOUND', 'fr')).toBe('Introuvable.');
  });
});

describe('isBallastError / toBallastError', () => {
  it('narrows by code', () => {
    const error: unknown = new BallastError('TIMEOUT');
    expect(isBallastError(error)).toBe(true);
    expect(isBallastError(error, 'TIMEOUT')).toBe(true);
    expect(isBallastError(error, 'ABORTED')).toBe(false);
    expect(isBallastError(new Error('x'))).toBe(false);
    expect(isBallastError(null)).toBe(false);
  });

  it('recognises an error from another copy of the package by shape', () => {
    const foreign = {
      name: 'BallastError',
      code: 'TIMEOUT',
      status: 504,
      retryable: true,
    };
    expect(isBallastError(foreign, 'TIMEOUT')).toBe(true);
  });

  it('wraps unknown errors as INTERNAL without leaking their message', () => {
    const wrapped = toBallastError(new Error('password=hunter2'));
    expect(wrapped.code).toBe('INTERNAL');
    expect(JSON.stringify(toProblem(wrapped))).not.toContain('hunter2');
    const same = new BallastError('TIMEOUT');
    expect(toBallastError(same)).toBe(same);
  });
});

describe('isKnownErrorCode', () => {
  it("is true for every code of Ballast's catalogue", () => {
    for (const code of Object.keys(errorCatalogue)) expect(isKnownErrorCode(code), code).toBe(true);
    expect(isKnownErrorCode('VERSION_CONFLICT')).toBe(true);
    expect(isKnownErrorCode('IDEMPOTENCY_KEY_INVALID')).toBe(true);
  });

  it("is false for an application's own codes, inherited names and other values", () => {
    for (const code of ['ORDER_LOCKED', 'version_conflict', '', 'toString', 'constructor']) {
      expect(isKnownErrorCode(code), code).toBe(false);
    }
    for (const value of [undefined, null, 42]) {
      expect(isKnownErrorCode(value as unknown as string)).toBe(false);
    }
  });

  it('tells the codes a BallastError takes its status from the catalogue for', () => {
    expect(isKnownErrorCode('RATE_LIMITED')).toBe(true);
    expect(new BallastError('RATE_LIMITED').status).toBe(429);
    expect(isKnownErrorCode('MY_APP_CODE')).toBe(false);
    expect(new BallastError('MY_APP_CODE', { status: 418 }).status).toBe(418);
  });
});
