/**
 * The registry a consumer decodes with. It knows every event version the application speaks
 * and how to upcast between them, so `decode()` can turn anything off the wire into the version
 * a handler was written for, or refuse it with a reason: an unknown type or version is
 * `EVENT_UNKNOWN`, a bad envelope or payload `EVENT_INVALID`. Both are non-retryable, which is
 * what makes a consumer dead-letter them at once instead of burning attempts on a poison message.
 */
import { BallastError, isBallastError } from '../errors/ballast-error.js';
import { parseOptions } from '../options/parse-options.js';
import * as v from '../options/small-validator.js';
import type { StandardSchemaV1 } from '../options/standard-schema.js';
import { checkEnvelope } from './envelope-check.js';
import { type EventDefinition, type EventOutput, eventTypePattern } from './event-definition.js';
import type { EventEnvelope } from './event-envelope.js';
import { issuesReason } from './event-issues.js';
import type { EventUpcaster } from './event-upcaster.js';

/** Options for {@link createEventCatalog}. */
export interface EventCatalogOptions {
  /** Every event version the application reads or writes. A type may appear once. */
  events: readonly EventDefinition[];
  /** Steps from version N to N + 1 (at most one per version). Default: none. */
  upcasters?: readonly EventUpcaster[];
}

/** An event as a handler receives it: valid, and at the version the handler asked for. */
export interface DecodedEvent<Payload = unknown> extends EventEnvelope<Payload> {
  /** The type the event was published as, when it was upcast (`'order.created.v1'`). */
  readonly upcastFrom?: string;
}

/** Options for {@link EventCatalog.decode}. */
export interface DecodeOptions<Target extends EventDefinition | undefined = undefined> {
  /**
   * The version the caller wants: an event of an older version of the same name is upcast to it.
   * Default: the event's own version.
   */
  as?: Target;
}

/** The registry made by {@link createEventCatalog}. */
export interface EventCatalog {
  /** Every registered type, e.g. `['order.created.v1', 'order.created.v2']`. */
  readonly types: readonly string[];
  /** The definition of `type`, if registered. */
  get(type: string): EventDefinition | undefined;
  /** The newest registered version of the event `name`. */
  latest(name: string): EventDefinition | undefined;
  /**
   * Validates an envelope (object or JSON text) and its payload against the schema of its own
   * version, then upcasts it step by step to `as`. Rejects with `EVENT_INVALID` or
   * `EVENT_UNKNOWN` whose `details.reason` says why (see the docs' table); never with anything
   * else, whatever `raw` is, unless an upcaster or schema itself throws a `BallastError`.
   */
  decode<Target extends EventDefinition>(
    raw: unknown,
    options: { as: Target },
  ): Promise<DecodedEvent<EventOutput<Target>>>;
  decode(raw: unknown, options?: DecodeOptions): Promise<DecodedEvent>;
}

function isDefinition(value: unknown): value is EventDefinition {
  const candidate = value as Partial<EventDefinition> | null;
  return (
    typeof candidate?.type === 'string' &&
    typeof candidate.version === 'number' &&
    typeof candidate.create === 'function'
  );
}

const optionsSchema = v.object({
  events: v.array(v.custom<EventDefinition>(isDefinition, 'an event from defineEvent()'), {
    minLength: 1,
  }),
  upcasters: v.optional(
    v.array(
      v.custom<EventUpcaster>(
        (value) => typeof (value as Partial<EventUpcaster> | null)?.upcast === 'function',
        'an upcaster from defineUpcaster()',
      ),
    ),
  ),
});

const decodeOptionsSchema = v.object({
  as: v.optional(v.custom<EventDefinition>(isDefinition, 'an event from defineEvent()')),
});

function duplicate(field: string, what: string): BallastError {
  return new BallastError('INVALID_OPTIONS', {
    message: `Invalid options for createEventCatalog(): "${field}": ${what}`,
    details: { field },
  });
}

function refuse(
  code: 'EVENT_INVALID' | 'EVENT_UNKNOWN',
  reason: string,
  event: EventEnvelope,
  message: string,
  extra: Record<string, unknown> = {},
  cause?: unknown,
): BallastError {
  return new BallastError(code, {
    message: `${event.type} ${event.id}: ${message}`,
    details: { reason, type: event.type, eventId: event.id, ...extra },
    cause,
  });
}

async function validate(
  definition: EventDefinition,
  payload: unknown,
  event: EventEnvelope,
  reason: 'invalid-payload' | 'upcast-invalid',
): Promise<unknown> {
  const what = reason === 'invalid-payload' ? 'payload' : `payload upcast to ${definition.type}`;
  let result: StandardSchemaV1.Result<unknown>;
  try {
    result = await definition.schema['~standard'].validate(payload);
  } catch (error) {
    // A schema that throws on this payload (a zod transform, a hand-written schema's bug) cannot
    // accept it: refused like an invalid one, its error kept on `cause` as an upcaster's is.
    if (isBallastError(error)) throw error;
    throw refuse('EVENT_INVALID', reason, event, `the schema threw on the ${what}`, {}, error);
  }
  if (result.issues === undefined) return result.value;
  const issues = issuesReason(result.issues);
  throw refuse('EVENT_INVALID', reason, event, `invalid ${what}: ${issues}`, { issues });
}

