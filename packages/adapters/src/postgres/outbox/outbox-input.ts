/**
 * What `publish()` checks before any SQL: each envelope follows the rule its consumers apply,
 * and its JSON is text Postgres's jsonb can store. Refused input is `INVALID_OPTIONS` naming the
 * field, and the caller's transaction stays usable.
 */
import { BallastError, type EventEnvelope } from '@ballast/core';
import { checkEnvelope, parseOptions } from '@ballast/core/adapter-kit';
import { z } from 'zod';

// The rule a consumer's catalog applies when it reads the envelope back (core's envelope check):
// an event stored here that every consumer would dead-letter is refused now, as bad input.
const envelopeSchema = z.unknown().transform((value, context): EventEnvelope => {
  if (typeof value === 'object' && value !== null) {
    try {
      return checkEnvelope(value);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  }
  context.addIssue({ code: 'custom', message: 'must be an event envelope object' });
  return z.NEVER;
});

const envelopesSchema = z.array(envelopeSchema);

/**
 * The envelopes as `envelopesSchema` returns them. Once per publish, inside the caller's
 * transaction: core's check directly, and the schema only for the error of a refused one.
 */
export function checkEnvelopes(events: readonly EventEnvelope[]): EventEnvelope[] {
  if (Array.isArray(events)) {
    const checked: EventEnvelope[] = [];
    try {
      for (let index = 0; index < events.length; index += 1) {
        const event: unknown = events[index];
        if (typeof event !== 'object' || event === null) break;
        checked.push(checkEnvelope(event));
      }
    } catch {
      // Refused: the schema below names the field.
    }
    if (checked.length === events.length) return checked;
  }
  return parseOptions(envelopesSchema, events, 'outbox.publish()');
}

// A real escape (after an even run of backslashes) of NUL or of an unpaired surrogate, which
// JSON.stringify writes for such characters and jsonb refuses (SQLSTATE 22P05, 22P02).
const unstorableEscape = /(?:^|[^\\])(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/;

/**
 * The envelope as the JSON text the row stores. A payload that cannot be encoded (a BigInt, a
 * cycle, nesting past the stack), that JSON leaves out (a function) or that jsonb refuses is
 * refused here, as bad input, before any SQL: sent, it failed with a raw driver error and left
 * the caller's transaction aborted.
 */
export function envelopeJson(event: EventEnvelope): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(event);
  } catch {
    // Refused below.
  }
  // JSON leaves out a payload that is a function or a Symbol: stored, the event would have
  // none. A string cannot hold `"payload":` unescaped, so only a key (the payload's) spells it.
  if (json?.includes('"payload":') && !(json.includes('\\u') && unstorableEscape.test(json))) {
    return json;
  }
  throw new BallastError('INVALID_OPTIONS', {
    message:
      'Invalid options for outbox.publish(): "payload": not JSON Postgres can store (a NUL character, an unpaired surrogate, a BigInt, a cycle, too deep, or a function that JSON leaves out)',
    details: { field: 'payload', eventId: event.id },
  });
}
