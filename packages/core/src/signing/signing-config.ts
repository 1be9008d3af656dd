/**
 * What a signer and a verifier must agree on: the format, the canonical form, the secrets and
 * the header names. Both sides resolve their options through this file, so a default can never
 * differ between the side that signs and the side that checks.
 */

import type { Clock } from '../clock/clock.js';
import { systemClock } from '../clock/system-clock.js';
import { BallastError } from '../errors/ballast-error.js';
import * as v from '../options/small-validator.js';
import { isValidKeyId, tokenPattern } from './signed-fields.js';
import { type HmacKey, resolveKeys } from './signing-keys.js';

/**
 * The wire format.
 * - `'ballast'`: the seed's headers (`x-timestamp`, `x-internal-signature`, optional `x-key-id`,
 *   `x-nonce`), one bare signature, timestamp in milliseconds by default.
 * - `'standard-webhooks'`: `webhook-id`, `webhook-timestamp` (seconds) and
 *   `webhook-signature: v1,<base64>` (space-separated, one per secret) over `id.timestamp.body`,
 *   as specified at https://www.standardwebhooks.com and implemented by the `standardwebhooks`
 *   package.
 */
export type SignatureFormat = 'ballast' | 'standard-webhooks';

/**
 * Which bytes the HMAC covers (format `'ballast'` only).
 * - `'strict'` (the default): a versioned, line-based form that covers the timestamp, the
 *   method, the path with its query, the nonce, the chosen
 *   {@link SigningOptionsBase.signedHeaders} (tenant id, idempotency key), `content-digest` and
 *   the body, so none of them can be swapped. Exact layout in `docs/signing.md`.
 * - `'seed'`: `${timestamp}.${body}`, byte for byte what seed 003 §4 signs, for interoperating
 *   with existing `crypto.createHmac` senders and receivers. It covers NEITHER the method, the
 *   path nor any header (tenant, idempotency key), and cannot carry a nonce: a captured request
 *   verifies again, within the tolerance window, as any other method, path or tenant with the
 *   same body. Opt in only where the other side cannot change.
 */
export type CanonicalForm = 'strict' | 'seed';

/** How the signer writes the 32-byte HMAC. Verifiers accept both. */
export type SignatureEncoding = 'base64' | 'hex';

/** Unit of the timestamp header in the `'ballast'` format (`'standard-webhooks'` is always `'s'`). */
export type TimestampUnit = 'ms' | 's';

/**
 * One secret with an optional key id, for rotation.
 *
 * A string secret is used as its UTF-8 bytes (what `crypto.createHmac('sha256', secret)` does),
 * except a `whsec_`-prefixed string, which is base64-decoded; in the `'standard-webhooks'`
 * format every string is base64 (with or without `whsec_`), as in the `standardwebhooks`
 * package. A `Uint8Array` is used as raw key bytes.
 */
export interface SigningKey {
  /**
   * Key id sent in `x-key-id` (format `'ballast'`) so the verifier picks the key without trying
   * each one. Printable ASCII without spaces or commas, at most 64 characters. Optional.
   */
  readonly id?: string;
  /** The secret: at least 32 bytes (`'ballast'`) or 24 bytes (`'standard-webhooks'`). */
  readonly secret: string | Uint8Array;
}

/** Header names, all optional; defaults depend on the format. Matched case-insensitively. */
export interface SignatureHeaderNames {
  /** Default `'x-timestamp'` (`'ballast'`) or `'webhook-timestamp'` (`'standard-webhooks'`). */
  readonly timestamp?: string;
  /** Default `'x-internal-signature'` or `'webhook-signature'`. */
  readonly signature?: string;
  /** Default `'x-key-id'`. Unused by `'standard-webhooks'`, which signs with every key instead. */
  readonly keyId?: string;
  /** The nonce: default `'x-nonce'` or `'webhook-id'` (the Standard Webhooks message id). */
  readonly nonce?: string;
}

