import { describe, expect, it } from 'vitest';
import { BallastError, isBallastError, toBallastError } from './ballast-error.js';
import { registerMessages, userMessageFor } from './messages.js';

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
    expect(error.userMessage()).toBe(userMessageFor('INTERNAL'));
  });

  it('renders RFC 9457 problem details with a localised, internals-free detail', () => {
    const error = new BallastError('VERSION_CONFLICT', {
      message: 'update documents set ... where version = 3 matched 0 rows',
      details: { fields: ['title'] },
    });
    const problem = error.toProblem({ locale: 'es-AR', instance: '/documents/7' });
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
    expect(problem.detail).toBe(userMessageFor('VERSION_CONFLICT', 'es'));
    expect(JSON.stringify(problem)).not.toContain('update documents');
  });

  it('lets details never overwrite the standard members', () => {
    const problem = new BallastError('NOT_FOUND', {
      details: { status: 200, code: 'X' },
    }).toProblem();
    expect(problem.status).toBe(404);
    expect(problem.code).toBe('NOT_FOUND');
  });
});

describe('messages', () => {
  it('has a Spanish message for every English one', async () => {
    const { englishMessages, spanishMessages } = await import('./messages.js');
    expect(Object.keys(spanishMessages).sort()).toEqual(Object.keys(englishMessages).sort());
  });

  it('accepts new locales and application codes', () => {
    registerMessages('fr', { NOT_FOUND: 'Introuvable.' });
    expect(userMessageFor('NOT_FOUND', 'fr-CA')).toBe('Introuvable.');
    expect(userMessageFor('TIMEOUT', 'fr')).toBe(userMessageFor('TIMEOUT', 'en'));
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
      toProblem: () => ({}),
    };
    expect(isBallastError(foreign, 'TIMEOUT')).toBe(true);
  });

  it('wraps unknown errors as INTERNAL without leaking their message', () => {
    const wrapped = toBallastError(new Error('password=hunter2'));
    expect(wrapped.code).toBe('INTERNAL');
    expect(JSON.stringify(wrapped.toProblem())).not.toContain('hunter2');
    const same = new BallastError('TIMEOUT');
    expect(toBallastError(same)).toBe(same);
  });
});
