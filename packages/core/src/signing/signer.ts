/**
 * The sending side of a signed call: turns a request (body, and for the strict form its method,
 * path and chosen headers) into the headers that prove it came from a holder of the secret, at
 * a given time, unchanged. Secrets are validated and imported once, at construction.
 */
import { encodeBase64, encodeHex } from '../crypto/byte-encoding.js';
import { BallastError } from '../errors/ballast-error.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import {
  isSingleLine,
  standardWebhooksPayload,
  strictPayload,
  timestampBodyPayload,
} from './canonical-payload.js';
import { createContentDigest } from './content-digest.js';
import { headerReader } from './header-source.js';
import {
  formatTimestamp,
  isValidNonce,
  normalizeMethod,
  requestTargetOf,
} from './signed-fields.js';
import {
  type CanonicalForm,
  contentDigestHeader,
  type HeaderSource,
  resolveSigningConfig,
  type SignatureEncoding,
  type SignatureFormat,
  type SigningOptionsBase,
  withSigningOptions,
} from './signing-config.js';
import { hmacSha256 } from './signing-keys.js';

/** Options for {@link createSigner}: the shared ones plus how to write the signature. */
export interface SignerOptions extends SigningOptionsBase {
  /** How the HMAC is written in the `'ballast'` format. Default `'base64'` (the seed's). */
  readonly encoding?: SignatureEncoding;
  /**
   * Send a fresh random nonce (`crypto.randomUUID()`) with every request, so a verifier with a
   * `nonceStore` can refuse replays. Strict form only (the seed's form has no place for it).
   * Default `true` in the strict form. The Standard Webhooks format always sends a `webhook-id`.
   */
  readonly nonce?: boolean;
  /**
   * Add a `content-digest: sha-256=:…:` header (RFC 9530). The strict form signs it. Default
   * `false`.
   */
  readonly contentDigest?: boolean;
}

/** One request to sign. */
export interface SignInput {
  /** The body exactly as it will be sent: a string (sent as UTF-8) or bytes. Default `''`. */
  readonly body?: string | Uint8Array;
  /** HTTP method. Required by the strict form; uppercased. */
  readonly method?: string;
  /**
   * Path with query (`/contracts?tenant=a`) or the absolute URL to be fetched. Required by the
   * strict form, which signs {@link requestTargetOf} of it: the target `fetch` will send.
   */
  readonly path?: string;
  /** Headers the request will carry; the strict form reads the signed headers' values here. */
  readonly headers?: HeaderSource;
  /** Signing time (epoch ms or a `Date`). Default: the clock's now. */
  readonly timestamp?: number | Date;
  /**
   * The nonce to send instead of a random one: the `webhook-id` in the Standard Webhooks format
   * (the event id, reused across delivery retries), `x-nonce` in the strict form. Printable
   * ASCII without space, comma or `.`, at most 200 characters.
   */
  readonly nonce?: string;
}

/** Headers to add to the request, by lowercase name. */
export type SignatureHeaders = Record<string, string>;

/** Signs requests with the newest secret. Create one per process and reuse it. */
export interface Signer {
  readonly format: SignatureFormat;
  readonly canonical: CanonicalForm;
  /**
   * The signature headers for `input`: timestamp and signature, plus the key id, nonce and
   * `content-digest` when configured. Throws `INVALID_OPTIONS` (naming the field) for input the
   * chosen form cannot sign, e.g. a missing `method` in the strict form.
   */
  sign(input?: SignInput): Promise<SignatureHeaders>;
}

const signerSchema = v.object(
  withSigningOptions({
    encoding: v.optional(v.literal('base64', 'hex')),
    nonce: v.optional(v.boolean()),
    contentDigest: v.optional(v.boolean()),
  }),
);

