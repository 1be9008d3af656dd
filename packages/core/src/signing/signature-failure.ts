/**
 * How a refused signature is reported: one of four stable codes (all 403, never retryable) and
 * a client-safe `details.reason`. The reason helps the caller's developers fix their signer;
 * it never echoes a header value, a secret or the expected signature.
 */
import { BallastError } from '../errors/ballast-error.js';

/** The codes a verifier throws. */
export type SignatureFailureCode =
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_EXPIRED'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_REPLAYED';

/**
 * `details.reason` of a refused signature.
 * - `SIGNATURE_MISSING`: `header-missing` (absent or empty; `details.header` names it).
 * - `SIGNATURE_EXPIRED`: `too-old` (older than the past tolerance) or `in-future` (further
 *   ahead than the future tolerance: a sender whose clock runs fast).
 * - `SIGNATURE_INVALID`: `duplicate-header`, `header-not-string`, `timestamp-malformed`,
 *   `signature-malformed`, `nonce-malformed`, `key-id-malformed`, `key-id-unknown`,
 *   `method-malformed`, `path-malformed`, `header-malformed` (a signed header with CR/LF),
 *   `signature-mismatch`, `content-digest-malformed`, `content-digest-mismatch`.
 * - `SIGNATURE_REPLAYED`: `nonce-seen`.
 */
export type SignatureFailureReason =
  | 'header-missing'
  | 'too-old'
  | 'in-future'
  | 'duplicate-header'
  | 'header-not-string'
  | 'timestamp-malformed'
  | 'signature-malformed'
  | 'nonce-malformed'
  | 'key-id-malformed'
  | 'key-id-unknown'
  | 'method-malformed'
  | 'path-malformed'
  | 'header-malformed'
  | 'signature-mismatch'
  | 'content-digest-malformed'
  | 'content-digest-mismatch'
  | 'nonce-seen';

/** A verifier's refusal: `code` from the catalogue (403), `details: { reason, header? }`. */
export function signatureFailure(
  code: SignatureFailureCode,
  reason: SignatureFailureReason,
  header?: string,
): BallastError {
  const details: Record<string, unknown> = { reason };
  if (header !== undefined) details.header = header;
  return new BallastError(code, {
    message: `Signature refused (${code}): ${reason}${header === undefined ? '' : ` (${header})`}`,
    details,
  });
}
