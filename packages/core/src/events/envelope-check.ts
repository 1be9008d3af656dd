/**
 * Reads an envelope off the wire. A queue carries whatever was put in it: an older producer, a
 * hand-written job, a truncated message. Each problem becomes `EVENT_INVALID` naming the field,
 * so the delivery is dead-lettered with a reason a person can act on, never a `TypeError`.
 */
import { BallastError } from '../errors/ballast-error.js';
import type { EventEnvelope } from './event-envelope.js';

const maxIdLength = 200;
const maxTextLength = 500;
/**
 * Text without control characters or line separators, and well-formed (every surrogate paired).
 * Ids and keys become job ids, inbox keys and log fields: a newline in one forges a log line, a
 * NUL can make two inbox keys collide, and so can a lone surrogate, which Postgres and Redis
 * store as U+FFFD (`e-\ud800` and `e-\udbff` would be one event there).
 */
export const printableText =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
  /^(?:[^\0-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;
/** `2026-12-04T10:00:00.000Z`, seconds and fraction optional, `Z` or an offset. */
const isoDateTime =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * True when the string's calendar date exists. `Date.parse` refuses a month 13 or a day 32 but
 * rolls a 30 February or a 31 April over into the next month, so a producer's bad date would be
 * read as another day. `setUTCFullYear` takes years below 100 as they are (the `Date.UTC` form
 * maps them to 19xx, whose leap years differ).
 */
function isCalendarDate(text: string): boolean {
  const year = Number(text.slice(0, 4));
  const month = Number(text.slice(5, 7)) - 1;
  const day = Number(text.slice(8, 10));
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  return date.getUTCMonth() === month && date.getUTCDate() === day;
}

function invalid(field: string, problem: string, raw: Record<string, unknown> | undefined) {
  const details: Record<string, unknown> = { reason: 'invalid-envelope', field };
  const type = raw?.type;
  const id = raw?.id;
  if (isText(type, maxTextLength)) details.type = type;
  if (isText(id, maxIdLength)) details.eventId = id;
  return new BallastError('EVENT_INVALID', {
    message: `Invalid event envelope: "${field}" ${problem}`,
    details,
  });
}

function isText(value: unknown, max: number): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= max &&
    printableText.test(value)
  );
}

function optionalText(raw: Record<string, unknown>, field: string, max: number): void {
  const value = raw[field];
  if (value === undefined || value === null) return;
  if (!isText(value, max)) {
    throw invalid(field, `must be a non-empty string of at most ${max} characters`, raw);
  }
}

/**
 * Checks the envelope's shape (not its payload). Accepts the object or its JSON text. Keys the
 * envelope does not define are ignored, so a newer producer that adds one does not break an
 * older consumer. `null` optional fields are read as absent (some engines store `undefined` so).
 */
export function checkEnvelope(raw: unknown): EventEnvelope {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      throw invalid('(envelope)', 'is not valid JSON', undefined);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid('(envelope)', 'must be an object', undefined);
  }
  const input = value as Record<string, unknown>;
  if (!isText(input.type, maxTextLength)) {
    throw invalid('type', 'must be a non-empty string like "order.created.v1"', input);
  }
  if (!isText(input.id, maxIdLength)) {
    throw invalid('id', `must be a non-empty string of at most ${maxIdLength} characters`, input);
  }
  // Date.parse alone accepts '1' or an English date; the wire format is ISO 8601 only.
  if (
    typeof input.occurredAt !== 'string' ||
    !isoDateTime.test(input.occurredAt) ||
    Number.isNaN(Date.parse(input.occurredAt)) ||
    !isCalendarDate(input.occurredAt)
  ) {
    throw invalid('occurredAt', 'must be an ISO 8601 date-time string', input);
  }
  optionalText(input, 'traceId', maxIdLength);
  optionalText(input, 'tenantId', maxIdLength);
  optionalText(input, 'key', maxTextLength);
  if (!('payload' in input) || input.payload === undefined) {
    throw invalid('payload', 'is missing', input);
  }
  const envelope: { -readonly [K in keyof EventEnvelope]: EventEnvelope[K] } = {
    type: input.type,
    id: input.id,
    occurredAt: input.occurredAt,
    payload: input.payload,
  };
  if (typeof input.traceId === 'string') envelope.traceId = input.traceId;
  if (typeof input.tenantId === 'string') envelope.tenantId = input.tenantId;
  if (typeof input.key === 'string') envelope.key = input.key;
  return envelope;
}
