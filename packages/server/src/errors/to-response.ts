/**
 * The error handler's one decision, framework-neutral: classify what was thrown, log what the
 * operator needs (the full error, with the trace id, for every 5xx), and answer the client with
 * problem+json that holds only safe, localised text. Express's and Fastify's handlers in
 * `@ballast/adapters` are translations of this function.
 */
import { BallastError, generateTraceId, type Logger } from '@ballast/core';
import { invalidArgument, parseOptions } from '@ballast/core/adapter-kit';
import { z } from 'zod';
import { loggerSchema } from '../options/index.js';
import { currentTraceContext } from '../trace/async-trace-storage.js';
import { type ClassifyErrorOptions, classifyError } from './classify-error.js';
import { problemResponse } from './problem-response.js';

/** Options for {@link toResponse}. */
export interface ToResponseOptions extends ClassifyErrorOptions {
  /** Receives every 5xx with the full error (`err`) and the trace id; 4xx at `debug`. Default: none. */
  readonly logger?: Logger;
  /**
   * Locale of the user-facing `detail` (`'es'`, `'es-AR'`), or the request's `Accept-Language`
   * header, from which the preferred language is taken. Default `'en'`.
   */
  readonly locale?: string;
  /**
   * The request's `Accept-Language`, used when `locale` is not given; a value over 1,000
   * characters is ignored. Default: none.
   */
  readonly acceptLanguage?: string | null;
  /**
   * The problem's `instance`, usually the request path (without the query); a path over 2,048
   * characters is left out rather than echoed. Default: none.
   */
  readonly instance?: string;
  /**
   * Trace id for the log line and the 500's `traceId` member. Default: the ambient trace
   * (`traceContext()` middleware), else a new id, so a log line can always be found.
   */
  readonly traceId?: string;
  /** Extra response headers. Default: none. */
  readonly headers?: HeadersInit;
}

/** Longest `Accept-Language` read; a longer one is not a browser's. */
const maxAcceptLanguageLength = 1_000;
/** Longest path echoed as `instance`. */
const maxInstanceLength = 2_048;

const optionsSchema = z.strictObject({
  logger: loggerSchema.optional(),
  locale: z.string().min(1).max(35).optional(),
  // Both come from the request, so no length is the caller's mistake: an over-long header is
  // not read (default locale), an over-long path is not echoed (no `instance`), never a throw.
  acceptLanguage: z
    .string()
    .nullable()
    .optional()
    .transform((value) => (value && value.length > maxAcceptLanguageLength ? null : value)),
  instance: z
    .string()
    .optional()
    .transform((value) => (value && value.length > maxInstanceLength ? undefined : value)),
  traceId: z.string().min(1).max(200).optional(),
  headers: z.custom<HeadersInit>((v) => typeof v === 'object' && v !== null).optional(),
  constraints: z
    .record(
      z.string(),
      z.strictObject({
        code: z
          .string()
          .regex(/^[A-Z][A-Z0-9_]{1,63}$/)
          .optional(),
        field: z.string().min(1).max(200).optional(),
      }),
    )
    .optional(),
});

/**
 * The preferred language of an `Accept-Language` header (`'es-AR,es;q=0.9,en;q=0.5'` → `'es-AR'`),
 * or `undefined` when it names none. Messages fall back from `es-AR` to `es` to English.
 */
export function preferredLocale(acceptLanguage: string | null | undefined): string | undefined {
  if (!acceptLanguage) return undefined;
  if (typeof acceptLanguage !== 'string') {
    throw invalidArgument('preferredLocale()', 'acceptLanguage', 'a header value (string)');
  }
  let best: { tag: string; q: number } | undefined;
  for (const part of acceptLanguage.split(',').slice(0, 20)) {
    const [rawTag = '', ...parameters] = part.trim().split(';');
    const tag = rawTag.trim();
    if (!/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(tag)) continue;
    const qParameter = parameters.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParameter === undefined ? 1 : Number(qParameter.slice(2));
    if (!Number.isFinite(q) || q <= 0) continue;
    if (best === undefined || q > best.q) best = { tag, q };
  }
  return best?.tag;
}

/**
 * {@link classifyError}, total: classification reads the thrown value's fields (`status`,
 * `issues`, `constraint`…), and a value whose fields throw when read (a getter, a Proxy, a
 * half-shaped error) is an internal error like any other, not a reason for the error handler to
 * throw and let the framework answer with the stack.
 */
function classifySafely(error: unknown, options: ClassifyErrorOptions): BallastError {
  try {
    return classifyError(error, options);
  } catch {
    return new BallastError('INTERNAL', { cause: error });
  }
}

/**
 * A problem+json `Response` for anything thrown, after {@link classifyError}. A 5xx is logged at
 * `error` with the original error and a trace id, and the body carries only the generic message
 * and that `traceId`; a 4xx is logged at `debug`. Nothing from the original error's message,
 * stack or SQL is ever in the body.
 *
 * @example
 * ```ts
 * try {
 *   return await handle(request);
 * } catch (error) {
 *   return toResponse(error, { logger, acceptLanguage: request.headers.get('accept-language') });
 * }
 * ```
 */
export function toResponse(error: unknown, options: ToResponseOptions = {}): Response {
  const parsed = parseOptions(optionsSchema, options, 'toResponse()');
  let failure = classifySafely(error, parsed);
  const locale = parsed.locale ?? preferredLocale(parsed.acceptLanguage);
  if (failure.status >= 500) {
    const traceId = parsed.traceId ?? currentTraceContext()?.traceId ?? generateTraceId();
    parsed.logger?.error(
      {
        err: error,
        code: failure.code,
        status: failure.status,
        traceId,
        instance: parsed.instance,
      },
      'request failed',
    );
    // The body of a 5xx is the code's generic message and the trace id, whatever the error's
    // details held (a misconfigured option's validation issues, an upstream's status): only
    // `retryAfterSeconds`, which the client needs and which sets `Retry-After`, is kept.
    const { traceId: ownTraceId, retryAfterSeconds } = failure.details;
    failure = new BallastError(failure.code, {
      status: failure.status,
      retryable: failure.retryable,
      action: failure.action,
      cause: error,
      details: {
        traceId: typeof ownTraceId === 'string' ? ownTraceId : traceId,
        ...(typeof retryAfterSeconds === 'number' ? { retryAfterSeconds } : {}),
      },
    });
  } else {
    parsed.logger?.debug(
      { code: failure.code, status: failure.status, instance: parsed.instance },
      'request refused',
    );
  }
  return problemResponse(failure, {
    ...(locale === undefined ? {} : { locale }),
    ...(parsed.instance === undefined ? {} : { instance: parsed.instance }),
    ...(parsed.headers === undefined ? {} : { headers: parsed.headers }),
  });
}
