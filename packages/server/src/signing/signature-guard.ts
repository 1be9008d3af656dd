/**
 * The runtime-independent half of signature verification on a server: which verifier, how big a
 * body may be, how a refusal is logged and what the caller is told. The fetch middleware and the
 * Express and Fastify adapters all go through it, so a refusal looks the same (403
 * problem+json with a `SIGNATURE_*` code) whichever server received the request, and a hostile
 * header can never turn into a 500.
 */
import {
  BallastError,
  createVerifier,
  type Logger,
  noopLogger,
  type ProblemDetails,
  toBallastError,
  toProblem,
  type VerifiedSignature,
  type Verifier,
  type VerifierOptions,
  type VerifyInput,
} from '@ballast/core';
import { parseOptions } from '@ballast/core/adapter-kit';
import { z } from 'zod';
import { loggerSchema } from '../options/index.js';

/** Default largest body read for verification: 1 MiB. */
export const defaultMaxSignedBodyBytes = 1024 * 1024;

/**
 * Options for `verifySignature()` and every adapter flavour (`expressVerifySignature`,
 * `fastifyVerifySignature`, which re-export this type), and for {@link createSignatureGuard}:
 * the verifier's options (`secret` or `secrets`, `canonical`, `nonceStore`, `toleranceMs`, …,
 * see `createVerifier()` in `@ballast/core`), or a ready `verifier`, plus what the server adds.
 */
export interface VerifySignatureOptions extends VerifierOptions {
  /** A verifier made with `createVerifier()`; give it instead of the verifier options. */
  readonly verifier?: Verifier;
  /**
   * Largest body read, in bytes; a larger one is refused with 413 `PAYLOAD_TOO_LARGE` before
   * any HMAC is computed. Default 1 MiB, at most 100 MiB.
   */
  readonly maxBodyBytes?: number;
  /**
   * Where refusals are logged (`warn`, with code, reason, method and path; never header values).
   * A trace logger from the request context is preferred when there is one. Default: none.
   */
  readonly logger?: Logger;
  /** Locale of the problem's `detail`. Default `'en'`. */
  readonly locale?: string;
}

/** A refused request: what to answer. */
export interface SignatureRefusal {
  readonly ok: false;
  /** The refusal, a `BallastError` (`SIGNATURE_*`, `PAYLOAD_TOO_LARGE`, or a store failure). */
  readonly error: BallastError;
  /** HTTP status to answer with (403 for every signature refusal). */
  readonly status: number;
  /** The `application/problem+json` body. */
  readonly problem: ProblemDetails;
}

/** A verification outcome: the proof, or the refusal to send. */
export type SignatureCheck =
  | { readonly ok: true; readonly signature: VerifiedSignature }
  | SignatureRefusal;

/** Verifies requests and turns refusals into responses; made by {@link createSignatureGuard}. */
export interface SignatureGuard {
  /** The body size bound the caller must enforce while reading the raw body. */
  readonly maxBodyBytes: number;
  /** Locale of the problems' `detail`. */
  readonly locale: string;
  /**
   * Verifies one request. Never throws: a refusal, and even a failing nonce store, comes back
   * as `{ ok: false }` with the status and problem document to send.
   *
   * @param logger the request's own logger (with its trace), preferred over the guard's.
   */
  check(input: VerifyInput, logger?: Logger): Promise<SignatureCheck>;
  /** The refusal for an error met before verification (a body over `maxBodyBytes`). */
  refuse(
    error: unknown,
    input: { method?: string; path?: string },
    logger?: Logger,
  ): SignatureRefusal;
}

const guardKeys = ['verifier', 'maxBodyBytes', 'logger', 'locale'] as const;

const guardSchema = z.object({
  verifier: z
    .custom<Verifier>(
      (value) => typeof (value as Partial<Verifier> | null)?.verify === 'function',
      'expected a Verifier from createVerifier()',
    )
    .optional(),
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .max(100 * 1024 * 1024)
    .default(defaultMaxSignedBodyBytes),
  logger: loggerSchema.default(noopLogger),
  locale: z.string().min(2).max(35).default('en'),
});

function splitOptions(options: VerifySignatureOptions): {
  guard: Partial<Record<(typeof guardKeys)[number], unknown>>;
  verifierOptions: VerifierOptions;
  hasVerifierOptions: boolean;
} {
  const guard: Record<string, unknown> = {};
  const verifierOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if ((guardKeys as readonly string[]).includes(key)) guard[key] = value;
    else verifierOptions[key] = value;
  }
  return {
    guard,
    verifierOptions: verifierOptions as VerifierOptions,
    hasVerifierOptions: Object.keys(verifierOptions).length > 0,
  };
}

/**
 * Builds a {@link SignatureGuard}. Validates every option at once: a weak or missing secret
 * fails here (`INVALID_OPTIONS`), at start-up, not on the first request.
 *
 * @example
 * ```ts
 * const guard = createSignatureGuard({ secret: process.env.INTERNAL_SIGNING_SECRET!, canonical: 'strict' });
 * const outcome = await guard.check({ body, headers, method, path });
 * if (!outcome.ok) return reply.status(outcome.status).send(outcome.problem);
 * ```
 */
export function createSignatureGuard(options: VerifySignatureOptions): SignatureGuard {
  if (typeof options !== 'object' || options === null) {
    throw new BallastError('INVALID_OPTIONS', {
      message: 'Invalid options for verifySignature(): "(options)": expected an object',
      details: { field: '(options)' },
    });
  }
  const { guard, verifierOptions, hasVerifierOptions } = splitOptions(options);
  const {
    verifier: given,
    maxBodyBytes,
    logger,
    locale,
  } = parseOptions(guardSchema, guard, 'verifySignature()');
  if (given && hasVerifierOptions) {
    throw new BallastError('INVALID_OPTIONS', {
      message:
        'Invalid options for verifySignature(): "verifier": give either a verifier or the options to create one, not both',
      details: { field: 'verifier' },
    });
  }
  const verifier = given ?? createVerifier(verifierOptions);

  function refuse(
    error: unknown,
    input: { method?: string; path?: string },
    requestLogger?: Logger,
  ): SignatureRefusal {
    const refusal = toBallastError(error);
    const log = requestLogger ?? logger;
    const fields = {
      code: refusal.code,
      ...refusal.details,
      method: input.method,
      path: input.path,
    };
    if (refusal.status >= 500) {
      // A nonce store that cannot answer: the request is refused (fail closed) and the cause
      // is logged for the operator, since the client only sees a generic message.
      log.error({ ...fields, err: error }, 'signature check failed');
    } else {
      log.warn(fields, 'request refused');
    }
    return {
      ok: false,
      error: refusal,
      status: refusal.status,
      problem: toProblem(refusal, { locale, ...(input.path ? { instance: input.path } : {}) }),
    };
  }

  return {
    maxBodyBytes,
    locale,
    refuse,
    async check(input, requestLogger) {
      try {
        return { ok: true, signature: await verifier.verify(input) };
      } catch (error) {
        return refuse(error, input, requestLogger);
      }
    },
  };
}
