/**
 * The exact bytes each format signs. Both the signer and the verifier build them here, from the
 * same parts, so "what was signed" and "what is checked" cannot drift apart.
 *
 * Every form is injective: two different requests never produce the same bytes. The seed's
 * `${timestamp}.${body}` is, because the timestamp is digits only. Standard Webhooks'
 * `${id}.${timestamp}.${body}` is, because Ballast refuses ids containing a `.`. The strict form
 * is, because every line before the body is free of CR and LF and the number and order of lines
 * is fixed by configuration (layout in `docs/signing.md` and on {@link strictPayload}).
 */

const encoder = /* @__PURE__ */ new TextEncoder();

/** First line of the strict form; a later layout gets a new tag instead of a silent change. */
export const strictFormTag = 'ballast-strict-v1';

/** `prefix` followed by `body`, as one buffer (what `crypto.subtle.sign` needs). */
export function withBody(prefix: string, body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  // One UTF-8 pass over prefix+body: concatenating strings is cheaper than copying bytes.
  if (typeof body === 'string') return encoder.encode(prefix + body);
  const head = encoder.encode(prefix);
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head, 0);
  bytes.set(body, head.length);
  return bytes;
}

/** Seed 003 §4: `${timestamp}.${body}`. */
export function timestampBodyPayload(timestamp: string, body: string | Uint8Array) {
  return withBody(`${timestamp}.`, body);
}

/** Standard Webhooks: `${id}.${timestamp}.${body}`. */
export function standardWebhooksPayload(id: string, timestamp: string, body: string | Uint8Array) {
  return withBody(`${id}.${timestamp}.`, body);
}

/** What the strict form covers besides the body. Values are already validated (no CR/LF). */
export interface StrictParts {
  readonly timestamp: string;
  /** Uppercase method. */
  readonly method: string;
  /** Path and query as sent (origin-form request target). */
  readonly path: string;
  readonly nonce: string | undefined;
  /** Signed headers in configured order, lowercase names; `undefined` value = absent. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string | undefined]>;
  readonly contentDigest: string | undefined;
}

function line(name: string, value: string | undefined): string {
  // An absent field is its bare name, so "absent" and "present but empty" differ.
  return value === undefined ? `${name}\n` : `${name}:${value}\n`;
}

/**
 * The strict form, UTF-8 encoded:
 *
 * ```text
 * ballast-strict-v1\n
 * timestamp:<digits>\n
 * method:<METHOD>\n
 * path:<path-and-query>\n
 * nonce:<nonce>\n                 (or "nonce\n" when absent)
 * <signed-header>:<value>\n       (one line per signed header, in configured order;
 *                                  "<signed-header>\n" when absent)
 * content-digest:<value>\n        (or "content-digest\n" when absent)
 * \n
 * <body bytes>
 * ```
 */
export function strictPayload(parts: StrictParts, body: string | Uint8Array) {
  let head = `${strictFormTag}\ntimestamp:${parts.timestamp}\nmethod:${parts.method}\npath:${parts.path}\n`;
  head += line('nonce', parts.nonce);
  for (const [name, value] of parts.headers) head += line(name, value);
  head += line('content-digest', parts.contentDigest);
  return withBody(`${head}\n`, body);
}

/** True when `value` may sit on one line of the strict form (no CR, LF or NUL). */
export function isSingleLine(value: string): boolean {
  return !/[\r\n\0]/.test(value);
}
