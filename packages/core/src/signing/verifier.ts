/**
 * The receiving side: accepts a request only if a holder of an active secret signed exactly
 * these bytes (and, in the strict form, this method, path and these headers), within the
 * tolerance window, and — with a nonce store — only once. Every refusal is a 403 `BallastError`
 * with a stable code; malformed or hostile headers are refusals too, never crashes.
 *
 * Order of checks, cheapest first so junk costs no HMAC: presence, syntax, time window, key,
 * HMAC (constant-time), content digest, and last the nonce, so only authentic requests can
 * occupy the nonce store.
 */
import { decodeBase64, decodeHex } from '../crypto/byte-encoding.js';
import { timingSafeEqual } from '../crypto/timing-safe-equal.js';
import { BallastError } from '../errors/ballast-error.js';
import { parseOptions } from '../options/parse-options.js';
import {
  isSingleLine,
  standardWebhooksPayload,
  strictPayload,
  timestampBodyPayload,
} from './canonical-payload.js';
import { checkContentDigest } from './content-digest.js';
import { type HeaderReader, headerReader } from './header-source.js';
import { signatureFailure } from './signature-failure.js';
import {
  isValidKeyId,
  isValidNonce,
  isValidRequestTarget,
  normalizeMethod,
  parseTimestamp,
} from './signed-fields.js';
import { contentDigestHeader, resolveSigningConfig } from './signing-config.js';
import { type HmacKey, hmacSha256 } from './signing-keys.js';
import {
  type VerifiedSignature,
  type Verifier,
  type VerifierOptions,
  type VerifyInput,
  verifierSchema,
} from './verifier-config.js';

const fiveMinutes = 5 * 60 * 1000;
/** More signatures than this in one `webhook-signature` header is an attempt to burn CPU. */
const maxSignaturesPerHeader = 16;
/** 16 entries of the longest known scheme (`v1a,` + 88 base64 characters) and their spaces. */
const maxSignatureHeaderLength = 16 * 93;

