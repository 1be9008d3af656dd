import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { checkRequestSchemas, validateRequestParts } from './request-schemas.js';

describe('validateRequestParts', () => {
  const schemas = {
    params: z.object({ id: z.coerce.number().int().positive() }),
    body: z.object({ quantity: z.number().int() }),
  };

  it('returns the parsed parts, typed', () => {
    const input = validateRequestParts(schemas, { params: { id: '7' }, body: { quantity: 2 } });
    expect(input).toEqual({ params: { id: 7 }, body: { quantity: 2 } });
    expectTypeOf(input.params.id).toEqualTypeOf<number>();
    expectTypeOf(input.body.quantity).toEqualTypeOf<number>();
  });

  it('collects every issue of every part into one 400 with paths', () => {
    let thrown: unknown;
    try {
      validateRequestParts(schemas, { params: { id: 'x' }, body: {} });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      code: 'VALIDATION_FAILED',
      status: 400,
      details: {
        field: 'id',
        errors: [
          { path: 'id', in: 'params', message: expect.any(String) },
          { path: 'quantity', in: 'body', message: expect.any(String) },
        ],
      },
    });
  });

  it('refuses a schemas object with unknown parts or non-schemas', () => {
    expect(() => checkRequestSchemas({ cookies: z.object({}) } as never, 'validate()')).toThrow(
      expect.objectContaining({
        code: 'INVALID_OPTIONS',
        message: expect.stringContaining('cookies'),
      }),
    );
    expect(() => checkRequestSchemas({ body: {} } as never, 'validate()')).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ field: 'body' }) }),
    );
  });
});