/**
 * Builds the catalog a consumer decodes with.
 *
 * @example
 * ```ts
 * const catalog = createEventCatalog({
 *   events: [OrderCreated, OrderCreatedV2],
 *   upcasters: [v1ToV2],
 * });
 * const event = await catalog.decode(job.data, { as: OrderCreatedV2 }); // v1 or v2 on the wire
 * ```
 */
export function createEventCatalog(options: EventCatalogOptions): EventCatalog {
  parseOptions(optionsSchema, options, 'createEventCatalog()');
  const byType = new Map<string, EventDefinition>();
  const latestByName = new Map<string, EventDefinition>();
  for (const definition of options.events) {
    if (byType.has(definition.type)) throw duplicate('events', `${definition.type} appears twice`);
    byType.set(definition.type, definition);
    const latest = latestByName.get(definition.name);
    if (latest === undefined || latest.version < definition.version) {
      latestByName.set(definition.name, definition);
    }
  }
  const upcasterFrom = new Map<string, EventUpcaster>();
  for (const upcaster of options.upcasters ?? []) {
    for (const end of [upcaster.from, upcaster.to]) {
      if (byType.get(end.type) !== end) {
        throw duplicate('upcasters', `${end.type} is not among the catalog's events`);
      }
    }
    if (upcasterFrom.has(upcaster.from.type)) {
      throw duplicate('upcasters', `two upcasters from ${upcaster.from.type}`);
    }
    upcasterFrom.set(upcaster.from.type, upcaster);
  }

  async function decode(raw: unknown, decodeOptions: DecodeOptions<EventDefinition> = {}) {
    // A wrong `as` is the caller's bug, not the event's: it must not dead-letter every delivery.
    parseOptions(decodeOptionsSchema, decodeOptions, 'catalog.decode()');
    const event = checkEnvelope(raw);
    const target = decodeOptions.as;
    const match = eventTypePattern.exec(event.type);
    if (match === null) {
      throw refuse('EVENT_INVALID', 'invalid-envelope', event, 'type must look like name.v1', {
        field: 'type',
      });
    }
    const [, name = '', versionText = ''] = match;
    const own = byType.get(event.type);
    if (own === undefined) {
      const known = latestByName.has(name);
      throw refuse(
        'EVENT_UNKNOWN',
        known ? 'unknown-version' : 'unknown-type',
        event,
        known
          ? `version ${versionText} of ${name} is not in this consumer's catalog`
          : `no event named ${name} in this consumer's catalog`,
      );
    }
    if (target !== undefined && target.name !== own.name) {
      throw refuse('EVENT_UNKNOWN', 'wrong-event', event, `expected a version of ${target.name}`, {
        expected: target.type,
      });
    }
    if (target !== undefined && target.version < own.version) {
      throw refuse(
        'EVENT_UNKNOWN',
        'newer-version',
        event,
        `is newer than ${target.type}, which this consumer handles; deploy a consumer for it`,
        { expected: target.type },
      );
    }
    let definition = own;
    let payload = await validate(own, event.payload, event, 'invalid-payload');
    while (target !== undefined && definition.version < target.version) {
      const step = upcasterFrom.get(definition.type);
      if (step === undefined) {
        throw refuse(
          'EVENT_UNKNOWN',
          'no-upcaster',
          event,
          `no upcaster from ${definition.type} towards ${target.type}`,
          { expected: target.type },
        );
      }
      let next: unknown;
      try {
        // Awaited: an async upcaster (a plain JavaScript caller's) is not what the type allows,
        // but unawaited its rejection went unhandled, a crash on Node.
        next = await step.upcast(
          payload as never,
          { ...event, type: definition.type, payload } as never,
        );
      } catch (error) {
        // The upcaster's own error stays on `cause` (logs), out of the client-safe details.
        const message = `upcaster to ${step.to.type} threw`;
        throw refuse('EVENT_INVALID', 'upcast-failed', event, message, {}, error);
      }
      definition = step.to;
      payload = await validate(definition, next, event, 'upcast-invalid');
    }
    const decoded: DecodedEvent = { ...event, type: definition.type, payload };
    return definition === own ? decoded : { ...decoded, upcastFrom: own.type };
  }

  return {
    types: [...byType.keys()],
    get: (type) => byType.get(type),
    latest: (name) => latestByName.get(name),
    decode: decode as EventCatalog['decode'],
  };
}
