import { BallastError } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { problemResponse } from './problem-response.js';

describe('problemResponse', () => {
  it('renders a BallastError as problem+json with its status and code', async () => {
    const response = problemResponse(new BallastError('IDEMPOTENCY_KEY_REUSED'), {
      locale: 'es',
      instance: '/sales',
    });
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.has('retry-after')).toBe(false);
    expect(await response.json()).toEqual({
      type: 'https://ballast.dev/errors/idempotency-key-reused',
      title: 'IDEMPOTENCY_KEY_REUSED',
      status: 422,
      detail: 'Esta Idempotency-Key ya se usó para otra solicitud.',
      code: 'IDEMPOTENCY_KEY_REUSED',
      action: 'use-new-key',
      retryable: false,
      instance: '/sales',
    });
  });

  it('sets Retry-After from details.retryAfterSeconds, rounded up', async () => {
    const response = problemResponse(
      new BallastError('IDEMPOTENCY_IN_FLIGHT', { details: { retryAfterSeconds: 2.2 } }),
    );
    expect(response.status).toBe(409);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(await response.json()).toMatchObject({ retryAfterSeconds: 2.2, retryable: true });
  });

  it('hides anything that is not a BallastError behind INTERNAL', async () => {
    const response = problemResponse(new Error('select * from users where password = …'), {
      headers: { 'x-trace-id': 't-1', 'content-type': 'text/plain' },
    });
    expect(response.status).toBe(500);
    expect(response.headers.get('x-trace-id')).toBe('t-1');
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const text = await response.text();
    expect(text).not.toContain('select');
    expect(JSON.parse(text)).toMatchObject({
      code: 'INTERNAL',
      detail: 'Something went wrong on our side.',
    });
  });
});
