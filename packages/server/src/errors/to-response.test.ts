import { BallastError, isBallastError, registerMessages } from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { type FieldIssue, validateRequestParts, validationFailed } from '@ballast/server';
import { errorHandlerOptionsSchema } from '@ballast/server/adapter-kit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { classifyError } from './classify-error.js';
import { preferredLocale, toResponse } from './to-response.js';

function recordingLogger() {
  const lines: Array<{ level: string; fields: Record<string, unknown> }> = [];
  const at = (level: string) => (fields: Record<string, unknown>) => lines.push({ level, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A pg `DatabaseError` as the driver builds it (shape only). */
function pgError(code: string, extra: Record<string, unknown> = {}) {
  return Object.assign(
    new Error(`duplicate key value violates unique constraint; INSERT INTO secret_internal_table`),
    {
      code,
      severity: 'ERROR',
      routine: 'ri_ReportViolation',
      ...extra,
    },
  );
}

describe('classifyError', () => {
  it('maps each Postgres constraint class to its code and status', () => {
    expect(classifyError(pgError('23505', { constraint: 'users_email_key' }))).toMatchObject({
      code: 'ALREADY_EXISTS',
      status: 409,
    });
    expect(classifyError(pgError('23503'))).toMatchObject({
      code: 'REFERENCE_CONFLICT',
      status: 409,
    });
    expect(classifyError(pgError('23502', { column: 'email' }))).toMatchObject({
      code: 'VALUE_REQUIRED',
      status: 400,
      details: { field: 'email' },
    });
    expect(classifyError(pgError('23514'))).toMatchObject({
      code: 'CONSTRAINT_VIOLATED',
      status: 400,
    });
    expect(classifyError(pgError('42P01'))).toMatchObject({ code: 'INTERNAL', status: 500 });
  });

  it('answers a lost serialization race or a deadlock 409 TRANSACTION_CONFLICT, retryable, never 500', () => {
    for (const code of ['40001', '40P01']) {
      expect(classifyError(pgError(code))).toMatchObject({
        code: 'TRANSACTION_CONFLICT',
        status: 409,
        retryable: true,
        details: { retryAfterSeconds: 1 },
      });
    }
  });

  it('uses the application’s meaning for a named constraint', () => {
    const error = classifyError(pgError('23505', { constraint: 'users_email_key' }), {
      constraints: { users_email_key: { code: 'EMAIL_TAKEN', field: 'email' } },
    });
    expect(error).toMatchObject({ code: 'EMAIL_TAKEN', status: 409, details: { field: 'email' } });
  });

  it('maps a ZodError to 400 listing each field path', () => {
    const result = z.object({ items: z.array(z.object({ quantity: z.number() })) }).safeParse({
      items: [{ quantity: 'x' }],
    });
    const error = classifyError(result.error);
    expect(error).toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
      details: { field: 'items.0.quantity' },
    });
    expect((error.details.errors as unknown[])[0]).toMatchObject({ path: 'items.0.quantity' });
  });

  it('lists at most the first 100 invalid fields, however many the input had', () => {
    // Red-team finding: a 960 KB body of 240,000 wrong array items was answered with a 22.9 MB
    // problem (one entry per item), 24 times the request, and seconds of serialisation.
    const result = z.array(z.number()).safeParse(Array.from({ length: 5_000 }, () => 'x'));
    const error = classifyError(result.error);
    const listed = error.details.errors as Array<{ path: string }>;
    expect(listed).toHaveLength(100);
    expect(listed[0]?.path).toBe('0');
    expect(listed[99]?.path).toBe('99');
    expect(error.details.field).toBe('0');
  });

  it('keeps a 4xx from a body parser or Fastify as a client error', () => {
    expect(
      classifyError(
        Object.assign(new Error('Unexpected token'), { status: 400, type: 'entity.parse.failed' }),
      ),
    ).toMatchObject({ code: 'VALIDATION_FAILED', status: 400 });
    expect(classifyError(Object.assign(new Error('too big'), { statusCode: 413 }))).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(classifyError(Object.assign(new Error('nope'), { statusCode: 415 }))).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      status: 415,
    });
    expect(classifyError(Object.assign(new Error('teapot'), { statusCode: 418 }))).toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 418,
    });
    expect(
      classifyError(
        Object.assign(new Error('body/quantity must be integer'), {
          statusCode: 400,
          validationContext: 'body',
          validation: [
            { instancePath: '/quantity', message: 'must be integer', params: {} },
            {
              instancePath: '',
              message: "must have required property 'item'",
              params: { missingProperty: 'item' },
            },
          ],
        }),
      ).details.errors,
    ).toEqual([
      { path: 'quantity', message: 'must be integer', in: 'body' },
      { path: 'item', message: "must have required property 'item'", in: 'body' },
    ]);
  });
});

