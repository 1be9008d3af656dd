/**
 * Upcasters turn an event written at version N into version N + 1, so a consumer that was
 * redeployed for v2 still accepts the v1 events already in the outbox or the queue during a
 * migration, instead of dead-lettering them. One step per version keeps each function small
 * and lets the catalog chain v1 → v2 → v3 without anyone writing v1 → v3 by hand.
 */
import { BallastError } from '../errors/ballast-error.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import type { EventDefinition, EventInput, EventOutput } from './event-definition.js';
import type { EventEnvelope } from './event-envelope.js';

/** One step of a migration: version `from.version` to `from.version + 1` of one event. */
export interface EventUpcaster<
  From extends EventDefinition = EventDefinition,
  To extends EventDefinition = EventDefinition,
> {
  readonly from: From;
  readonly to: To;
  /**
   * Maps a valid payload of `from` (its schema's output) to a payload `to`'s schema accepts.
   * The result is validated against `to` before anything uses it. A promise returned by an
   * async function is awaited, and its rejection is `upcast-failed` like a throw.
   */
  readonly upcast: (
    payload: EventOutput<From>,
    event: EventEnvelope<EventOutput<From>>,
  ) => EventInput<To>;
}

function isDefinition(value: unknown): value is EventDefinition {
  const candidate = value as Partial<EventDefinition> | null;
  return (
    typeof candidate?.name === 'string' &&
    typeof candidate.version === 'number' &&
    typeof candidate.type === 'string' &&
    typeof candidate.create === 'function'
  );
}

const definition = () => v.custom<EventDefinition>(isDefinition, 'an event from defineEvent()');

/**
 * Defines how version N of an event becomes version N + 1. Both must be versions of the same
 * event name, one apart.
 *
 * @example
 * ```ts
 * const OrderCreatedV2 = defineEvent('order.created', 2, z.object({
 *   orderId: z.string(), totalCents: z.number().int(),
 * }));
 * const v1ToV2 = defineUpcaster(OrderCreated, OrderCreatedV2, (v1) => ({
 *   orderId: v1.orderId, totalCents: Math.round(v1.total * 100),
 * }));
 * ```
 */
export function defineUpcaster<From extends EventDefinition, To extends EventDefinition>(
  from: From,
  to: To,
  upcast: EventUpcaster<From, To>['upcast'],
): EventUpcaster<From, To> {
  const where = 'defineUpcaster()';
  parseOptions(
    v.object({ from: definition(), to: definition(), upcast: v.func() }),
    { from, to, upcast },
    where,
  );
  if (from.name !== to.name || to.version !== from.version + 1) {
    throw new BallastError('INVALID_OPTIONS', {
      message: `Invalid options for ${where}: "to": expected ${from.name}.v${from.version + 1} (the next version of ${from.type}), received ${to.type}`,
      details: { field: 'to' },
    });
  }
  return Object.freeze({ from, to, upcast });
}
