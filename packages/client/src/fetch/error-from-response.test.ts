import { errorFromResponse } from '@ballast/client';
import { isBallastError } from '@ballast/core';
import { describe, expect, it } from 'vitest';

const now = Date.parse('2026-03-01T12:00:00Z');
const problem = (status: number, body: Record<string, unknown>, headers: HeadersInit = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/problem+json', ...headers },
  });

describe('errorFromResponse', () => {
  it("keeps a problem's code, its detail as the message and its extension members as details", async () => {
    const error = await errorFromResponse(
      problem(409, {
        type: 'https://ballast.dev/errors/version-conflict',
        title: 'VERSION_CONFLICT',
        status: 409,
        code: 'VERSION_CONFLICT',
        detail: 'Someone else changed this sale.',
        retryable: false,
        currentVersion: 7,
      }),
      now,
    );
    expect(isBallastError(error, 'VERSION_CONFLICT')).toBe(true);
    expect(error.status).toBe(409);
    expect(error.message).toBe('Someone else changed this sale.');
    expect(error.retryable).toBe(false);
    expect(error.details).toEqual({ currentVersion: 7 });
  });

  it('reads Retry-After, in seconds or as an HTTP-date, into details.retryAfterMs', async () => {
    const seconds = await errorFromResponse(
      problem(429, { code: 'RATE_LIMITED' }, { 'retry-after': '7' }),
      now,
    );
    expect(seconds.details.retryAfterMs).toBe(7_000);
    const date = await errorFromResponse(
      new Response('busy', {
        status: 503,
        headers: { 'retry-after': 'Sun, 01 Mar 2026 12:00:30 GMT' },
      }),
      now,
    );
    expect(date.details.retryAfterMs).toBe(30_000);
  });

  it('maps any other body from the status and never uses its text as the message', async () => {
    const cases: Array<[number, string]> = [
      [400, 'VALIDATION_FAILED'],
      [401, 'AUTH_SESSION_EXPIRED'],
      [402, 'PAYMENT_REQUIRED'],
      [403, 'FORBIDDEN'],
      [404, 'NOT_FOUND'],
      [409, 'VERSION_CONFLICT'],
      [412, 'PRECONDITION_FAILED'],
      [413, 'PAYLOAD_TOO_LARGE'],
      [428, 'PRECONDITION_REQUIRED'],
      [429, 'RATE_LIMITED'],
      [418, 'VALIDATION_FAILED'],
      // The client's own codes are never read from a status.
      [499, 'VALIDATION_FAILED'],
      [502, 'UPSTREAM_ERROR'],
      [503, 'UPSTREAM_ERROR'],
      [504, 'UPSTREAM_ERROR'],
    ];
    for (const [status, code] of cases) {
      const html = new Response('<html><body>Bad gateway from nginx</body></html>', {
        status,
        headers: { 'content-type': 'text/html' },
      });
      const error = await errorFromResponse(html, now);
      expect(error.code, String(status)).toBe(code);
      expect(error.status).toBe(status);
      expect(error.message).toBe(code);
      expect(error.message).not.toContain('nginx');
    }
  });

  it('rejects with INVALID_OPTIONS naming itself when given no Response or no time', async () => {
    for (const [response, now] of [
      [undefined, 0],
      [{ status: 500 }, 0],
      [new Response(null, { status: 500 }), undefined],
      [new Response(null, { status: 500 }), '2026-03-01'],
    ] as const) {
      const error = await errorFromResponse(response as never, now as never).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(isBallastError(error, 'INVALID_OPTIONS')).toBe(true);
      expect((error as Error).message).toContain('errorFromResponse()');
    }
  });
});