describe('toResponse', () => {
  it('answers an unknown error with a generic 500, logging the detail with a trace id', async () => {
    const logger = recordingLogger();
    const error = new Error('relation "secret_internal_table" does not exist');
    const response = toResponse(error, { logger, instance: '/sales' });
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const text = await response.text();
    expect(text).not.toContain('secret_internal_table');
    const body = JSON.parse(text);
    expect(body).toMatchObject({
      code: 'INTERNAL',
      detail: 'Something went wrong on our side.',
      instance: '/sales',
    });
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(logger.lines).toEqual([
      {
        level: 'error',
        fields: expect.objectContaining({ err: error, traceId: body.traceId, status: 500 }),
      },
    ]);
  });

  it('keeps no details but the trace id and Retry-After in a 5xx body, whatever the error carried', async () => {
    const misconfigured = new BallastError('INVALID_OPTIONS', {
      details: { field: 'secret', issues: [{ path: 'secret', message: 'expected hunter2' }] },
    });
    const body = await toResponse(misconfigured, { traceId: 'a'.repeat(32) }).json();
    expect(body).toMatchObject({ code: 'INVALID_OPTIONS', status: 500, traceId: 'a'.repeat(32) });
    expect(body).not.toHaveProperty('field');
    expect(body).not.toHaveProperty('issues');
    expect(JSON.stringify(body)).not.toContain('hunter2');

    const upstream = new BallastError('UPSTREAM_ERROR', {
      details: { upstreamStatus: 502, retryAfterSeconds: 7 },
    });
    const response = toResponse(upstream);
    expect(response.headers.get('retry-after')).toBe('7');
    const upstreamBody = await response.json();
    expect(upstreamBody).toMatchObject({ retryAfterSeconds: 7, traceId: expect.any(String) });
    expect(upstreamBody).not.toHaveProperty('upstreamStatus');
  });

  it('answers an unreachable database or cache with 503 SERVICE_UNAVAILABLE and Retry-After, logging the cause', async () => {
    const logger = recordingLogger();
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:5432 (db-primary)'), {
      code: 'ECONNREFUSED',
    });
    const response = toResponse(refused, { logger, instance: '/sales' });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    const text = await response.text();
    expect(text).not.toContain('10.0.0.7');
    expect(text).not.toContain('db-primary');
    expect(JSON.parse(text)).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      status: 503,
      detail: 'The service is temporarily unavailable. Try again shortly.',
    });
    expect(logger.lines).toEqual([
      { level: 'error', fields: expect.objectContaining({ err: refused, status: 503 }) },
    ]);
  });

  it('uses the given trace id and the Accept-Language locale', async () => {
    const response = toResponse(new Error('x'), {
      traceId: 'trace-1',
      acceptLanguage: 'fr;q=0.2, es-AR;q=0.9',
    });
    expect(await response.json()).toMatchObject({
      traceId: 'trace-1',
      detail: 'Algo salió mal de nuestro lado.',
    });
  });

  it('localises the seed’s product codes in Spanish and English', async () => {
    const expected = {
      AUTH_SESSION_EXPIRED: ['Your session expired.', 'Tu sesión expiró.', 401],
      PAYMENT_REQUIRED: ['Premium feature.', 'Función Premium.', 402],
      CASE_CLOSED: ['This case is closed.', 'Expediente cerrado.', 409],
      UPLOAD_FAILED: ['The upload failed.', 'Error al subir.', 502],
    } as const;
    for (const [c, [en, es, status]] of Object.entries(expected)) {
      const english = await toResponse(new BallastError(c)).json();
      const spanish = toResponse(new BallastError(c), { locale: 'es' });
      expect(spanish.status).toBe(status);
      expect(english.detail).toBe(en);
      expect((await spanish.json()).detail).toBe(es);
    }
  });

  it('answers an application constraint code with its registered message', async () => {
    registerMessages('en', { EMAIL_TAKEN: 'This email is already registered.' });
    const response = toResponse(pgError('23505', { constraint: 'users_email_key' }), {
      constraints: { users_email_key: { code: 'EMAIL_TAKEN', field: 'email' } },
    });
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({
      code: 'EMAIL_TAKEN',
      detail: 'This email is already registered.',
      field: 'email',
    });
  });

  it('logs a 4xx at debug only and validates its options', () => {
    const logger = recordingLogger();
    toResponse(new BallastError('NOT_FOUND'), { logger });
    expect(logger.lines.map((l) => l.level)).toEqual(['debug']);
    expect(() => toResponse(new Error('x'), { lang: 'es' } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
  it('answers any Accept-Language and any path the client sent, however long, never a 500', async () => {
    // Both are client input: a 16 KB header or path must not turn the error answer into an
    // INVALID_OPTIONS thrown from the error handler itself.
    const longPath = `/docs/${'a'.repeat(10_000)}`;
    const response = toResponse(new BallastError('NOT_FOUND'), {
      acceptLanguage: `es,${'en;q=0.1,'.repeat(1_500)}`,
      instance: longPath,
    });
    expect(response.status).toBe(404);
    const problem = (await response.json()) as Record<string, unknown>;
    expect(problem.code).toBe('NOT_FOUND');
    // An instance that long is dropped rather than echoed back or cut into a different path.
    expect(problem.instance).toBeUndefined();
    // A value of the wrong type is still the caller's mistake.
    expect(() => toResponse(new Error('x'), { instance: 42 } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
  });
});

describe('toResponse, hostile throwables', () => {
  // Red-team finding: classification read the thrown value's fields unguarded, so a getter that
  // throws, a Proxy, or a half-shaped ZodError / Fastify validation error / pg error made
  // toResponse itself throw, and the framework's fallback answered with the stack.
  const throwingGetter = Object.defineProperty(new Error('g'), 'status', {
    get() {
      throw new Error('getter at /srv/app/secret.ts');
    },
  });
  const hostileProxy = new Proxy(
    {},
    {
      get() {
        throw new Error('proxy');
      },
      getPrototypeOf() {
        throw new Error('proxy');
      },
    },
  );
  it.each([
    ['a throwing getter', throwingGetter],
    ['a Proxy that throws on every read', hostileProxy],
    ['a ZodError-like with a null issue', { name: 'ZodError', issues: [null] }],
    ['a validation error with a null entry', { statusCode: 400, validation: [null] }],
    [
      'a pg error whose constraint cannot be read as a key',
      {
        code: '23505',
        severity: 'ERROR',
        constraint: {
          toString() {
            throw 1;
          },
        },
      },
    ],
  ])('%s: a generic 500 problem, logged, never a throw', async (_name, thrown) => {
    const logger = recordingLogger();
    const response = toResponse(thrown, { logger, constraints: { k: { code: 'EMAIL_TAKEN' } } });
    expect(response.status).toBe(500);
    const problem = (await response.json()) as Record<string, unknown>;
    expect(problem.code).toBe('INTERNAL');
    expect(JSON.stringify(problem)).not.toMatch(/getter|proxy|secret/);
    expect(logger.lines.map((line) => line.level)).toEqual(['error']);
  });
});

describe('preferredLocale', () => {
  it('picks the highest-quality well-formed tag', () => {
    expect(preferredLocale('es-AR,es;q=0.9,en;q=0.5')).toBe('es-AR');
    expect(preferredLocale('en;q=0.4, es;q=0.8')).toBe('es');
    expect(preferredLocale('*;q=1, <script>')).toBeUndefined();
    expect(preferredLocale(undefined)).toBeUndefined();
  });
});

describe('validationFailed', () => {
  it('is VALIDATION_FAILED (400) naming the first field and listing every issue', () => {
    const cause = new Error('unique violation');
    const error = validationFailed(
      [
        { path: 'email', message: 'already used', in: 'body' },
        { path: 'items.0.qty', message: 'must be positive', in: 'body' },
      ],
      cause,
    );
    expect(isBallastError(error, 'VALIDATION_FAILED')).toBe(true);
    expect(error.status).toBe(400);
    expect(error.message).toBe('Invalid input at "email": already used');
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({
      field: 'email',
      errors: [
        { path: 'email', message: 'already used', in: 'body' },
        { path: 'items.0.qty', message: 'must be positive', in: 'body' },
      ],
    });
    expect(validationFailed([{ path: '', message: 'expected an object' }]).message).toBe(
      'Invalid input at "(root)": expected an object',
    );
    expect(validationFailed([]).details).toEqual({ errors: [] });
  });

  it('lists at most 100 issues, so a hostile body cannot blow up the answer', () => {
    const issues = Array.from({ length: 5_000 }, (_, index) => ({
      path: `items.${index}`,
      message: 'wrong',
    }));
    expect(validationFailed(issues).details.errors).toHaveLength(100);
  });

  it("renders like the validation middleware's own 400", async () => {
    let fromMiddleware: unknown;
    try {
      validateRequestParts({ body: z.object({ email: z.string() }) }, { body: { email: 1 } });
    } catch (error) {
      fromMiddleware = error;
    }
    const issue = (fromMiddleware as BallastError).details.errors as FieldIssue[];
    const ours = await toResponse(validationFailed(issue)).json();
    const theirs = await toResponse(fromMiddleware).json();
    expect(ours).toEqual(theirs);
    expect(ours).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', errors: issue });
  });

  it('refuses issues that are not an array with INVALID_OPTIONS naming itself', () => {
    for (const value of [undefined, { path: 'email', message: 'x' }, 'email']) {
      expect(() => validationFailed(value as never)).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          message: expect.stringContaining('validationFailed()'),
        }),
      );
    }
  });
});

describe('errorHandlerOptionsSchema', () => {
  const schema = errorHandlerOptionsSchema<{ lang?: string }>();
  const parse = (input: unknown) => parseOptions(schema, input, 'myErrorHandler()');

  it("accepts a framework error handler's options: logger, locale fixed or per request, constraints", () => {
    const locale = (request: { lang?: string }) => request.lang;
    const parsed = parse({
      logger: recordingLogger(),
      locale,
      constraints: { users_email_key: { code: 'EMAIL_TAKEN', field: 'email' } },
    });
    expect(parsed.locale).toBe(locale);
    expect(parse({ locale: 'es-AR' }).locale).toBe('es-AR');
    expect(parse({})).toEqual({});
  });

  it('gives options toResponse() applies as they are', async () => {
    const { constraints } = parse({
      constraints: { users_email_key: { code: 'EMAIL_TAKEN', field: 'email' } },
    });
    const body = await toResponse(pgError('23505', { constraint: 'users_email_key' }), {
      ...(constraints === undefined ? {} : { constraints }),
    }).json();
    expect(body).toMatchObject({ status: 409, code: 'EMAIL_TAKEN', field: 'email' });
  });

  it('refuses unknown keys and wrong values with INVALID_OPTIONS naming the field', () => {
    const cases: Array<[unknown, string]> = [
      [{ instance: '/x' }, '(options)'],
      [{ locale: '' }, 'locale'],
      [{ locale: 42 }, 'locale'],
      [{ logger: { info: () => {} } }, 'logger'],
      [{ constraints: { users_email_key: { status: 409 } } }, 'constraints.users_email_key'],
    ];
    for (const [input, field] of cases) {
      let error: unknown;
      try {
        parse(input);
      } catch (caught) {
        error = caught;
      }
      expect(isBallastError(error, 'INVALID_OPTIONS'), field).toBe(true);
      expect((error as Error).message).toContain('myErrorHandler()');
      expect((error as { details: { field?: string } }).details.field, field).toBe(field);
    }
  });
});
