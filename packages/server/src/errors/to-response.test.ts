import { BallastError, registerMessages } from '@ballast/core';
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
      code: 'VALIDATION_FAILED',
      status: 415,
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
