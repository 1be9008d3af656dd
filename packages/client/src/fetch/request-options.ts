/**
 * Validation of one request's options (`client.request(path, options)`): a misspelt key
 * (`header`) would otherwise be ignored without a word, and a malformed method or header would
 * surface as the platform's `TypeError` (or, with a permissive fetch, be sent).
 */
import { parseOptions, type StandardSchemaV1, v } from '@ballast/core/adapter-kit';
import type { RequestOptions } from './create-client.js';

// RFC 9110 token (method, header name); header values without CR, LF or NUL.
const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerValue = /^[^\r\n\0]*$/;

const requestOptionsSchema: StandardSchemaV1<unknown, RequestOptions> = v.object({
  method: v.optional(
    v.custom<string>(
      (value) => typeof value === 'string' && value.length <= 32 && token.test(value),
      'an HTTP method',
    ),
  ),
  body: v.optional(v.custom<unknown>(() => true, 'a body')),
  headers: v.optional(
    v.custom<Record<string, string>>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.entries(value).every(
          ([name, item]) => token.test(name) && typeof item === 'string' && headerValue.test(item),
        ),
      'an object of header names to text values (no line breaks)',
    ),
  ),
  idempotencyKey: v.optional(
    v.custom<string | false>(
      (value) =>
        value === false ||
        (typeof value === 'string' && value.length <= 1_000 && headerValue.test(value)),
      'a key of at most 1000 characters, or false',
    ),
  ),
  ifMatch: v.optional(
    v.custom<string | number>(
      (value) =>
        (typeof value === 'number' && Number.isFinite(value)) ||
        (typeof value === 'string' && value.length <= 1_000 && headerValue.test(value)),
      'a version (a number, or text without line breaks)',
    ),
  ),
  timeoutMs: v.optional(v.durationMs({ min: 1 })),
  retries: v.optional(v.number({ min: 0, max: 20, integer: true })),
  signal: v.optional(v.abortSignal()),
}) as StandardSchemaV1<unknown, RequestOptions>;

/** Validates one request's options. */
export function parseRequestOptions(input: unknown): RequestOptions {
  return parseOptions(requestOptionsSchema, input, 'request()');
}
