import { describe, expect, it } from 'vitest';
import { classifyError } from '../errors/classify-error.js';
import { toResponse } from '../errors/to-response.js';
import { SignedCallError } from './signed-call-error.js';
import { createSignedClient } from './signed-client.js';

const secret = 'signed-call-error-test-secret-0123456789-abc';

/** The failure an API's route gets when the edge answers `response`. */
async function failureFor(response: () => Response): Promise<SignedCallError> {
  const client = createSignedClient({
    secret,
    baseUrl: 'http://edge.internal',
    retry: false,
    fetch: async () => response(),
  });
  const failure: unknown = await client.get('/contracts/1').catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(SignedCallError);
  return failure as SignedCallError;
}

function problem(status: number, code: string, extra: Record<string, unknown> = {}): Response {
  return Response.json(
    { type: 'about:blank', status, code, detail: 'edge internals', ...extra },
    { status, headers: { 'content-type': 'application/problem+json' } },
  );
}

/** What the API's browser receives when the route lets the failure reach the error handler. */
async function answerFor(response: () => Response) {
  const answer = toResponse(await failureFor(response));
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown>, answer };
}

describe('a failed signed call reaching the API error handler', () => {
  it.each([
    [401, 'SIGNATURE_INVALID'],
    [403, 'SIGNATURE_EXPIRED'],
    [400, 'VALIDATION_FAILED'],
    [404, 'NOT_FOUND'],
    [500, 'INTERNAL'],
    [502, 'UPSTREAM_ERROR'],
  ])(
    "answers the edge's %i %s as a 502 UPSTREAM_ERROR, never the edge's status",
    async (status, code) => {
      const { status: answered, body } = await answerFor(() => problem(status, code));
      expect(answered).toBe(502);
      expect(body.code).toBe('UPSTREAM_ERROR');
      expect(JSON.stringify(body)).not.toContain('edge internals');
      expect(JSON.stringify(body)).not.toContain(code === 'UPSTREAM_ERROR' ? 'nothing' : code);
    },
  );

  it("answers the edge's 503 and 429 as 503 SERVICE_UNAVAILABLE with its Retry-After", async () => {
    for (const status of [503, 429]) {
      const {
        status: answered,
        body,
        answer,
      } = await answerFor(() =>
        Response.json({ code: 'RATE_LIMITED' }, { status, headers: { 'retry-after': '7' } }),
      );
      expect(answered).toBe(503);
      expect(body.code).toBe('SERVICE_UNAVAILABLE');
      expect(answer.headers.get('retry-after')).toBe('7');
    }
  });

  it("answers the edge's 504 and 408 as a 504 (the edge timed out)", async () => {
    for (const status of [504, 408]) {
      const { status: answered, body } = await answerFor(() => new Response('slow', { status }));
      expect(answered).toBe(504);
      expect(body.code).toBe('UPSTREAM_ERROR');
    }
  });

  it("keeps the edge's own code and status on the error for the route to branch on", async () => {
    const failure = await failureFor(() => problem(404, 'NOT_FOUND'));
    expect(failure.code).toBe('NOT_FOUND');
    expect(failure.upstreamStatus).toBe(404);
    expect(failure.response.status).toBe(404);
    expect(failure.status).toBe(502);
    expect(failure.retryable).toBe(false);
  });

  it('a 4xx from the edge is not retryable for the browser either', async () => {
    const classified = classifyError(await failureFor(() => problem(401, 'SIGNATURE_INVALID')));
    expect(classified).toMatchObject({ code: 'UPSTREAM_ERROR', status: 502, retryable: false });
  });

  it('a timeout the route put on its call (AbortSignal.timeout) answers 504 TIMEOUT, not 500', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classifyError(timeout)).toMatchObject({ code: 'TIMEOUT', status: 504 });
  });
});