function invalidInput(field: string, problem: string): BallastError {
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid input for verify(): "${field}": ${problem}`,
    details: { field, issues: [{ field, problem }] },
  });
}

/** A header that must appear once and be non-empty; refusals name it. */
function requireHeader(read: HeaderReader, name: string): string {
  const found = read(name);
  if (!found.ok) throw signatureFailure('SIGNATURE_INVALID', found.reason, name);
  if (found.value === undefined || found.value === '') {
    throw signatureFailure('SIGNATURE_MISSING', 'header-missing', name);
  }
  return found.value;
}

/** A header that may be absent, but not duplicated. Empty counts as absent. */
function optionalHeader(read: HeaderReader, name: string): string | undefined {
  const found = read(name);
  if (!found.ok) throw signatureFailure('SIGNATURE_INVALID', found.reason, name);
  return found.value === '' ? undefined : found.value;
}

/** A bare 32-byte MAC in base64 (44 characters) or hex (64 characters). */
function decodeMac(text: string): Uint8Array | undefined {
  // Length first, so a megabyte of junk is refused without scanning it.
  if (text.length === 44) return decodeBase64(text);
  if (text.length === 64) return decodeHex(text);
  return undefined;
}

/** Returns the key (of `candidates`) whose MAC over `payload` equals one of `macs`. */
async function matchingKey(
  candidates: readonly HmacKey[],
  payload: Uint8Array<ArrayBuffer>,
  macs: readonly Uint8Array[],
): Promise<HmacKey | undefined> {
  // Every candidate's HMAC runs in parallel (WebCrypto works off the main thread); a request
  // with a key id has one candidate.
  const computed =
    candidates.length === 1
      ? [await hmacSha256(candidates[0]!, payload)]
      : await Promise.all(candidates.map((key) => hmacSha256(key, payload)));
  for (let index = 0; index < candidates.length; index++) {
    for (const mac of macs) {
      if (timingSafeEqual(computed[index]!, mac)) return candidates[index];
    }
  }
  return undefined;
}

/**
 * Creates a {@link Verifier}. Validates options and secrets at once (`INVALID_OPTIONS`).
 *
 * @example The edge side of seed 003 §4, with a replay guard
 * ```ts
 * const verifier = createVerifier({
 *   secret: process.env.INTERNAL_SIGNING_SECRET!,
 *   nonceStore: new MemoryNonceStore(),
 * });
 * try {
 *   await verifier.verify({ body: rawBody, headers: request.headers, method, path });
 * } catch (error) {
 *   const problem = toProblem(error); // 403, code SIGNATURE_*
 * }
 * ```
 *
 * @example Incoming Standard Webhooks, one secret per sender
 * ```ts
 * const verifier = createVerifier({ secret: 'whsec_…', format: 'standard-webhooks' });
 * const { nonce: webhookId } = await verifier.verify({ body: rawBody, headers });
 * ```
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const parsed = parseOptions(verifierSchema, options, 'createVerifier()');
  const config = resolveSigningConfig(parsed, 'createVerifier()');
  const { format, canonical, keys, headerNames, clock, timestampUnit } = config;
  const tolerance =
    typeof parsed.toleranceMs === 'number'
      ? { past: parsed.toleranceMs, future: parsed.toleranceMs }
      : {
          past: parsed.toleranceMs?.past ?? fiveMinutes,
          future: parsed.toleranceMs?.future ?? fiveMinutes,
        };
  const nonceStore = parsed.nonceStore;
  const requireContentDigest = parsed.requireContentDigest ?? false;
  if (nonceStore && format === 'ballast' && canonical === 'seed') {
    throw new BallastError('INVALID_OPTIONS', {
      message:
        'Invalid options for createVerifier(): "nonceStore": the "seed" form cannot sign a nonce; use the default canonical: "strict" or the "standard-webhooks" format',
      details: { field: 'nonceStore' },
    });
  }
  const keysById = new Map(keys.flatMap((key) => (key.id === undefined ? [] : [[key.id, key]])));

  /** Refuses a timestamp outside the window; returns it in epoch ms. */
  function checkWindow(raw: string): number {
    const signedAt = parseTimestamp(raw, timestampUnit);
    if (signedAt === undefined) {
      throw signatureFailure('SIGNATURE_INVALID', 'timestamp-malformed', headerNames.timestamp);
    }
    const age = clock.now() - signedAt;
    if (age > tolerance.past) {
      throw signatureFailure('SIGNATURE_EXPIRED', 'too-old', headerNames.timestamp);
    }
    if (-age > tolerance.future) {
      throw signatureFailure('SIGNATURE_EXPIRED', 'in-future', headerNames.timestamp);
    }
    return signedAt;
  }

  function readNonce(read: HeaderReader): string | undefined {
    const nonce = nonceStore
      ? requireHeader(read, headerNames.nonce)
      : optionalHeader(read, headerNames.nonce);
    if (nonce !== undefined && !isValidNonce(nonce)) {
      throw signatureFailure('SIGNATURE_INVALID', 'nonce-malformed', headerNames.nonce);
    }
    return nonce;
  }

  function readContentDigest(read: HeaderReader): string | undefined {
    return requireContentDigest
      ? requireHeader(read, contentDigestHeader)
      : optionalHeader(read, contentDigestHeader);
  }

  async function checkDigestAndNonce(
    body: string | Uint8Array,
    contentDigest: string | undefined,
    nonceKey: string | undefined,
    signedAt: number,
  ): Promise<void> {
    if (contentDigest !== undefined) {
      const problem = await checkContentDigest(contentDigest, body);
      if (problem === 'mismatch') {
        throw signatureFailure('SIGNATURE_INVALID', 'content-digest-mismatch', contentDigestHeader);
      }
      if (problem !== undefined) {
        throw signatureFailure(
          'SIGNATURE_INVALID',
          'content-digest-malformed',
          contentDigestHeader,
        );
      }
    }
    // Stored until the timestamp leaves the window; after that the window itself refuses it.
    if (nonceStore && nonceKey !== undefined) {
      const firstSighting = await nonceStore.checkAndStore(nonceKey, signedAt + tolerance.past);
      if (!firstSighting) {
        throw signatureFailure('SIGNATURE_REPLAYED', 'nonce-seen', headerNames.nonce);
      }
    }
  }

  async function verifyStandardWebhook(
    read: HeaderReader,
    body: string | Uint8Array,
  ): Promise<VerifiedSignature> {
    const id = requireHeader(read, headerNames.nonce);
    const rawTimestamp = requireHeader(read, headerNames.timestamp);
    const rawSignatures = requireHeader(read, headerNames.signature);
    const contentDigest = readContentDigest(read);
    if (!isValidNonce(id)) {
      throw signatureFailure('SIGNATURE_INVALID', 'nonce-malformed', headerNames.nonce);
    }
    const signedAt = checkWindow(rawTimestamp);
    const entries =
      rawSignatures.length > maxSignatureHeaderLength
        ? []
        : rawSignatures.split(' ').filter((entry) => entry !== '');
    if (entries.length === 0 || entries.length > maxSignaturesPerHeader) {
      throw signatureFailure('SIGNATURE_INVALID', 'signature-malformed', headerNames.signature);
    }
    const macs: Uint8Array[] = [];
    for (const entry of entries) {
      // Other schemes (v1a: ed25519) are skipped, as the specification asks.
      if (!entry.startsWith('v1,')) continue;
      const mac = decodeBase64(entry.slice(3));
      if (mac?.length === 32) macs.push(mac);
    }
    if (macs.length === 0) {
      throw signatureFailure('SIGNATURE_INVALID', 'signature-malformed', headerNames.signature);
    }
    const payload = standardWebhooksPayload(id, rawTimestamp, body);
    const key = await matchingKey(keys, payload, macs);
    if (!key) throw signatureFailure('SIGNATURE_INVALID', 'signature-mismatch');
    // The id is reused by every delivery attempt of one event, each with a new timestamp: the
    // pair identifies one signed message, so retries pass and exact replays do not. Deduplicate
    // the event itself by webhook-id in your inbox.
    await checkDigestAndNonce(body, contentDigest, `whid:${id}:${rawTimestamp}`, signedAt);
    return { format, timestamp: signedAt, keyId: key.id, nonce: id };
  }

  async function verifyBallast(
    input: VerifyInput,
    read: HeaderReader,
    readJoined: HeaderReader,
    body: string | Uint8Array,
  ): Promise<VerifiedSignature> {
    const rawSignature = requireHeader(read, headerNames.signature);
    const rawTimestamp = requireHeader(read, headerNames.timestamp);
    const keyId = optionalHeader(read, headerNames.keyId);
    const nonce = canonical === 'strict' ? readNonce(read) : undefined;
    const contentDigest = readContentDigest(read);
    const signedAt = checkWindow(rawTimestamp);
    const mac = decodeMac(rawSignature);
    if (!mac) {
      throw signatureFailure('SIGNATURE_INVALID', 'signature-malformed', headerNames.signature);
    }
    let candidates = keys;
    if (keyId !== undefined) {
      if (!isValidKeyId(keyId)) {
        throw signatureFailure('SIGNATURE_INVALID', 'key-id-malformed', headerNames.keyId);
      }
      const key = keysById.get(keyId);
      if (!key) throw signatureFailure('SIGNATURE_INVALID', 'key-id-unknown', headerNames.keyId);
      candidates = [key];
    }
    let payload: Uint8Array<ArrayBuffer>;
    if (canonical === 'strict') {
      const method = normalizeMethod(input.method as string);
      if (method === undefined) throw signatureFailure('SIGNATURE_INVALID', 'method-malformed');
      if (!isValidRequestTarget(input.path as string)) {
        throw signatureFailure('SIGNATURE_INVALID', 'path-malformed');
      }
      const headers = config.signedHeaders.map((name) => {
        const found = readJoined(name);
        if (!found.ok) throw signatureFailure('SIGNATURE_INVALID', found.reason, name);
        if (found.value !== undefined && !isSingleLine(found.value)) {
          throw signatureFailure('SIGNATURE_INVALID', 'header-malformed', name);
        }
        return [name, found.value] as const;
      });
      const parts = {
        timestamp: rawTimestamp,
        method,
        path: input.path as string,
        nonce,
        headers,
        contentDigest,
      };
      payload = strictPayload(parts, body);
    } else {
      payload = timestampBodyPayload(rawTimestamp, body);
    }
    const key = await matchingKey(candidates, payload, [mac]);
    if (!key) throw signatureFailure('SIGNATURE_INVALID', 'signature-mismatch');
    await checkDigestAndNonce(
      body,
      contentDigest,
      nonce === undefined ? undefined : `nonce:${nonce}`,
      signedAt,
    );
    return { format, timestamp: signedAt, keyId: key.id, nonce };
  }

  return {
    format,
    canonical,
    async verify(input) {
      if (typeof input !== 'object' || input === null) {
        throw invalidInput('(input)', 'expected { body, headers, method?, path? }');
      }
      const body = input.body ?? '';
      if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
        throw invalidInput('body', 'expected the raw body as a string or a Uint8Array');
      }
      // A caller's programming error, reported before anything about the request.
      if (format === 'ballast' && canonical === 'strict') {
        if (typeof input.method !== 'string') {
          throw invalidInput('method', 'the strict form needs the request method');
        }
        if (typeof input.path !== 'string') {
          throw invalidInput('path', 'the strict form needs the request target (path and query)');
        }
      }
      const { single, joined } = headerReader(input.headers);
      return format === 'standard-webhooks'
        ? verifyStandardWebhook(single, body)
        : verifyBallast(input, single, joined, body);
    },
  };
}
