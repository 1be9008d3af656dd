/**
 * An envelope as the JSON text it travels as. Every engine carries events as JSON, so a payload
 * JSON cannot encode (a BigInt, a cycle) or leaves out (a function) is refused where the event
 * is handed over, as bad input, instead of failing later where nobody can answer for it.
 */
import { BallastError } from '../errors/ballast-error.js';
import type { EventEnvelope } from './event-envelope.js';

/**
 * `JSON.stringify(event)`, or `INVALID_OPTIONS` naming `field` for `where` when the payload does
 * not survive it.
 */
export function envelopeJson(event: EventEnvelope, where: string, field: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(event);
  } catch {
    // Refused below.
  }
  // A string cannot hold `"payload":` unescaped, so only the payload's key spells it: without
  // it, JSON left the payload out (a function, a Symbol).
  if (json?.includes('"payload":')) return json;
  throw new BallastError('INVALID_OPTIONS', {
    message: `Invalid options for ${where}: "${field}": not JSON (a BigInt, a cycle, or a function JSON leaves out)`,
    details: { field, eventId: event.id },
  });
}