function invalidInput(field: string, problem: string): BallastError {
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid input for sign(): "${field}": ${problem}`,
    details: { field, issues: [{ field, problem }] },
  });
}

function timestampOf(input: SignInput, now: () => number): number {
  const { timestamp } = input;
  const epochMs = timestamp instanceof Date ? timestamp.getTime() : (timestamp ?? now());
  if (typeof epochMs !== 'number' || !Number.isFinite(epochMs) || epochMs < 0) {
    throw invalidInput('timestamp', 'expected epoch milliseconds or a valid Date');
  }
  return epochMs;
}

function bodyOf(input: SignInput): string | Uint8Array {
  const body = input.body ?? '';
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw invalidInput('body', 'expected a string or a Uint8Array');
  }
  return body;
}

/**
 * Creates a {@link Signer}. Validates the options and the secrets' strength at once
 * (`INVALID_OPTIONS` naming the field, e.g. `secret` when `INTERNAL_SIGNING_SECRET` is empty).
 *
 * @example The default strict form: method, path, tenant, idempotency key and a nonce signed
 * ```ts
 * const signer = createSigner({
 *   secrets: [{ id: '2025-06', secret: current }, { id: '2025-01', secret: previous }],
 * });
 * const headers = { 'x-tenant-id': tenantId, 'idempotency-key': key };
 * const signature = await signer.sign({ method: 'POST', path: '/contracts', headers, body });
 * ```
 *
 * @example Seed 003 §4, byte for byte (opt-in; covers neither method, path nor tenant)
 * ```ts
 * const signer = createSigner({ secret: process.env.INTERNAL_SIGNING_SECRET!, canonical: 'seed' });
 * const body = JSON.stringify(payload);
 * const headers = await signer.sign({ body });
 * await fetch(url, { method: 'POST', body, headers: { ...headers, 'x-tenant-id': tenantId } });
 * ```
 *
 * @example Outgoing Standard Webhooks
 * ```ts
 * const signer = createSigner({ secret: 'whsec_…', format: 'standard-webhooks' });
 * const headers = await signer.sign({ nonce: event.id, body: JSON.stringify(event) });
 * ```
 */
export function createSigner(options: SignerOptions): Signer {
  const parsed = parseOptions(signerSchema, options, 'createSigner()');
  const config = resolveSigningConfig(parsed, 'createSigner()');
  const { format, canonical, keys, headerNames, clock } = config;
  const encoding = parsed.encoding ?? 'base64';
  const withContentDigest = parsed.contentDigest ?? false;
  const withNonce = parsed.nonce ?? canonical === 'strict';
  if (parsed.nonce === true && format === 'ballast' && canonical === 'seed') {
    throw new BallastError('INVALID_OPTIONS', {
      message:
        'Invalid options for createSigner(): "nonce": the "seed" form cannot sign a nonce; use the default canonical: "strict"',
      details: { field: 'nonce' },
    });
  }
  if (encoding === 'hex' && format === 'standard-webhooks') {
    throw new BallastError('INVALID_OPTIONS', {
      message:
        'Invalid options for createSigner(): "encoding": Standard Webhooks signatures are base64',
      details: { field: 'encoding' },
    });
  }
  const newest = keys[0]!;
  const now = () => clock.now();

  /** The caller's nonce, else a generated one when `generate` is given. */
  function nonceOf(input: SignInput, generate: (() => string) | undefined): string | undefined {
    if (input.nonce === undefined) return generate?.();
    if (typeof input.nonce !== 'string' || !isValidNonce(input.nonce)) {
      throw invalidInput(
        'nonce',
        'expected 1–200 printable ASCII characters without space, comma or "."',
      );
    }
    return input.nonce;
  }

  async function signStandardWebhook(input: SignInput): Promise<SignatureHeaders> {
    const body = bodyOf(input);
    const id = nonceOf(input, () => `msg_${crypto.randomUUID().replaceAll('-', '')}`)!;
    const timestamp = formatTimestamp(timestampOf(input, now), 's');
    const payload = standardWebhooksPayload(id, timestamp, body);
    // Every active secret signs, so receivers still on the previous secret keep verifying
    // during a rotation (the Standard Webhooks rotation scheme).
    const macs = await Promise.all(keys.map((key) => hmacSha256(key, payload)));
    const headers: SignatureHeaders = {
      [headerNames.nonce]: id,
      [headerNames.timestamp]: timestamp,
      [headerNames.signature]: macs.map((mac) => `v1,${encodeBase64(mac)}`).join(' '),
    };
    if (withContentDigest) headers[contentDigestHeader] = await createContentDigest(body);
    return headers;
  }

  async function signBallast(input: SignInput): Promise<SignatureHeaders> {
    const body = bodyOf(input);
    const timestamp = formatTimestamp(timestampOf(input, now), config.timestampUnit);
    if (canonical === 'seed' && input.nonce !== undefined) {
      throw invalidInput('nonce', 'the "seed" form cannot sign a nonce');
    }
    const nonce = nonceOf(input, withNonce ? () => crypto.randomUUID() : undefined);
    const contentDigest = withContentDigest ? await createContentDigest(body) : undefined;
    let payload: Uint8Array<ArrayBuffer>;
    if (canonical === 'strict') {
      const method = typeof input.method === 'string' ? normalizeMethod(input.method) : undefined;
      if (method === undefined)
        throw invalidInput('method', 'the strict form needs an HTTP method');
      const path = typeof input.path === 'string' ? requestTargetOf(input.path) : undefined;
      if (path === undefined) {
        throw invalidInput('path', 'the strict form needs a path starting with "/" or a URL');
      }
      const read = headerReader(input.headers).joined;
      const headers = config.signedHeaders.map((name) => {
        const found = read(name);
        if (!found.ok || (found.value !== undefined && !isSingleLine(found.value))) {
          throw invalidInput(`headers.${name}`, 'expected a single-line string');
        }
        return [name, found.value] as const;
      });
      payload = strictPayload({ timestamp, method, path, nonce, headers, contentDigest }, body);
    } else {
      payload = timestampBodyPayload(timestamp, body);
    }
    const mac = await hmacSha256(newest, payload);
    const headers: SignatureHeaders = {
      [headerNames.timestamp]: timestamp,
      [headerNames.signature]: encoding === 'hex' ? encodeHex(mac) : encodeBase64(mac),
    };
    if (newest.id !== undefined) headers[headerNames.keyId] = newest.id;
    if (nonce !== undefined) headers[headerNames.nonce] = nonce;
    if (contentDigest !== undefined) headers[contentDigestHeader] = contentDigest;
    return headers;
  }

  return {
    format,
    canonical,
    async sign(input = {}) {
      if (typeof input !== 'object' || input === null) {
        throw invalidInput(
          '(input)',
          'expected { body?, method?, path?, headers?, timestamp?, nonce? }',
        );
      }
      return format === 'standard-webhooks' ? signStandardWebhook(input) : signBallast(input);
    },
  };
}
