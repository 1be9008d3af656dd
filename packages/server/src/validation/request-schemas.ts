/**
 * Request validation at the HTTP boundary, shared by the Express and Fastify adapters: each part
 * of the request (body, query, params, headers) is parsed with its own zod schema, every issue of
 * every part is collected, and the answer is one 400 `VALIDATION_FAILED` listing each field's
 * path and the part it was in, never a 500 from a handler that trusted unparsed input.
 */
import { invalidArgument, parseOptions } from '@ballast/core/adapter-kit';
import { z } from 'zod';
import {
  type FieldIssue,
  issuePath,
  maxListedIssues,
  validationFailed,
} from '../errors/classify-error.js';
import { isObject } from '../options/is-object.js';

/** The parts of a request a schema can be given for. */
export type RequestPart = 'params' | 'query' | 'headers' | 'body';

/** A zod schema per request part; each is optional. */
export interface RequestSchemas {
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly headers?: z.ZodType;
  readonly body?: z.ZodType;
}

/** The parsed (output) type of each part a schema was given for; `Fallback` for the others. */
export type ValidatedPart<
  Schemas extends RequestSchemas,
  Part extends RequestPart,
  Fallback = unknown,
> = Schemas[Part] extends z.ZodType ? z.output<Schemas[Part]> : Fallback;

/** The parsed request: one member per part a schema was given for. */
export type ValidatedInput<Schemas extends RequestSchemas> = {
  -readonly [Part in keyof Schemas & RequestPart]: ValidatedPart<Schemas, Part>;
};

const parts: readonly RequestPart[] = ['params', 'query', 'headers', 'body'];
const zodSchema = z.custom<z.ZodType>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as z.ZodType).safeParse === 'function',
  { message: 'expected a zod schema' },
);
const schemasSchema = z.strictObject({
  params: zodSchema.optional(),
  query: zodSchema.optional(),
  headers: zodSchema.optional(),
  body: zodSchema.optional(),
});

/** Checks the schemas object once, when the route is defined (`INVALID_OPTIONS` on a mistake). */
export function checkRequestSchemas<Schemas extends RequestSchemas>(
  schemas: Schemas,
  where: string,
): Schemas {
  parseOptions(schemasSchema, schemas, where);
  return schemas;
}

/**
 * Parses each given part of `input` with its schema. Returns the parsed parts; throws
 * `VALIDATION_FAILED` (400) with `errors: [{ path, message, in }]` listing every issue.
 *
 * @example
 * ```ts
 * const { body, params } = validateRequestParts(
 *   { body: z.object({ quantity: z.number().int() }), params: z.object({ id: z.coerce.number() }) },
 *   { body: await request.json(), params },
 * );
 * ```
 */
export function validateRequestParts<Schemas extends RequestSchemas>(
  schemas: Schemas,
  input: Partial<Record<RequestPart, unknown>>,
): ValidatedInput<Schemas> {
  if (!isObject(schemas)) throw invalidArgument('validateRequestParts()', 'schemas', 'an object');
  if (!isObject(input)) throw invalidArgument('validateRequestParts()', 'input', 'an object');
  const output: Partial<Record<RequestPart, unknown>> = {};
  const issues: FieldIssue[] = [];
  for (const part of parts) {
    const schema = schemas[part];
    if (schema === undefined) continue;
    const result = schema.safeParse(input[part]);
    if (result.success) output[part] = result.data;
    else {
      // Only what the problem lists is worth mapping (a hostile body can carry 100,000s).
      for (const issue of result.error.issues.slice(0, maxListedIssues - issues.length)) {
        issues.push({ path: issuePath(issue.path), message: issue.message, in: part });
      }
    }
  }
  if (issues.length > 0) throw validationFailed(issues);
  return output as ValidatedInput<Schemas>;
}
