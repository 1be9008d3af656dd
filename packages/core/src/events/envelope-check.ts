/**
 * Reads an envelope off the wire. A queue carries whatever was put in it: an older producer, a
 * hand-written job, a truncated message. Each problem becomes `EVENT_INVALID` naming the field,
 * so the delivery is dead-lettered with a reason a person can act on, never a `TypeError`.
 */
import { BallastError } from '../errors/ballast-error.js';
import type { EventEnvelope } from './event-envelope.js';

const maxIdLength = 200;
const maxTextLength = 500;

function invalid(field: string, problem: string, raw: Record<string, unknown> | undefined) {
  const details: Record<string, unknown> = { reason: 'invalid-envelope', field };
  if (typeof raw?.type === 'string') details.type = raw.type.slice(0, maxTextLength);
  if (typeof raw?.id === 'string') details.eventId = raw.id.slice(0, maxIdLength);
  return new BallastError('EVENT_INVALID', {
    message: `Invalid event envelope: "${field}" ${problem}`,
    details,
  });
}

function optionalText(raw: Record<string, unknown>, field: string, max: number): void {
  const value = raw[field];
  if (value === undefined || value === null) return;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
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
  if (
    typeof input.type !== 'string' ||
    input.type.length === 0 ||
    input.type.length > maxTextLength
  ) {
    throw invalid('type', 'must be a non-empty string like "order.created.v1"', input);
  }
  if (typeof input.id !== 'string' || input.id.length === 0 || input.id.length > maxIdLength) {
    throw invalid('id', `must be a non-empty string of at most ${maxIdLength} characters`, input);
  }
  if (typeof input.occurredAt !== 'string' || Number.isNaN(Date.parse(input.occurredAt))) {
    throw invalid('occurredAt', 'must be an ISO 8601 date string', input);
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
