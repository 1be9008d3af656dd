/**
 * `x-request-id`, the older and looser cousin of `traceparent`. Its value is echoed into
 * response headers and written into log lines, so only a bounded, plain charset is accepted:
 * a CR/LF, a quote or a megabyte of text from a client must never reach either.
 */
import { isValidTraceId } from './trace-ids.js';

/** Default longest accepted `x-request-id`, in characters. */
export const defaultMaxRequestIdLength = 128;

// Letters, digits and the punctuation that UUIDs, ULIDs, base64url and cloud request ids use.
const safeRequestId = /^[A-Za-z0-9._:=+/@-]+$/;
const uuidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Returns `value` trimmed when it is a safe request id (1 to `maxLength` characters of
 * `A–Z a–z 0–9 . _ : = + / @ -`), otherwise `undefined`.
 */
export function parseRequestId(
  value: string | null | undefined,
  maxLength: number = defaultMaxRequestIdLength,
): string | undefined {
  if (typeof value !== 'string') return undefined;
  const id = value.trim();
  if (id.length === 0 || id.length > maxLength || !safeRequestId.test(id)) return undefined;
  return id;
}

/**
 * The trace id a request id stands for, when it can stand for one: a UUID (what the seed's
 * `crypto.randomUUID()` produces) or 32 hex digits. Lets a caller that sends only
 * `x-request-id` find its own id in the trace id of every log line.
 */
export function traceIdFromRequestId(requestId: string): string | undefined {
  const hex = uuidPattern.test(requestId) ? requestId.replaceAll('-', '') : requestId;
  const candidate = hex.toLowerCase();
  return isValidTraceId(candidate) ? candidate : undefined;
}