/**
 * Request headers as the caller has them: a fetch `Headers`, or a plain object such as Node's
 * `IncomingHttpHeaders` (an array value or two keys differing only in case count as a duplicate
 * header, which the verifier refuses for its own headers).
 */
export type HeaderSource =
  | Headers
  | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Options shared by {@link createSigner} and {@link createVerifier}. */
export interface SigningOptionsBase {
  /** A single secret. Give either `secret` or `secrets`. */
  readonly secret?: string | Uint8Array;
  /** Key id for `secret` (see {@link SigningKey.id}). */
  readonly keyId?: string;
  /**
   * Several active secrets for rotation (1 to 16). The signer signs with the FIRST (the newest;
   * `'standard-webhooks'` signs with every one, as that spec's rotation requires); the verifier
   * accepts any of them.
   */
  readonly secrets?: readonly SigningKey[];
  /** Wire format. Default `'ballast'`. */
  readonly format?: SignatureFormat;
  /**
   * Canonical form for the `'ballast'` format. Default `'strict'`; `'seed'` is the seed's
   * `${timestamp}.${body}`, which covers neither method, path nor tenant (see
   * {@link CanonicalForm}).
   */
  readonly canonical?: CanonicalForm;
  /**
   * Headers covered by the `'strict'` form, in this order (lowercase names, at most 32).
   * Default `['x-tenant-id', 'idempotency-key']`. Signer and verifier must use the same list.
   * `content-digest` is always covered by the strict form and must not be listed.
   */
  readonly signedHeaders?: readonly string[];
  /** Header names; see {@link SignatureHeaderNames} for defaults. */
  readonly headerNames?: SignatureHeaderNames;
  /**
   * Unit of the timestamp header in the `'ballast'` format. Default `'ms'`, because the seed
   * sends `Date.now().toString()`. `'standard-webhooks'` always uses seconds.
   */
  readonly timestampUnit?: TimestampUnit;
  /** Source of time. Default `systemClock`. */
  readonly clock?: Clock;
}

// ---------------------------------------------------------------------------------------------
// Resolution (internal): validated options with every default filled in.

const headerNameSchema = v.transform(
  v.custom<string>(
    (value) => typeof value === 'string' && value.length <= 128 && tokenPattern.test(value),
    'an HTTP header name',
  ),
  (name) => name.toLowerCase(),
);
const secretSchema = v.union(
  v.string(),
  v.custom<Uint8Array>((value) => value instanceof Uint8Array, 'a Uint8Array'),
);
const keyIdSchema = v.custom<string>(
  (value) => typeof value === 'string' && isValidKeyId(value),
  '1–64 printable ASCII characters without space or comma',
);

/** Shape of {@link SigningOptionsBase}, spread into the signer's and verifier's schemas. */
export const signingOptionsShape = {
  secret: v.optional(secretSchema),
  keyId: v.optional(keyIdSchema),
  secrets: v.optional(
    v.array(v.object({ id: v.optional(keyIdSchema), secret: secretSchema }), {
      minLength: 1,
      maxLength: 16,
    }),
  ),
  format: v.optional(v.literal('ballast', 'standard-webhooks')),
  // 'timestamp-body' (the form's name before 0.x's strict default) is accepted here only to be
  // refused with a message that names its replacement.
  canonical: v.optional(v.literal('strict', 'seed', 'timestamp-body')),
  signedHeaders: v.optional(v.array(headerNameSchema, { maxLength: 32 })),
  headerNames: v.optional(
    v.object({
      timestamp: v.optional(headerNameSchema),
      signature: v.optional(headerNameSchema),
      keyId: v.optional(headerNameSchema),
      nonce: v.optional(headerNameSchema),
    }),
  ),
  timestampUnit: v.optional(v.literal('ms', 's')),
  clock: v.optional(
    v.custom<Clock>(
      (value) => typeof (value as Partial<Clock> | null)?.now === 'function',
      'a Clock',
    ),
  ),
};

