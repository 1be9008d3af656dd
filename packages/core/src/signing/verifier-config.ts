/**
 * Options, input and result types of {@link createVerifier}, and the options' validation, apart
 * from the verification itself in `verifier.ts` (kysely's `*-config.ts` pattern).
 */
import * as v from '../options/small-validator.js';
import type { NonceStore } from './nonce-store.js';
import {
  type CanonicalForm,
  type HeaderSource,
  type SignatureFormat,
  type SigningOptionsBase,
  withSigningOptions,
} from './signing-config.js';

const oneDay = 24 * 60 * 60 * 1000;

/** How far a signed timestamp may lie behind or ahead of the verifier's clock. */
export interface SignatureTolerance {
  /** Oldest accepted age in ms. Default 5 minutes (seed 003 §4). */
  readonly past?: number;
  /**
   * Furthest accepted lead in ms, for a sender whose clock runs ahead. Default 5 minutes (the
   * seed's `Math.abs`). Set it small to refuse pre-dated requests; Stripe checks only the past.
   */
  readonly future?: number;
}

/** Options for {@link createVerifier}: the shared ones plus the acceptance policy. */
export interface VerifierOptions extends SigningOptionsBase {
  /**
   * Tolerance window in ms: one number for both sides, or `{ past, future }`. Default 5 minutes
   * each way; at most 24 hours each (a signature valid for days is a bearer token).
   */
  readonly toleranceMs?: number | SignatureTolerance;
  /**
   * Replay guard. When set, every request must carry a nonce (the strict form's `x-nonce`, or
   * Standard Webhooks' `webhook-id`), and a nonce seen before inside the window is refused with
   * `SIGNATURE_REPLAYED`. Not available with the `'seed'` form, which cannot sign a
   * nonce. A store that fails makes `verify` reject with the store's error (fail closed).
   */
  readonly nonceStore?: NonceStore;
  /** Refuse requests without a `content-digest` header (RFC 9530). Default `false`. */
  readonly requireContentDigest?: boolean;
}

/** One received request to check. */
export interface VerifyInput {
  /**
   * The raw body exactly as received (bytes, or the string they decode to as UTF-8). Never a
   * re-serialized parsed JSON object: any byte of difference fails the signature. Default `''`.
   */
  readonly body?: string | Uint8Array;
  /** The request headers. */
  readonly headers: HeaderSource;
  /** HTTP method. Required by the strict form. */
  readonly method?: string;
  /**
   * The request target as received: path and query (`/contracts?x=1`). Required by the strict
   * form. In a fetch handler use `requestTargetOf(request.url)`; behind Node's `http`, `req.url`.
   */
  readonly path?: string;
}

/** What a successful verification proved. */
export interface VerifiedSignature {
  readonly format: SignatureFormat;
  /** The signed timestamp, epoch milliseconds. */
  readonly timestamp: number;
  /** Id of the key that matched (`undefined` for a key configured without an id). */
  readonly keyId: string | undefined;
  /** The signed nonce (`webhook-id` in the Standard Webhooks format), if any. */
  readonly nonce: string | undefined;
}

/** Checks signed requests against every active secret. Create one per process and reuse it. */
export interface Verifier {
  readonly format: SignatureFormat;
  readonly canonical: CanonicalForm;
  /**
   * Resolves with what was proved, or rejects with a `BallastError` whose code is
   * `SIGNATURE_MISSING`, `SIGNATURE_EXPIRED`, `SIGNATURE_INVALID` or `SIGNATURE_REPLAYED`
   * (403; `details.reason` says why: a `SignatureFailureReason`). Rejects with
   * `INVALID_OPTIONS` only for a programming error (strict form without `method` or `path`, a
   * body that is neither string nor bytes).
   */
  verify(input: VerifyInput): Promise<VerifiedSignature>;
}

const toleranceValue = v.number({ integer: true, min: 0, max: oneDay });
/** @internal */
export const verifierSchema = v.object(
  withSigningOptions({
    toleranceMs: v.optional(
      v.union(
        toleranceValue,
        v.object({ past: v.optional(toleranceValue), future: v.optional(toleranceValue) }),
      ),
    ),
    nonceStore: v.optional(
      v.methods<NonceStore>(['checkAndStore'], 'a NonceStore (an object with checkAndStore)'),
    ),
    requireContentDigest: v.optional(v.boolean()),
  }),
);
