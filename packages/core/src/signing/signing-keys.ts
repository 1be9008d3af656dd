/**
 * Secrets in, HMAC keys out. A secret is checked once, at construction, so a missing or weak
 * `INTERNAL_SIGNING_SECRET` stops the service at start-up instead of signing with an empty key
 * (seed 003 §4 refuses an empty secret; Ballast also refuses a short one). The HMAC itself is
 * `crypto/hmac-sha256.ts`: native on Node, WebCrypto (key imported once) elsewhere.
 */
import { decodeBase64, encodeBase64 } from '../crypto/byte-encoding.js';
import { type HmacSha256Key, hmacSha256Key } from '../crypto/hmac-sha256.js';
import { BallastError } from '../errors/ballast-error.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import type { SignatureFormat, SigningKey } from './signing-config.js';

/**
 * Minimum key length in bytes per format. 32 bytes for Ballast's own format: RFC 2104 advises
 * against HMAC keys shorter than the hash output (32 bytes for SHA-256). 24 bytes for Standard
 * Webhooks, the minimum that specification sets (and what common providers issue).
 */
export const minimumSecretBytes: Readonly<Record<SignatureFormat, number>> = {
  ballast: 32,
  'standard-webhooks': 24,
};

const webhookSecretPrefix = 'whsec_';
const encoder = /* @__PURE__ */ new TextEncoder();

/** A secret ready to use: its id and its HMAC key. */
export interface HmacKey {
  readonly id: string | undefined;
  readonly hmac: HmacSha256Key;
}

function invalidSecret(field: string, problem: string): BallastError {
  // The message names the field and the rule, never the secret or its length in characters.
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid signing secret "${field}": ${problem}`,
    details: { field, issues: [{ field, problem }] },
  });
}

/** Standard base64 as the `standardwebhooks` package reads it; padding may be omitted. */
function decodeSecretBase64(text: string): Uint8Array<ArrayBuffer> | undefined {
  return decodeBase64(text.padEnd(Math.ceil(text.length / 4) * 4, '='));
}

/** The raw key bytes of one secret in `format`, or an `INVALID_OPTIONS` naming `field`. */
export function secretBytes(
  secret: string | Uint8Array,
  format: SignatureFormat,
  field: string,
): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array<ArrayBuffer>;
  if (typeof secret === 'string') {
    if (secret.length === 0) {
      throw invalidSecret(field, 'a signing secret is required (got an empty string)');
    }
    const isWebhookSecret = secret.startsWith(webhookSecretPrefix);
    if (isWebhookSecret || format === 'standard-webhooks') {
      const encoded = isWebhookSecret ? secret.slice(webhookSecretPrefix.length) : secret;
      const decoded = decodeSecretBase64(encoded);
      if (!decoded)
        throw invalidSecret(field, 'expected base64 after the optional "whsec_" prefix');
      bytes = decoded;
    } else {
      bytes = encoder.encode(secret);
    }
  } else {
    bytes = new Uint8Array(secret);
  }
  const minimum = minimumSecretBytes[format];
  if (bytes.length < minimum) {
    throw invalidSecret(
      field,
      `too short: at least ${minimum} bytes of key material are required for the "${format}" format`,
    );
  }
  return bytes;
}

function hmacKey(id: string | undefined, bytes: Uint8Array<ArrayBuffer>): HmacKey {
  return { id, hmac: hmacSha256Key(bytes) };
}

/** Turns validated `secret`/`keyId` or `secrets` options into keys, newest first. */
export function resolveKeys(
  options: {
    readonly secret?: string | Uint8Array | undefined;
    readonly keyId?: string | undefined;
    readonly secrets?: readonly SigningKey[] | undefined;
  },
  format: SignatureFormat,
): readonly HmacKey[] {
  if (options.secrets !== undefined) {
    if (options.secret !== undefined || options.keyId !== undefined) {
      throw invalidSecret(
        'secrets',
        'give either "secret" (with an optional "keyId") or "secrets"',
      );
    }
    const seen = new Set<string>();
    return options.secrets.map((key, index) => {
      if (key.id !== undefined) {
        if (seen.has(key.id)) throw invalidSecret(`secrets.${index}.id`, 'duplicate key id');
        seen.add(key.id);
      }
      return hmacKey(key.id, secretBytes(key.secret, format, `secrets.${index}.secret`));
    });
  }
  if (options.secret === undefined) {
    throw invalidSecret('secret', 'a signing secret is required (give "secret" or "secrets")');
  }
  return [hmacKey(options.keyId, secretBytes(options.secret, format, 'secret'))];
}

/** HMAC-SHA256 of `data` under `key`: native on Node, WebCrypto elsewhere. */
export function hmacSha256(key: HmacKey, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return key.hmac.sign(data);
}

/** Options for {@link generateSigningSecret}. */
export interface GenerateSigningSecretOptions {
  /**
   * Format the secret is for. `'ballast'` (default): 32 random bytes as a base64 string, used
   * as its UTF-8 bytes like any `INTERNAL_SIGNING_SECRET`. `'standard-webhooks'`: `whsec_`
   * followed by the base64 of 32 random bytes.
   */
  readonly format?: SignatureFormat;
}

/**
 * A new random signing secret from the platform's CSPRNG (`crypto.getRandomValues`), strong
 * enough for either format. Store it in a secret manager, never in source control.
 *
 * @example
 * ```ts
 * const secret = generateSigningSecret(); // put it in INTERNAL_SIGNING_SECRET
 * const webhookSecret = generateSigningSecret({ format: 'standard-webhooks' }); // 'whsec_…'
 * ```
 */
export function generateSigningSecret(options: GenerateSigningSecretOptions = {}): string {
  const { format } = parseOptions(generateOptionsSchema, options, 'generateSigningSecret()');
  const encoded = encodeBase64(crypto.getRandomValues(new Uint8Array(32)));
  return format === 'standard-webhooks' ? `${webhookSecretPrefix}${encoded}` : encoded;
}

const generateOptionsSchema = v.object({
  format: v.optional(v.literal('ballast', 'standard-webhooks')),
});