/**
 * `shape` with {@link signingOptionsShape}'s fields. A function rather than a spread in each
 * schema: a spread at module level counts as a side effect to a bundler, which would then keep
 * the signer's and verifier's schemas in every bundle of core's single-file build.
 */
/* @__NO_SIDE_EFFECTS__ */
export function withSigningOptions<Shape extends object>(
  shape: Shape,
): typeof signingOptionsShape & Shape {
  return { ...signingOptionsShape, ...shape };
}

/** Options after validation and defaults; shared by the signer and the verifier. */
export interface ResolvedSigningConfig {
  readonly format: SignatureFormat;
  readonly canonical: CanonicalForm;
  /** Newest first. */
  readonly keys: readonly HmacKey[];
  readonly signedHeaders: readonly string[];
  readonly headerNames: Required<SignatureHeaderNames>;
  readonly timestampUnit: TimestampUnit;
  readonly clock: Clock;
}

/** The header every Standard Webhooks or strict-form message may carry (RFC 9530). */
export const contentDigestHeader = 'content-digest';

const defaultSignedHeaders = ['x-tenant-id', 'idempotency-key'] as const;
const defaultHeaderNames: Readonly<Record<SignatureFormat, Required<SignatureHeaderNames>>> = {
  ballast: {
    timestamp: 'x-timestamp',
    signature: 'x-internal-signature',
    keyId: 'x-key-id',
    nonce: 'x-nonce',
  },
  'standard-webhooks': {
    timestamp: 'webhook-timestamp',
    signature: 'webhook-signature',
    keyId: 'x-key-id',
    nonce: 'webhook-id',
  },
};

function invalidOption(field: string, problem: string, where: string): BallastError {
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid options for ${where}: "${field}": ${problem}`,
    details: { field, issues: [{ field, problem }] },
  });
}

/** Fills defaults and checks the rules a schema cannot express (which combinations make sense). */
export function resolveSigningConfig(
  options: v.InferShape<typeof signingOptionsShape>,
  where: string,
): ResolvedSigningConfig {
  const format = options.format ?? 'ballast';
  if (options.canonical === 'timestamp-body') {
    throw invalidOption(
      'canonical',
      '"timestamp-body" was renamed "seed" (and "strict" is now the default)',
      where,
    );
  }
  if (format === 'standard-webhooks' && options.canonical !== undefined) {
    throw invalidOption('canonical', 'the "standard-webhooks" format has one fixed form', where);
  }
  if (format === 'standard-webhooks' && options.timestampUnit === 'ms') {
    throw invalidOption('timestampUnit', 'Standard Webhooks timestamps are in seconds', where);
  }
  const headerNames = { ...defaultHeaderNames[format], ...options.headerNames };
  const ownHeaders = [headerNames.timestamp, headerNames.signature, headerNames.nonce];
  if (format === 'ballast') ownHeaders.push(headerNames.keyId);
  if (new Set(ownHeaders).size !== ownHeaders.length) {
    throw invalidOption('headerNames', 'each header name must be different', where);
  }
  const signedHeaders = options.signedHeaders ?? [...defaultSignedHeaders];
  if (new Set(signedHeaders).size !== signedHeaders.length) {
    throw invalidOption('signedHeaders', 'a header is listed twice', where);
  }
  for (const name of signedHeaders) {
    if (name === contentDigestHeader || ownHeaders.includes(name)) {
      throw invalidOption(
        'signedHeaders',
        `"${name}" is already covered by the strict form and must not be listed`,
        where,
      );
    }
  }
  return {
    format,
    canonical: options.canonical ?? 'strict',
    keys: resolveKeys(options, format),
    signedHeaders,
    headerNames,
    timestampUnit: format === 'standard-webhooks' ? 's' : (options.timestampUnit ?? 'ms'),
    clock: options.clock ?? systemClock,
  };
}
